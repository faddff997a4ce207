package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// JUnit report (docs/commands.md#junit-reports), as GitLab and Jenkins
// read it: totals on the root and on each suite, one suite per run, one
// test case per host, a type and a body on every failure and error.
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	junitTotals
	Suites []junitSuite `xml:"testsuite"`
}

type junitTotals struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

type junitSuite struct {
	junitTotals
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// add counts c in the totals.
func (t *junitTotals) add(c *junitCase) {
	t.Tests++
	switch {
	case c.Failure != nil:
		t.Failures++
	case c.Error != nil:
		t.Errors++
	case c.Skipped != nil:
		t.Skipped++
	}
}

func writeJUnit(path string, results []*runner.RunResult) error {
	out := junitSuites{junitTotals: junitTotals{Name: "driftless"}}
	var total time.Duration
	for _, r := range results {
		name := r.Run.Association
		if name == "" {
			name = "exec"
		}
		d := r.Run.EndedAt.Sub(r.Run.StartedAt)
		total += d
		s := junitSuite{junitTotals: junitTotals{Name: name, Time: secondsStr(d)}, Timestamp: r.Run.StartedAt.UTC().Format("2006-01-02T15:04:05")}
		for i := range r.Hosts {
			tc := junitHostCase(name, r.Run.Mode, &r.Hosts[i])
			s.add(&tc)
			out.add(&tc)
			s.Cases = append(s.Cases, tc)
		}
		out.Suites = append(out.Suites, s)
	}
	out.Time = secondsStr(total)
	return writeJUnitFile(path, out)
}

// junitHostCase is the test case of one host: a failure when it failed,
// timed out or drifted, an error when it could not be reached or was
// cancelled, skipped when it was skipped.
func junitHostCase(assoc string, mode journal.Mode, h *journal.HostResult) junitCase {
	tc := junitCase{Name: assoc + " on " + h.Host, Classname: "driftless." + assoc, Time: secondsStr(h.EndedAt.Sub(h.StartedAt))}
	var detail strings.Builder
	for _, st := range h.Steps {
		fmt.Fprintf(&detail, "%s: %s", st.Name, st.Status)
		if st.Error != "" {
			fmt.Fprintf(&detail, " (%s)", wholeLine(st.Error))
		}
		if st.Differ != "" {
			fmt.Fprintf(&detail, "\n%s", strings.TrimRight(safeText(st.Differ), "\n"))
		}
		detail.WriteString("\n")
	}
	tc.SystemOut = detail.String()
	// The body: the whole error and detail of the host, then its steps.
	body := func(message string) string {
		var b strings.Builder
		for _, s := range []string{h.Error, h.Detail} {
			if s = strings.TrimSpace(safeText(s)); s != "" {
				b.WriteString(s + "\n")
			}
		}
		b.WriteString(detail.String())
		if strings.TrimSpace(b.String()) == "" {
			return message
		}
		return b.String()
	}
	msg := string(h.Status) + ": " + hostNote(*h, 0)
	switch o := hostOutcome(mode, h); o {
	case outFailed, outTimedOut:
		tc.Failure = &junitMessage{Message: msg, Type: string(h.Status), Text: body(msg)}
	case outUnreachable, outCancelled:
		tc.Error = &junitMessage{Message: msg, Type: string(h.Status), Text: body(msg)}
	case outSkipped:
		tc.Skipped = &junitMessage{Message: wholeLine(h.Detail)}
	case outDrifted:
		tc.Failure = &junitMessage{Message: "drift found", Type: string(journal.StatusDrifted), Text: body("drift found")}
	case outCompliant, outCorrected, outOK:
	}
	return tc
}

// writeValidationJUnit is the JUnit report of a command that ran nothing
// because its files are invalid: one failed test case per problem, named
// by its file:line.
func writeValidationJUnit(path string, errs []*diag.Error) error {
	s := junitSuite{junitTotals: junitTotals{Name: "validate", Time: secondsStr(0)}, Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05")}
	for _, e := range errs {
		where := e.File
		if e.Pos.Line > 0 {
			where += fmt.Sprintf(":%d", e.Pos.Line)
		}
		text := e.Error()
		msg, _, _ := strings.Cut(text, "\n")
		tc := junitCase{Name: "validate " + where, Classname: "driftless.validate", File: e.File, Time: secondsStr(0),
			Failure: &junitMessage{Message: msg, Type: "Invalid", Text: text + "\nnothing was run\n"}}
		s.add(&tc)
		s.Cases = append(s.Cases, tc)
	}
	out := junitSuites{junitTotals: s.junitTotals, Suites: []junitSuite{s}}
	out.Name = "driftless"
	return writeJUnitFile(path, out)
}

func writeJUnitFile(path string, out junitSuites) error {
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func secondsStr(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
)

type paramJSON struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Description    string   `json:"description,omitempty"`
	Required       bool     `json:"required"`
	Default        any      `json:"default,omitempty"`
	AllowedPattern string   `json:"allowed_pattern,omitempty"`
	AllowedValues  []string `json:"allowed_values,omitempty"`
	MinItems       *int     `json:"min_items,omitempty"`
	MaxItems       *int     `json:"max_items,omitempty"`
	Secret         bool     `json:"secret,omitempty"`
}

type stepJSON struct {
	Name         string            `json:"name"`
	Action       string            `json:"action"`
	SourceAction string            `json:"source_action,omitempty"`
	Description  string            `json:"description,omitempty"`
	Precondition string            `json:"precondition,omitempty"`
	OnFailure    string            `json:"on_failure"`
	Timeout      string            `json:"timeout"`
	MaxAttempts  int               `json:"max_attempts"`
	Inputs       map[string]string `json:"inputs"`
	ForEach      string            `json:"for_each,omitempty"` // "{{ NAME }}", or the literal list as JSON
	Notify       []string          `json:"notify,omitempty"`
	Handler      bool              `json:"handler,omitempty"`
}

type docJSON struct {
	Name        string      `json:"name"`
	File        string      `json:"file,omitempty"`
	Format      string      `json:"format"`
	Builtin     bool        `json:"builtin"`
	Description string      `json:"description,omitempty"`
	Hash        string      `json:"hash"`
	Parameters  []paramJSON `json:"parameters"`
	Steps       []stepJSON  `json:"steps,omitempty"`
}

func runDocuments(c *cli.Context, u *ui) error {
	if c.NArg() > 1 {
		return usageError("documents takes at most one NAME, got %d", c.NArg())
	}
	if c.Bool("script") {
		return printScript(c, u)
	}
	for _, f := range []string{"host", "check", "shell"} {
		if c.IsSet(f) {
			return usageError("--%s goes with --script", f)
		}
	}
	var list diag.List
	docs := config.LoadDocuments(configOptions(c).Dir, &list)
	if err := u.diagnostics(&list); err != nil {
		return err
	}
	cfg := &config.Config{Documents: docs}
	if c.NArg() == 1 {
		name := c.Args().First()
		d := docs[name]
		if d == nil {
			msg := fmt.Sprintf("unknown document %q", name)
			if s := diag.Suggest(name, cfg.DocumentNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return usageError("%s", msg)
		}
		if u.json {
			return u.printJSON(docToJSON(d, true))
		}
		showDocument(u, d)
		return nil
	}
	if u.json {
		out := []docJSON{}
		for _, name := range cfg.DocumentNames() {
			out = append(out, docToJSON(docs[name], false))
		}
		return u.printJSON(out)
	}
	// On a narrow terminal, without PARAMETERS (documents NAME has them).
	table := func(params bool) func() ([]string, [][]string) {
		return func() ([]string, [][]string) {
			var rows [][]string
			for _, name := range cfg.DocumentNames() {
				d := docs[name]
				row := []string{d.Name, d.Format, fmt.Sprint(len(d.Steps)), paramNames(d), firstLine(d.Description, 60)}
				if !params {
					row = slices.Delete(row, 3, 4)
				}
				rows = append(rows, row)
			}
			if !params {
				return []string{"DOCUMENT", "FORMAT", "STEPS", "DESCRIPTION"}, rows
			}
			return []string{"DOCUMENT", "FORMAT", "STEPS", "PARAMETERS", "DESCRIPTION"}, rows
		}
	}
	u.tableFirstFit(table(true), table(false))
	return nil
}

func paramNames(d *documents.Document) string {
	var names []string
	for _, p := range d.Params {
		n := p.Name
		if p.Required() {
			n += "*"
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

func firstLine(s string, max int) string {
	s = strings.TrimSpace(s)
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(l, "#"))
		if l == "" {
			continue
		}
		if len([]rune(l)) > max {
			l = string([]rune(l)[:max-1]) + "…"
		}
		return l
	}
	return ""
}

func docToJSON(d *documents.Document, full bool) docJSON {
	j := docJSON{Name: d.Name, File: d.File, Format: d.Format, Builtin: d.File == "", Description: d.Description, Hash: d.Hash, Parameters: []paramJSON{}}
	for _, p := range d.Params {
		pj := paramJSON{Name: p.Name, Type: p.Type, Description: p.Description, Required: p.Required(), AllowedValues: p.AllowedValues, Secret: p.Secret}
		if p.Default != nil {
			if p.Secret {
				pj.Default = documents.Redacted
			} else if p.Default.IsList {
				pj.Default = p.Default.List
			} else {
				pj.Default = p.Default.Str
			}
		}
		if p.AllowedPattern != nil {
			pj.AllowedPattern = p.AllowedPattern.String()
		}
		if p.MinItems >= 0 {
			pj.MinItems = &p.MinItems
		}
		if p.MaxItems >= 0 {
			pj.MaxItems = &p.MaxItems
		}
		j.Parameters = append(j.Parameters, pj)
	}
	if !full {
		return j
	}
	for _, s := range d.Steps {
		sj := stepJSON{Name: s.Name, Action: string(s.Action), Description: s.Description, OnFailure: s.OnFailure, Timeout: s.Timeout.String(), MaxAttempts: s.MaxAttempts, Inputs: map[string]string{}}
		if s.SourceAction != string(s.Action) {
			sj.SourceAction = s.SourceAction
		}
		if s.TimeoutExpr != nil {
			sj.Timeout = s.TimeoutExpr.Raw
		}
		if s.Precondition != nil {
			sj.Precondition = s.Precondition.String()
		}
		for _, name := range s.InputNames() {
			sj.Inputs[name] = inputText(s.Input(name))
		}
		if f := s.ForEach; f != nil {
			sj.ForEach = "{{ " + f.Param + " }}"
			if f.Param == "" {
				b, _ := json.Marshal(f.Items)
				sj.ForEach = string(b)
			}
		}
		sj.Notify, sj.Handler = s.Notify, s.Handler
		j.Steps = append(j.Steps, sj)
	}
	return j
}

// inputText shows an input as written.
func inputText(in *documents.Input) string {
	switch {
	case in.Str != nil:
		return in.Str.Raw
	case in.List != nil:
		parts := make([]string, len(in.List))
		for i, t := range in.List {
			parts[i] = t.Raw
		}
		return strings.Join(parts, "\n")
	}
	parts := make([]string, len(in.Map))
	for i, m := range in.Map {
		parts[i] = m.Key + "=" + inputText(m.Value)
	}
	return strings.Join(parts, ", ")
}

func showDocument(u *ui, d *documents.Document) {
	w := u.out
	where := d.File
	if where == "" {
		where = "built in"
	}
	fmt.Fprintf(w, "%s  (%s, %s)\n", u.bold(d.Name), d.Format, where)
	if d.Description != "" {
		fmt.Fprintf(w, "\n%s\n", indent(strings.TrimSpace(d.Description), "  "))
	}
	fmt.Fprintf(w, "\n%s\n", u.bold("Parameters"))
	if len(d.Params) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		var rows [][]string
		for _, p := range docToJSON(d, false).Parameters {
			def := "(required)"
			if !p.Required {
				def = fmt.Sprint(p.Default)
				if s, ok := p.Default.(string); ok {
					def = fmt.Sprintf("%q", s)
				}
			}
			var rules []string
			if p.AllowedPattern != "" {
				rules = append(rules, "pattern "+p.AllowedPattern)
			}
			if len(p.AllowedValues) > 0 {
				rules = append(rules, "one of "+strings.Join(p.AllowedValues, "|"))
			}
			if p.MinItems != nil {
				rules = append(rules, fmt.Sprintf("min %d items", *p.MinItems))
			}
			if p.MaxItems != nil {
				rules = append(rules, fmt.Sprintf("max %d items", *p.MaxItems))
			}
			if p.Secret {
				rules = append(rules, "secret")
			}
			rows = append(rows, []string{p.Name, p.Type, def, strings.Join(rules, "; "), firstLine(p.Description, 50)})
		}
		u.table([]string{"NAME", "TYPE", "DEFAULT", "RULES", "DESCRIPTION"}, rows)
	}
	fmt.Fprintf(w, "\n%s\n", u.bold("Steps"))
	for i, s := range docToJSON(d, true).Steps {
		action := s.Action
		if s.SourceAction != "" {
			action += " (" + s.SourceAction + ")"
		}
		fmt.Fprintf(w, "  %d. %s: %s\n", i+1, s.Name, action)
		var extras []string
		if s.Precondition != "" {
			extras = append(extras, "when "+s.Precondition)
		}
		extras = append(extras, "on failure "+s.OnFailure, "timeout "+s.Timeout)
		if s.MaxAttempts > 1 {
			extras = append(extras, fmt.Sprintf("%d attempts", s.MaxAttempts))
		}
		if s.ForEach != "" {
			extras = append(extras, "for each item of "+s.ForEach)
		}
		if s.Handler {
			extras = append(extras, "handler")
		}
		if len(s.Notify) > 0 {
			extras = append(extras, "notifies "+strings.Join(s.Notify, ", "))
		}
		fmt.Fprintf(w, "     %s\n", strings.Join(extras, ", "))
		for _, name := range d.Steps[i].InputNames() {
			v := s.Inputs[name]
			if strings.Contains(v, "\n") || len(v) > 70 {
				fmt.Fprintf(w, "     %s:\n%s\n", name, indent(truncateLines(v, 8), "       | "))
			} else {
				fmt.Fprintf(w, "     %s: %s\n", name, v)
			}
		}
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func truncateLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… (%d more lines)", len(lines)-n)
}

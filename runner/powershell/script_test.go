package powershell

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/internal/pstest"
	"github.com/driftless-dev/driftless/runner/plan"
)

// psApplySteps is pstest.Steps with the options an apply script handles on top:
// on_failure continue and successAndExit, on_success end, a finally step
// with a group, an absent file.
func psApplySteps() []*plan.Step {
	steps := pstest.Steps()
	steps[0].OnFailure = "continue"
	steps[1].OnFailure = "successAndExit"
	steps[2].OnSuccessEnd = true
	steps[6].Finally = true
	steps[6].Group = "Users"
	steps[7].Absent = true
	return steps
}

// psApplyTodo is what an apply script of psApplySteps has to do: write a
// file, a line's file and a finally step's file, make a directory,
// recheck and run the powershell step, run the Linux-only one, remove a
// file.
func psApplyTodo(steps []*plan.Step) []plan.ApplyStep {
	return []plan.ApplyStep{
		{Step: steps[0], Write: []byte("new ✓\r\n")},
		{Step: steps[1]},
		{Step: steps[2], Write: []byte("10.0.0.5 db\n")},
		{Step: steps[3], Recheck: true},
		{Step: steps[4]},
		{Step: steps[6], Write: []byte("same")},
		{Step: steps[7]},
	}
}

func TestCheckScriptPSContent(t *testing.T) {
	script := CheckScript("@@DL-0011223344556677", pstest.Steps())
	checkHas(t, "check", script,
		"$DLM = '@@DL-0011223344556677'\n$ErrorActionPreference = 'Stop'\n",
		"dl_frame '-' 'facts' ('{0} {1}' -f $dl_os, $dl_uid)\n",
		// file: stat, and the old content only when it differs
		"$p = 'C:\\app\\app.toml'\ndl_stat '0' 'stat' $p $false '' ''\n"+
			"if ([IO.File]::Exists($p) -and ((dl_sha $p) -ne '"+plan.SHA256Hex([]byte("port = 8080\r\nname = ✓\r\n"))+"')) { dl_payload '0' 'cur' $p 262144 }\n",
		// directory under the profile
		"$p = [IO.Path]::Combine($env:USERPROFILE, 'app/logs')\ndl_stat '1' 'stat' $p $true '' ''\n",
		// line: the whole file, up to 8 MiB
		"dl_stat '2' 'stat' $p $false '' ''\nif ([IO.File]::Exists($p)) { dl_payload '2' 'cur' $p 8388608 }\n",
		// powershell: the check runs with the step's environment, directory and timeout
		"$dl_v = @{}\n$dl_v['DL_PARAM_motd'] = 'it''s ok'\n$dl_v['DL_PARAM_port'] = '8080'\ndl_run '3' 'check' "+psStepScript(pstest.Steps()[3].Check)+" $dl_v ('C:\\app') 90\n",
		// platform precondition on the host
		"if ($dl_os -eq 'Linux') {\ntry {\n} catch { dl_fail '4' $_ }\n} else { dl_frame '4' 'skip' 'platform' }\n",
		// sh steps are skipped on Windows
		"try {\ndl_frame '5' 'skip' 'platform'\n} catch { dl_fail '5' $_ }\n",
		// the owner the step wants is what the host compares with
		"dl_stat '6' 'stat' $p $false 'Administrators' ''\n",
		"} finally {\n\ttry { [IO.Directory]::Delete($dl_t, $true) } catch { }\n}\nexit 0\n",
	)
	// Steps that failed to render or are skipped here are not checked.
	bad := []*plan.Step{{Idx: 0, Action: "file", Path: `C:\x`, Err: errors.New("no")}, {Idx: 1, Action: "file", Path: `C:\y`, Skip: "precondition false"}}
	if s := CheckScript("@@DL-0", bad); strings.Contains(s, `C:\x`) || strings.Contains(s, `C:\y`) {
		t.Error("a failed or skipped step is checked")
	}
}

func TestApplyScriptPSContent(t *testing.T) {
	steps := psApplySteps()
	script := ApplyScript("@@DL-00", psApplyTodo(steps))
	checkHas(t, "apply", script,
		"$DLM = '@@DL-00'\n",
		// file: content in base64, written beside the target then replaced; errors reported
		"if ($dl_stop -ne '') { dl_frame '0' 'skip' $dl_stop } else {\n$dl_ok = $true\n[void]$dl_e.Clear()\ntry {\n$p = 'C:\\app\\app.toml'\ntry {\n"+
			"dl_write $p '"+base64.StdEncoding.EncodeToString([]byte("new ✓\r\n"))+"'\ndl_own $p $false '' ''\n"+
			"} catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_ok = $false }\ndl_result '0' $p $false '' ''\n"+
			"} catch { dl_fail '0' $_; $dl_ok = $false }\n}\n", // continue: no stop
		// directory: created, successAndExit stops the rest as a success
		"if (-not [IO.Directory]::Exists($p)) { [void][IO.Directory]::CreateDirectory($p) }\ndl_own $p $true '' ''\n",
		"dl_result '1' $p $true '' ''\n} catch { dl_fail '1' $_; $dl_ok = $false }\nif ($dl_ok -eq $false) { $dl_stop = 'successAndExit' }\n}\n",
		// onSuccess: exit
		"if ($dl_ok -eq $false) { $dl_stop = 'failed' }\nif ($dl_ok -eq $true) { $dl_stop = 'onSuccess' }\n",
		// powershell: recheck, then attempts, then verify
		"dl_run '3' 'recheck' ", "if ($dl_rc -ne 0) {\n$dl_a = 0\nwhile ($true) {\n$dl_a++\n",
		"dl_run '3' 'run' "+psStepScript(steps[3].Run)+" $dl_v ('C:\\app') 90\nif (($dl_rc -eq 0) -or ($dl_a -ge 2) -or ($dl_rc -eq 124)) { break }\n}\nif ($dl_rc -ne 0) { $dl_ok = $false }\n",
		"if ($dl_ok) {\n$dl_v = @{}\n", "dl_run '3' 'verify' ",
		// platform
		"if ($dl_os -ne 'Linux') { dl_frame '4' 'skip' 'platform' } else {\n",
		// finally: runs even after a stop; owner and group
		"if ($true) {\n$dl_ok = $true\n[void]$dl_e.Clear()\ntry {\n$p = 'C:\\app\\owned.txt'\n",
		"dl_own $p $false 'Administrators' 'Users'\n",
		// absent file
		"if ([IO.Directory]::Exists($p)) { throw ('{0} is a directory' -f $p) }\nif ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n",
	)
	if strings.Contains(script, "dl_run '3' 'check'") {
		t.Error("apply runs the check under the check's tag")
	}
	dir := ApplyScript("@@DL-00", []plan.ApplyStep{{Step: &plan.Step{Idx: 0, Action: "directory", Path: `C:\d`, Absent: true, Attempts: 1}}})
	if !strings.Contains(dir, "if ([IO.Directory]::Exists($p)) { [IO.Directory]::Delete($p, $true) } elseif ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n") {
		t.Error("absent directory is not removed")
	}
}

func TestPSQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"~":               "$env:USERPROFILE",
		"~/a b/c":         "[IO.Path]::Combine($env:USERPROFILE, 'a b/c')",
		`~\x`:             "[IO.Path]::Combine($env:USERPROFILE, 'x')",
		`C:\Program Data`: `'C:\Program Data'`,
	} {
		if got := psPath(in); got != want {
			t.Errorf("psPath(%q) = %s, want %s", in, got, want)
		}
	}
	// Names that differ by case would break a hashtable literal.
	if got := psVars(map[string]string{"a": "1", "A": "2"}); got != "$dl_v = @{}\n$dl_v['A'] = '2'\n$dl_v['a'] = '1'\n" {
		t.Errorf("psVars = %q", got)
	}
	b, _ := base64.StdEncoding.DecodeString(strings.Trim(psStepScript("Write-Output 'é'"), "'"))
	if string(b) != "\xef\xbb\xbfWrite-Output 'é'" {
		t.Errorf("step script %q, want UTF-8 with a BOM", b)
	}
	for in, want := range map[string]string{"NT%20AUTHORITY\\SYSTEM": `NT AUTHORITY\SYSTEM`, "100%25": "100%", "root": "root", "bad%zz": "bad%zz"} {
		if got := UnescapeField(in); got != want {
			t.Errorf("UnescapeField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPSStdin(t *testing.T) {
	script := strings.Repeat("Write-Output 'ünïcödé ✓'\n", 500)
	in, _ := io.ReadAll(Stdin(script))
	lines := strings.Split(strings.TrimSuffix(string(in), "\r\n"), "\r\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines[:len(lines)-1] {
		if len(l) != psStdinLine {
			t.Fatalf("line of %d characters", len(l))
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
	if err != nil || string(raw) != script {
		t.Fatalf("decoded %d bytes: %v", len(raw), err)
	}
	if !strings.Contains(StdinScript, "@($input) -join ''") || !strings.Contains(StdinScript, ". ([ScriptBlock]::Create($dl_src))") {
		t.Fatalf("stdin script:\n%s", StdinScript)
	}
}

// The prelude, written verbatim, is whole lines whose braces and quotes
// all close: the writer need not read it.
func TestPreludeIsClosed(t *testing.T) {
	var w indent
	depth := 0
	for _, line := range strings.SplitAfter(psPreludeText, "\n") {
		depth += w.braces(line)
	}
	if w.single || w.double || w.escaped || depth != 0 || !strings.HasSuffix(psPreludeText, "\n") {
		t.Errorf("open quote %v %v, continued %v, depth %d", w.single, w.double, w.escaped, depth)
	}
}

// Braces opened and closed on their own lines indent what is between;
// a line starting with } stands at the depth of its opening line; quoted
// lines, and braces in quotes or comments, count for nothing.
func TestWriterIndentsBraces(t *testing.T) {
	var w writer
	w.WriteString("try {\nif ($a) { x }\n$v = 'a {\n b'\n# {\n\"}\"\n} catch {\ny\n}\n")
	want := "try {\n\tif ($a) { x }\n\t$v = 'a {\n b'\n\t# {\n\t\"}\"\n} catch {\n\ty\n}\n"
	if got := w.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// checkHas fails the test for each of wants that the script (kind:
// "check", "apply") lacks, indentation aside.
func checkHas(t *testing.T, kind, script string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(unindent(script), unindent(want)) {
			t.Errorf("%s script lacks\n%s", kind, want)
		}
	}
}

// unindent drops the white space at the start of every line: the content
// tests look for statements in order, whatever their indentation.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	return strings.Join(lines, "\n")
}

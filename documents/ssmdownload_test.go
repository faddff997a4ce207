package documents

import "testing"

// agent/plugins/downloadcontent: a destinationPath that is not absolute
// (none at all included) is under the downloads directory of the
// command's orchestration directory; with none, the file is named
// "download" and a random number there. driftless keeps one such
// directory per document and names the file by the step.
func TestSSMDownloadDestination(t *testing.T) {
	src := `schemaVersion: "2.2"
mainSteps:
- action: aws:downloadContent
  name: none
  inputs: {sourceType: HTTP, sourceInfo: '{"url": "https://x/a.sh"}'}
- action: aws:downloadContent
  name: rel
  inputs: {sourceType: HTTP, sourceInfo: {url: "https://x/a.sh"}, destinationPath: boot/a.sh}
- action: aws:downloadContent
  name: abs
  inputs: {sourceType: HTTP, sourceInfo: {url: "https://x/a.sh"}, destinationPath: /opt/a.sh}
- action: aws:downloadContent
  name: win
  inputs: {sourceType: HTTP, sourceInfo: {url: "https://x/a.sh"}, destinationPath: 'C:\temp\a.ps1'}
`
	d, l := parseDoc(t, "documents/dl.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{
		"~/.driftless/ssm/dl/downloads/download-none",
		"~/.driftless/ssm/dl/downloads/boot/a.sh",
		"/opt/a.sh",
		`C:\temp\a.ps1`,
	} {
		if got := d.Steps[i].Input("destination").Str.Raw; got != want {
			t.Errorf("step %d: destination %q, want %q", i, got, want)
		}
	}
	_, l = parseDoc(t, "documents/gh.yaml", `schemaVersion: "2.2"
mainSteps:
- action: aws:downloadContent
  name: gh
  inputs: {sourceType: GitHub, sourceInfo: '{"owner":"o","repository":"r","path":"p"}'}
`)
	checkErrors(t, l, []string{`documents/gh.yaml:5:12: mainSteps[0].inputs.sourceType: aws:downloadContent sourceType "GitHub" is not supported: it makes the host fetch from the GitHub repository itself (the GitHub API, or a git clone), which needs the host to have network access to GitHub or the git server: use sourceType HTTP with the file's raw URL (https://raw.githubusercontent.com/OWNER/REPO/REF/PATH) and its sha256 in sourceInfo instead`})
}

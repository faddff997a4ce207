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

// agent/plugins/rundocument: without documentPath the step fails whatever
// its documentType; driftless refuses the document and says why.
func TestSSMRunDocumentNoPath(t *testing.T) {
	_, l := parseDoc(t, "documents/rd.yaml", `schemaVersion: "2.2"
mainSteps:
- action: aws:runDocument
  name: rd
  inputs: {documentType: SSMDocument}
`)
	checkErrors(t, l, []string{`documents/rd.yaml:5:3: mainSteps[0].inputs: aws:runDocument step "rd" needs documentPath: without it the SSM agent fails the step (with documentType LocalPath it reads the downloads directory of the run as the document, with SSMDocument it asks AWS for a document with no name); name a document of the config dir (or a built-in) in documentPath`})
}

package documents

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
)

// ssmSourceTypeRefusal is why driftless does not download an
// aws:downloadContent source of type typ ("" for HTTP, which it does).
func ssmSourceTypeRefusal(typ string) string {
	switch typ {
	case "HTTP":
		return ""
	case "S3":
		return "aws:downloadContent sourceType \"S3\" is not supported: it downloads from Amazon S3, which needs AWS: use sourceType HTTP with the object's HTTPS (or presigned) URL, or the download action with source = a file of the config dir, instead"
	case "SSMDocument":
		return "aws:downloadContent sourceType \"SSMDocument\" is not supported: it downloads a document from AWS Systems Manager, which needs AWS: put the document in documents/ and nest it with aws:runDocument instead"
	case "GitHub", "Git":
		return fmt.Sprintf("aws:downloadContent sourceType %q is not supported: it makes the host fetch from the %s repository itself (the GitHub API, or a git clone), which needs the host to have network access to GitHub or the git server: use sourceType HTTP with the file's raw URL (https://raw.githubusercontent.com/OWNER/REPO/REF/PATH) and its sha256 in sourceInfo instead, which driftless fetches on the control machine and checks", typ, typ)
	}
	return fmt.Sprintf("aws:downloadContent sourceType %q is not supported: driftless downloads HTTP sources (use sourceType HTTP with a raw file URL, or the download action with source = a file of the config dir)", typ)
}

// ssmSource is an aws:downloadContent source whose sourceType, or whose
// sourceInfo string, is a template ("{{ sourceType }}", "{{ sourceInfo }}"
// with a String or StringMap parameter holding the JSON, as
// AWS-RunRemoteScript and AWS-ApplyAnsiblePlaybooks write them). SSM
// substitutes parameters first and the plugin reads the result, so
// driftless reads them once rendered, per association and host: an HTTP
// source gives the url and sha256 of the download; any other type fails
// the step with the reason it is not supported.
type ssmSource struct {
	typ, info *Template
}

// ssmDeferredSource sets the url and sha256 inputs of s to be read from
// the templated source st, si when sourceType is a template, or
// sourceInfo a template that is not JSON as written; it reports whether
// it did (false: the source is read now).
func ssmDeferredSource(c cfgtree.Checker, st, si *cfgtree.Node, s *Step) bool {
	typ, err := ParseTemplate(st.Str)
	if err != nil {
		c.Errf(st, "%v", err)
		return true
	}
	var info *Template
	infoRefs := false
	switch {
	case si == nil:
		info = Literal("")
	case si.Kind == cfgtree.String:
		if info, err = ParseTemplate(si.Str); err != nil {
			c.Errf(si, "%v", err)
			return true
		}
		infoRefs = info.HasRefs() && !json.Valid([]byte(si.Str))
	default:
		text, err := NodeJSON(si)
		if err != nil {
			c.Errf(si, "%v", err)
			return true
		}
		if info, err = ParseTemplate(text); err != nil {
			c.Errf(si, "%v", err)
			return true
		}
	}
	if !typ.HasRefs() && !infoRefs {
		return false
	}
	if !typ.HasRefs() {
		if why := ssmSourceTypeRefusal(typ.Raw); why != "" {
			c.Errf(st, "%s", why)
			return true
		}
	}
	src := &ssmSource{typ: typ, info: info}
	for _, name := range []string{"url", "sha256"} {
		s.Inputs[name] = &Input{Name: name, Pos: st.Pos, Path: st.Path, kind: inStr, Str: Literal(""), src: src}
	}
	return true
}

// field renders the source and returns its url or sha256 (name).
func (src *ssmSource) field(sc *Scope, name string) (string, error) {
	typ, err := src.typ.Render(sc)
	if err != nil {
		return "", fmt.Errorf("sourceType: %w", err)
	}
	if why := ssmSourceTypeRefusal(typ); why != "" {
		return "", fmt.Errorf("%s", why)
	}
	text, err := src.info.Render(sc)
	if err != nil {
		return "", fmt.Errorf("sourceInfo: %w", err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(text), &info); err != nil {
		return "", fmt.Errorf("aws:downloadContent sourceInfo is not a JSON object once rendered: %v", err)
	}
	v, _ := info[name].(string)
	switch name {
	case "url":
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("aws:downloadContent sourceInfo url: expected an http:// or https:// URL, got %q", v)
		}
	case "sha256":
		if v != "" && !sha256Re.MatchString(strings.TrimSpace(v)) {
			return "", fmt.Errorf("aws:downloadContent sourceInfo sha256: expected a SHA-256 checksum (64 hexadecimal digits), got %q", v)
		}
		v = strings.TrimSpace(v)
	}
	return v, nil
}

// ssmCheckSources refuses an aws:downloadContent step whose sourceType is
// one parameter that allows only types driftless does not download
// (AWS-RunRemoteScript allows GitHub and S3): whatever value it is given,
// the step cannot run, so the document is refused when it loads, with
// the reason for each type.
func ssmCheckSources(c cfgtree.Checker, d *Document) {
	for _, s := range d.Steps {
		in := s.Inputs["url"]
		if in == nil || in.src == nil {
			continue
		}
		name, ok := in.src.typ.SoleParam()
		p := d.Param(name)
		if !ok || p == nil || len(p.AllowedValues) == 0 || slices.Contains(p.AllowedValues, "HTTP") {
			continue
		}
		var why []string
		for _, v := range p.AllowedValues {
			why = append(why, ssmSourceTypeRefusal(v))
		}
		c.L.Addf(c.File, in.Pos, in.Path, "aws:downloadContent sourceType %q allows only %s, and none of them is downloaded by driftless: %s", in.src.typ.Raw, strings.Join(p.AllowedValues, ", "), strings.Join(why, "; "))
	}
}

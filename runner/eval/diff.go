package eval

import (
	"bytes"
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// fileDiffs is how the file of step s, as st and the check frames fs
// describe it, differs from the content wanted (nothing: in state).
func fileDiffs(s *plan.Step, st stat, fs []frame.Frame, pending map[string]*[]byte, red *plan.Redactor) []string {
	var diffs []string
	secret := s.Secret || red.Contains(string(s.Content))
	if st.kind == 0 || st.kind == kindLink {
		diffs = append(diffs, missingOrLink(st))
		if secret {
			diffs = append(diffs, secretDiffer(nil, s.WantSize(), s.WantSHA()))
		} else if s.ContentText {
			diffs = append(diffs, unified(s.Path, "", string(s.Content)))
		}
	} else if w, isPending := pending[s.Path]; isPending {
		// An earlier step of this apply writes this file: this
		// step, later in the document, has the last word.
		if w == nil || !bytes.Equal(*w, s.Content) {
			diffs = append(diffs, "an earlier step of the document changes it")
		}
	} else if st.sha != s.WantSHA() {
		if secret {
			diffs = append(diffs, secretDiffer(&st, s.WantSize(), s.WantSHA()))
		} else if cur := frame.Last(fs, frame.Cur); cur != nil && s.ContentText && cur.Size == int64(len(cur.Payload)) && len(cur.Payload) <= plan.MaxDiffBytes {
			diffs = append(diffs, unified(s.Path, string(cur.Payload), string(s.Content)))
		} else {
			diffs = append(diffs, fmt.Sprintf("content differs (%d bytes, want %d)", st.size, s.WantSize()))
		}
	}
	return diffs
}

// lineDiffs is how the file of the line step of a differs from the file
// with the line edited in (nothing: in state), and sets what a writes
// and the mode it keeps. It builds on an earlier step's pending write of
// the file, which it records in st's kind. inState is true when the host
// found the line in state.
func lineDiffs(a *plan.ApplyStep, st *stat, fs []frame.Frame, pending map[string]*[]byte, red *plan.Redactor) (diffs []string, inState bool, err error) {
	s := a.Step
	var cur []byte
	w, isPending := pending[s.Path]
	switch {
	case isPending && w == nil:
		st.kind = 0 // an earlier step of this apply removes the file
	case isPending && plan.IsStreamed(*w):
		return nil, false, fmt.Errorf("an earlier step writes %s from a large source: the line action cannot edit it in the same run", s.Path)
	case isPending:
		cur, st.kind = *w, 1 // edit on top of an earlier step's edit
	case frame.Code(frame.Last(fs, frame.Has)) == 1:
		return nil, true, nil // the host found the line in state
	default:
		if f := frame.Last(fs, frame.Cur); f != nil {
			if f.Size > frame.MaxFile {
				return nil, false, fmt.Errorf("%s is larger than %d bytes: the line action edits smaller files", s.Path, frame.MaxFile)
			}
			cur = f.Payload
		}
	}
	if st.kind == kindLink {
		// Not followed: the link is replaced by a file of its own,
		// edited from nothing (its target is not read).
		cur = nil
	} else if s.Absent && st.kind == 0 {
		return nil, false, nil // no file, so no line
	}
	if st.kind == 0 && !s.Create {
		return nil, false, fmt.Errorf("%s does not exist (set create = true to create it)", s.Path)
	}
	next, err := EditLine(cur, s)
	if err != nil {
		return nil, false, err
	}
	if st.kind != 1 || !bytes.Equal(next, cur) {
		if st.kind != 1 {
			diffs = append(diffs, missingOrLink(*st))
		}
		switch {
		case s.Secret || red.Contains(string(next)):
			var host *stat
			if st.kind == 1 {
				host = &stat{size: int64(len(cur)), sha: plan.SHA256Hex(cur)}
			}
			diffs = append(diffs, secretDiffer(host, int64(len(next)), plan.SHA256Hex(next)))
		default:
			if d := unified(s.Path, string(cur), string(next)); d != "" {
				diffs = append(diffs, d)
			}
		}
	}
	a.Write = next
	if a.Mode == "" && st.kind == 1 && st.mode != "-" {
		a.Mode = st.mode // keep the file's mode when rewriting it
	}
	return diffs, false, nil
}

// attrDiffs is how the mode, owner and group of the path of s, as st
// says, differ from those s wants.
func attrDiffs(s *plan.Step, st stat) []string {
	var diffs []string
	if s.Mode != "" && st.mode != "-" && plan.NormMode(st.mode) != plan.NormMode(s.Mode) {
		diffs = append(diffs, fmt.Sprintf("mode %04s -> %04s", st.mode, plan.NormMode(s.Mode)))
	}
	if s.Owner != "" && st.owner != s.Owner {
		diffs = append(diffs, fmt.Sprintf("owner %s -> %s", st.owner, s.Owner))
	}
	if s.Group != "" && st.group != s.Group {
		diffs = append(diffs, fmt.Sprintf("group %s -> %s", st.group, s.Group))
	}
	return diffs
}

// missingOrLink is the first difference of a path that is not the file
// or directory wanted: nothing there, or a symlink (not followed).
func missingOrLink(st stat) string {
	if st.kind == kindLink {
		return "is a symlink"
	}
	return "missing"
}

// secretDiffer is how content holding a secret value differs, without a
// diff: sizes and SHA-256 hashes only, so that neither the wanted value
// nor an older one on the host (a secret since rotated, no longer known
// as one) is shown or journaled. host is nil when there is no file.
func secretDiffer(host *stat, wantSize int64, wantSHA string) string {
	w := fmt.Sprintf("wanted %d bytes, sha256 %s", wantSize, wantSHA)
	if host == nil {
		return "content differs (secret): " + w
	}
	return fmt.Sprintf("content differs (secret): on host %d bytes, sha256 %s; %s", host.size, host.sha, w)
}

// cr is how a carriage return shows in a diff: a line that ends in one
// differs visibly from one that does not.
const cr = "␍"

// unified is a unified diff of a text file's old and new content. Unless
// both end every line in CRLF (a Windows file, where a CR tells nothing),
// each carriage return shows as ␍.
func unified(path, old, new string) string {
	d := udiff.Unified(path+" (on host)", path+" (wanted)", old, new)
	if !strings.Contains(d, "\r") || (crlfOnly(old) && crlfOnly(new)) {
		return d
	}
	return strings.ReplaceAll(d, "\r", cr)
}

// crlfOnly reports whether every line break of s is a CRLF, and s has
// no other CR.
func crlfOnly(s string) bool {
	n := strings.Count(s, "\r\n")
	return n == strings.Count(s, "\n") && n == strings.Count(s, "\r")
}

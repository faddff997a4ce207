package plan

import (
	"slices"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/documents"
)

// Redactor replaces secret values (secret parameters, passwords from the
// environment) with ****** in everything printed or journaled.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
	r       *strings.Replacer
}

func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		// A one- or two-character secret would redact half the output
		// and protect nothing.
		if len(v) < 3 || slices.Contains(r.secrets, v) {
			continue
		}
		r.secrets = append(r.secrets, v)
		changed = true
	}
	if changed {
		// Longest first, so that a secret containing another is
		// replaced whole.
		slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(r.secrets))
		for _, s := range r.secrets {
			pairs = append(pairs, s, documents.Redacted)
		}
		r.r = strings.NewReplacer(pairs...)
	}
}

func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.r
	r.mu.RUnlock()
	if rep == nil || s == "" {
		return s
	}
	return rep.Replace(s)
}

// Contains reports whether s holds one of the secret values.
func (r *Redactor) Contains(s string) bool {
	if r == nil || s == "" {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

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
	// r replaces the secrets; made by the first Redact after an Add
	// (stale: r is out of date), so that the several Adds of a host's
	// run make one, and a run that redacts nothing, none.
	r     *strings.Replacer
	stale bool
}

func (r *Redactor) Add(values ...string) {
	if r == nil || len(values) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		// A one- or two-character secret would redact half the output
		// and protect nothing.
		if len(v) < 3 || slices.Contains(r.secrets, v) {
			continue
		}
		r.secrets = append(r.secrets, v)
		r.stale = true
	}
}

func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	rep, stale := r.r, r.stale
	r.mu.RUnlock()
	if stale {
		rep = r.replacer()
	}
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// replacer makes r.r from the secrets, if it is stale, and returns it.
func (r *Redactor) replacer() *strings.Replacer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale {
		// Longest first, so that a secret containing another is
		// replaced whole.
		slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(r.secrets))
		for _, s := range r.secrets {
			pairs = append(pairs, s, documents.Redacted)
		}
		r.r, r.stale = strings.NewReplacer(pairs...), false
	}
	return r.r
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

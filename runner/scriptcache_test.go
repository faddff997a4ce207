package runner

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func scriptKeyOf(t *testing.T, v any) string {
	t.Helper()
	var e keyEncoder
	if !e.value(reflect.ValueOf(v), 0) {
		t.Fatalf("%#v cannot be encoded", v)
	}
	return string(e.b)
}

// fullStep has every field of a step set, so that changing any one of
// them shows in its key.
func fullStep() *step {
	yes, no := true, false
	return &step{
		idx: 3, name: "n", action: "file", kind: "file", sourceDoc: "d", platform: "linux", skip: "s",
		onFailure: "continue", onSuccessEnd: true, finally: true, timeout: time.Second, attempts: 2,
		env: map[string]string{"A": "1", "B": "2"}, err: errors.New("e"),
		run: "r", check: "c", hasCheck: true, workdir: "/w", path: "/p", content: []byte("x"), contentText: true,
		mode: "0644", owner: "o", group: "g", absent: true, line: "l", lineRe: "^l", create: true,
		names: []string{"a", "b"}, pkgWant: "present", manager: "apt", service: "svc", svcRunning: &yes,
		svcEnabled: &no, patchInstall: true, rebootIfNeed: true, rebootTimeout: time.Minute, download: true,
	}
}

// changed returns a copy of v (a field's value) that differs from it.
func changed(t *testing.T, v reflect.Value) reflect.Value {
	t.Helper()
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Bool:
		out.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		out.SetInt(v.Int() + 1)
	case reflect.String:
		out.SetString(v.String() + "x")
	case reflect.Slice:
		out = reflect.Append(reflect.AppendSlice(reflect.MakeSlice(v.Type(), 0, v.Len()+1), v), reflect.New(v.Type().Elem()).Elem())
	case reflect.Map:
		out = reflect.MakeMap(v.Type())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), it.Value())
		}
		out.SetMapIndex(reflect.ValueOf("C"), reflect.ValueOf("3"))
	case reflect.Pointer:
		out = reflect.New(v.Type().Elem())
		out.Elem().Set(changed(t, v.Elem()))
	case reflect.Interface:
		out.Set(reflect.ValueOf(fmt.Errorf("e: %w", errors.ErrUnsupported))) // another type
	default:
		t.Fatalf("no change for a %s", v.Type())
	}
	return out
}

// Every field of a step is in its key: changing any one changes the key,
// and equal steps (not the same pointers) have equal keys.
func TestScriptKeyCoversEveryField(t *testing.T) {
	base := scriptKeyOf(t, []*step{fullStep()})
	if again := scriptKeyOf(t, []*step{fullStep()}); again != base {
		t.Fatal("equal steps have different keys")
	}
	typ := reflect.TypeFor[step]()
	for i := range typ.NumField() {
		s := fullStep()
		f := reflect.NewAt(typ, reflect.ValueOf(s).UnsafePointer()).Elem().Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // settable though unexported
		f.Set(changed(t, f))
		if scriptKeyOf(t, []*step{s}) == base {
			t.Errorf("field %s is not in the key", typ.Field(i).Name)
		}
	}
	// What pointers point to counts, not where; so do map entries.
	s := fullStep()
	*s.svcEnabled = true
	if scriptKeyOf(t, []*step{s}) == base {
		t.Error("the value behind svcEnabled is not in the key")
	}
	s = fullStep()
	s.env["A"] = "2"
	if scriptKeyOf(t, []*step{s}) == base {
		t.Error("a map value is not in the key")
	}
	s = fullStep()
	s.err = errors.New("f")
	if scriptKeyOf(t, []*step{s}) == base {
		t.Error("an error's message is not in the key")
	}
	if scriptKeyOf(t, []*step{fullStep(), fullStep()}) == base {
		t.Error("the number of steps is not in the key")
	}
	if scriptKeyOf(t, scriptState{salvage: -1}) == scriptKeyOf(t, scriptState{salvage: -1, unclean: true}) {
		t.Error("the script state is not in the key")
	}
	if scriptKeyOf(t, []applyStep{{s: fullStep(), write: []byte("a")}}) == scriptKeyOf(t, []applyStep{{s: fullStep(), write: []byte("b")}}) {
		t.Error("what an apply step writes is not in the key")
	}
	var e keyEncoder
	if e.value(reflect.ValueOf(struct{ f func() }{}), 0) {
		t.Error("a function was encoded")
	}
}

// A cached script is the script the builder would have made for the
// host's own marker, and it is built once for hosts with equal steps.
func TestScriptCache(t *testing.T) {
	var c scriptCache
	builds := 0
	counting := func(build func(string, []*step, scriptState) string) func(string, []*step, scriptState) string {
		return func(m string, steps []*step, st scriptState) string { builds++; return build(m, steps, st) }
	}
	check := cached(&c, "checkRun", counting(checkRunScript))
	st := scriptState{salvage: -1}
	const m1, m2, m3 = "@@DL-0000000000000001", "@@DL-0000000000000002", "@@DL-0000000000000003"
	first := check(m1, baselineSteps(), st)
	second := check(m2, baselineSteps(), st)
	if builds != 1 {
		t.Errorf("%d builds for two hosts with equal steps", builds)
	}
	if want := checkRunScript(m2, baselineSteps(), st); second != want || first == second {
		t.Errorf("the cached script is not the one built for the host's marker")
	}
	other := baselineSteps()
	other[2].line = "export BENCH_ENV=staging"
	if got := check(m3, other, st); builds != 2 || got != checkRunScript(m3, other, st) {
		t.Errorf("a host with another line: %d builds", builds)
	}
	if check(m3, baselineSteps(), scriptState{salvage: -1, unclean: true}); builds != 3 {
		t.Errorf("another script state: %d builds", builds)
	}
	// The builders' names keep their scripts apart.
	if got := cached(&c, "check", checkScript)(m1, baselineSteps(), st); got != checkScript(m1, baselineSteps(), st) {
		t.Error("the check script of a host was taken for the check-and-run script")
	}
	for i := range scriptCacheMax + 1 {
		s := baselineSteps()
		s[0].path = fmt.Sprintf("~/d%d", i)
		check(m1, s, st)
	}
	if n := len(c.m); n > scriptCacheMax {
		t.Errorf("%d scripts kept", n)
	}
	if cached(nil, "check", checkScript)(m1, baselineSteps(), st) != checkScript(m1, baselineSteps(), st) {
		t.Error("no cache")
	}
	if !strings.Contains(second, m2) || strings.Contains(second, m1) {
		t.Error("the first host's marker is in the second's script")
	}
}

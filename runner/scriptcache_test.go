package runner

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
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
func fullStep() *plan.Step {
	yes, no := true, false
	return &plan.Step{
		Idx: 3, Name: "n", Action: "file", Kind: "file", SourceDoc: "d", Platform: "linux", Skip: "s",
		OnFailure: "continue", OnSuccessEnd: true, Finally: true, Timeout: time.Second, Attempts: 2,
		Env: map[string]string{"A": "1", "B": "2"}, Err: errors.New("e"),
		Run: "r", Check: "c", HasCheck: true, Workdir: "/w", Path: "/p", Content: []byte("x"), ContentText: true,
		Mode: "0644", Owner: "o", Group: "g", Absent: true, Line: "l", LineRe: "^l", Create: true,
		Names: []string{"a", "b"}, PkgWant: "present", Manager: "apt", Service: "svc", SvcRunning: &yes,
		SvcEnabled: &no, PatchInstall: true, RebootIfNeed: true, RebootTimeout: time.Minute, Download: true,
		Stream: &plan.Stream{Dir: "/d", Name: "n", Size: 1, SHA: "s"},
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
	case reflect.Struct:
		out.Set(v)
		out.Field(0).Set(changed(t, v.Field(0)))
	default:
		t.Fatalf("no change for a %s", v.Type())
	}
	return out
}

// Every field of a step is in its key: changing any one changes the key,
// and equal steps (not the same pointers) have equal keys.
func TestScriptKeyCoversEveryField(t *testing.T) {
	base := scriptKeyOf(t, []*plan.Step{fullStep()})
	if again := scriptKeyOf(t, []*plan.Step{fullStep()}); again != base {
		t.Fatal("equal steps have different keys")
	}
	typ := reflect.TypeFor[plan.Step]()
	for i := range typ.NumField() {
		s := fullStep()
		f := reflect.NewAt(typ, reflect.ValueOf(s).UnsafePointer()).Elem().Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // settable though unexported
		f.Set(changed(t, f))
		if scriptKeyOf(t, []*plan.Step{s}) == base {
			t.Errorf("field %s is not in the key", typ.Field(i).Name)
		}
	}
	// What pointers point to counts, not where; so do map entries.
	s := fullStep()
	*s.SvcEnabled = true
	if scriptKeyOf(t, []*plan.Step{s}) == base {
		t.Error("the value behind svcEnabled is not in the key")
	}
	s = fullStep()
	s.Env["A"] = "2"
	if scriptKeyOf(t, []*plan.Step{s}) == base {
		t.Error("a map value is not in the key")
	}
	s = fullStep()
	s.Err = errors.New("f")
	if scriptKeyOf(t, []*plan.Step{s}) == base {
		t.Error("an error's message is not in the key")
	}
	if scriptKeyOf(t, []*plan.Step{fullStep(), fullStep()}) == base {
		t.Error("the number of steps is not in the key")
	}
	if scriptKeyOf(t, plan.Resume{Salvage: -1}) == scriptKeyOf(t, plan.Resume{Salvage: -1, Unclean: true}) {
		t.Error("the script state is not in the key")
	}
	if scriptKeyOf(t, []plan.ApplyStep{{Step: fullStep(), Write: []byte("a")}}) == scriptKeyOf(t, []plan.ApplyStep{{Step: fullStep(), Write: []byte("b")}}) {
		t.Error("what an apply step writes is not in the key")
	}
	// Maps: by their entries, in any order, and entries do not run into
	// each other.
	many := func(order []int) map[string]string {
		m := map[string]string{}
		for _, i := range order {
			m[fmt.Sprint("k", i)] = fmt.Sprint("v", i)
		}
		return m
	}
	if scriptKeyOf(t, many([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})) != scriptKeyOf(t, many([]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1})) {
		t.Error("equal maps have different keys")
	}
	for _, pair := range [][2]any{
		{map[string]string{"a": "bc"}, map[string]string{"ab": "c"}},
		{map[string]string{"a": "b", "c": "d"}, map[string]string{"a": "bc", "": "d"}},
		{map[string]string{}, map[string]string(nil)},
		{map[int][]string{1: {"a"}, 2: nil}, map[int][]string{1: nil, 2: {"a"}}},
	} {
		if scriptKeyOf(t, pair[0]) == scriptKeyOf(t, pair[1]) {
			t.Errorf("%v and %v have the same key", pair[0], pair[1])
		}
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
	counting := func(build func(string, []*plan.Step, plan.Resume) string) func(string, []*plan.Step, plan.Resume) string {
		return func(m string, steps []*plan.Step, st plan.Resume) string { builds++; return build(m, steps, st) }
	}
	check := text(cached(&c, "checkRun", counting(posix.CheckRunScript)))
	st := plan.Resume{Salvage: -1}
	const m1, m2, m3 = "@@DL-0000000000000001", "@@DL-0000000000000002", "@@DL-0000000000000003"
	first := check(m1, baselineSteps(), st)
	second := check(m2, baselineSteps(), st)
	if builds != 1 {
		t.Errorf("%d builds for two hosts with equal steps", builds)
	}
	if want := posix.CheckRunScript(m2, baselineSteps(), st); second != want || first == second {
		t.Errorf("the cached script is not the one built for the host's marker")
	}
	other := baselineSteps()
	other[2].Line = "export BENCH_ENV=staging"
	if got := check(m3, other, st); builds != 2 || got != posix.CheckRunScript(m3, other, st) {
		t.Errorf("a host with another Line: %d builds", builds)
	}
	if check(m3, baselineSteps(), plan.Resume{Salvage: -1, Unclean: true}); builds != 3 {
		t.Errorf("another script state: %d builds", builds)
	}
	// The builders' names keep their scripts apart.
	if got := text(cached(&c, "check", posix.CheckScript))(m1, baselineSteps(), st); got != posix.CheckScript(m1, baselineSteps(), st) {
		t.Error("the check script of a host was taken for the check-and-run script")
	}
	for i := range scriptCacheMax + 1 {
		s := baselineSteps()
		s[0].Path = fmt.Sprintf("~/d%d", i)
		check(m1, s, st)
	}
	if n := len(c.m); n > scriptCacheMax {
		t.Errorf("%d scripts kept", n)
	}
	if text(cached(nil, "check", posix.CheckScript))(m1, baselineSteps(), st) != posix.CheckScript(m1, baselineSteps(), st) {
		t.Error("no cache")
	}
	if !strings.Contains(second, m2) || strings.Contains(second, m1) {
		t.Error("the first host's marker is in the second's script")
	}
}

// text makes a cached builder give the script's text.
func text[T any](build func(string, []T, plan.Resume) hostScript) func(string, []T, plan.Resume) string {
	return func(m string, items []T, st plan.Resume) string { return build(m, items, st).String() }
}

package sshtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestStandalone(t *testing.T) {
	st := NewStandalone("st")
	var log bytes.Buffer
	st.SetOutput(&log)

	var order []string
	var dirs []string
	err := st.Do(func(tb testing.TB) {
		dirs = append(dirs, tb.TempDir(), tb.TempDir())
		tb.Cleanup(func() { order = append(order, "first") })
		tb.Cleanup(func() { order = append(order, "second") })
		tb.Logf("hello %d", 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if dirs[0] == dirs[1] || filepath.Dir(dirs[0]) != filepath.Dir(dirs[1]) || filepath.Dir(dirs[0]) == os.TempDir() {
		t.Errorf("temp dirs %v: want distinct dirs in a private parent", dirs)
	}
	if err := st.Do(func(tb testing.TB) { tb.Fatalf("boom %s", "now") }); err == nil || err.Error() != "boom now" {
		t.Errorf("Fatalf: %v", err)
	}
	if !st.Failed() {
		t.Error("Failed after Fatalf")
	}
	if err := st.Do(func(tb testing.TB) { tb.Skip("no root") }); err == nil || !strings.Contains(err.Error(), "no root") {
		t.Errorf("Skip: %v", err)
	}
	// Do may run in several goroutines at once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_ = st.Do(func(tb testing.TB) { tb.TempDir(); tb.Errorf("x") })
		})
	}
	wg.Wait()

	st.Close()
	if strings.Join(order, ",") != "second,first" {
		t.Errorf("cleanups ran %v", order)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", d, err)
		}
	}
	if !strings.Contains(log.String(), "st: hello 1\n") {
		t.Errorf("log %q", log.String())
	}
	if err := st.Do(func(tb testing.TB) {
		defer func() { recover() }()
		panic("other")
	}); err != nil {
		t.Errorf("a recovered panic: %v", err)
	}
}

func TestStandaloneStartsSSHD(t *testing.T) {
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Skip("no sshd")
	}
	st := NewStandalone("st-sshd")
	defer st.Close()
	var h *Host
	if err := st.Do(func(tb testing.TB) { h = StartSSHD(tb, Options{Name: "web-1"}) }); err != nil {
		t.Fatal(err)
	}
	if h.Port == 0 || h.KnownHostsLine() == "" {
		t.Errorf("host %+v", h)
	}
	home := h.Home
	st.Close()
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("home %s left after Close: %v", home, err)
	}
}

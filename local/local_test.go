package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/local"
)

func run(ctx context.Context, c transport.Conn, cmd *transport.Command) (int, string, string, error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code, err := c.Run(ctx, cmd)
	return code, out.String(), errOut.String(), err
}

func TestRun(t *testing.T) {
	t.Parallel()
	c := local.New("laptop")
	code, out, errOut, err := run(context.Background(), c, &transport.Command{
		Script: "echo out; echo err >&2; cat; exit 3",
		Stdin:  strings.NewReader("in\n"),
	})
	if err != nil || code != 3 || out != "out\nin\n" || errOut != "err\n" {
		t.Errorf("got code %d, out %q, err %q, %v", code, out, errOut, err)
	}
	code, _, _, err = run(context.Background(), c, &transport.Command{Script: "kill -s KILL $$"})
	if err != nil || code != 137 {
		t.Errorf("killed by SIGKILL: code %d, %v; want 137", code, err)
	}
	// No Stdin: the script reads end of file.
	code, out, _, err = run(context.Background(), c, &transport.Command{Script: "cat; echo eof"})
	if err != nil || code != 0 || out != "eof\n" {
		t.Errorf("no stdin: code %d, out %q, %v", code, out, err)
	}
}

// pidsOf lists processes whose command line is exactly args.
func pidsOf(args ...string) []string {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && string(b) == want {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
				continue // a zombie waiting for init
			}
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc")
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	s := fmt.Sprintf("300.%06d", n.Int64())
	c := local.New("laptop")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, &transport.Command{Script: "(trap '' TERM; exec sleep " + s + ") & sleep " + s + "; echo not reached"})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsOf("sleep", s)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("sleeps did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(pidsOf("sleep", s)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes survived: %v", pidsOf("sleep", s))
		}
		time.Sleep(10 * time.Millisecond)
	}

	tctx, tcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer tcancel()
	_, err := c.Run(tctx, &transport.Command{Script: "sleep 5"})
	if !errors.Is(err, transport.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v, want ErrTimeout and DeadlineExceeded", err)
	}
}

package local_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/local"
	"github.com/driftless-dev/driftless/transport"
)

// The conformance suite (conformance_test.go) checks what a caller sees;
// these tests check what is particular to the local transport.

// A script too long for one argument runs from a temporary file, which
// is removed afterwards.
func TestLongScriptLeavesNoFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	script := strings.Repeat("# padding padding padding padding padding padding padding\n", 4000) + "printf long\n"
	var out bytes.Buffer
	code, err := local.New("laptop").Run(context.Background(), &transport.Command{Script: script, Stdout: &out})
	if err != nil || code != 0 || out.String() != "long" {
		t.Fatalf("code %d, err %v, stdout %q", code, err, out.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed baseline.toml
var baselineDoc string

//go:embed check10.toml
var check10Doc string

// childTimeout bounds one measured child process.
const childTimeout = 15 * time.Minute

// moduleRoot is the directory of driftless's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (run the bench inside the driftless module, or pass -driftless and -out)", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the bench from the driftless repository, or pass -driftless and -out")
	}
	return filepath.Dir(mod), nil
}

// buildDriftless builds ./cmd/driftless of the module at root into bin.
func buildDriftless(ctx context.Context, root, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/driftless")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/driftless: %w\n%s", err, out)
	}
	return nil
}

// configDir is a driftless config dir for some hosts.
type configDir struct {
	dir string
}

// writeConfig writes a config dir in dir: an inventory of hosts (as
// reached at their Addr and Port), known_hosts for them, the document
// doc as documents/bench.toml, and one association "bench" running it
// on every host with max_concurrency conc.
func writeConfig(dir string, hosts []host, key, doc string, conc int) (*configDir, error) {
	kh := filepath.Join(dir, "known_hosts")
	var inv strings.Builder
	fmt.Fprintf(&inv, "[defaults]\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\nconnect_timeout = \"60s\"\n", key, kh)
	for _, h := range hosts {
		fmt.Fprintf(&inv, "\n[hosts.%s]\naddress = %q\nport = %d\nuser = %q\n", h.Name, h.Addr, h.Port, h.User)
	}
	assoc := fmt.Sprintf("[associations.bench]\ndocument = \"bench\"\ntargets = [\"*\"]\nmax_concurrency = \"%d\"\n", conc)
	files := map[string]string{
		"known_hosts":          knownHosts(hosts),
		"inventory.toml":       inv.String(),
		"associations.toml":    assoc,
		"documents/bench.toml": doc,
	}
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	return &configDir{dir: dir}, nil
}

// sample is one measured run.
type sample struct {
	wall time.Duration
	rss  int64         // peak RSS of the child, bytes; 0 = unknown
	cpu  time.Duration // the child's user + system CPU time
	// others is the CPU time everything else in the bench used meanwhile
	// (its ended children and itself: in scale mode, the simulated hosts
	// and the commands they ran), or 0 when unknown.
	others time.Duration
	// machine is the CPU time the whole machine was busy (hosts, sshd,
	// the child, the bench), or 0 when unknown: with real sshd hosts,
	// their share is machine - cpu.
	machine time.Duration
}

// measureChild runs a child process to its end and measures its wall
// time (start to exit), CPU time and peak RSS. A non-zero exit is an
// error holding the tail of its output.
//
// Where it can, the child is started by a spawner (this program again,
// spawnerPath): Linux gives a child started by vfork, as Go starts
// children, the peak RSS of its parent as its own starting peak, and the
// bench's own (the simulated hosts) would be the child's.
func measureChild(ctx context.Context, env []string, name string, args ...string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	cmd, usage := spawnCommand(ctx, name, args)
	cmd.Env = env
	var out outputBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began, cpuBefore, machineBefore := time.Now(), usedCPU(), machineCPU()
	err := cmd.Run()
	s := sample{wall: time.Since(began)}
	if m := machineCPU(); m > 0 {
		s.machine = m - machineBefore
	}
	if u, ok := usage(); ok {
		s.rss, s.cpu = u.rss, u.cpu
	} else if cmd.ProcessState != nil {
		s.rss = maxRSS(cmd.ProcessState)
		s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if cmd.ProcessState != nil {
		if used := usedCPU(); used > 0 {
			s.others = max(used-cpuBefore-s.cpu, 0)
		}
	}
	if err != nil {
		return s, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out.problems())
	}
	return s, nil
}

// childEnv is the environment of measured children: this one without an
// ssh-agent (keys come from files) and without colours.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SSH_AUTH_SOCK=") || strings.HasPrefix(kv, "DRIFTLESS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "NO_COLOR=1"), extra...)
}

// driftless runs the driftless binary on a config dir.
func (e *benchEnv) driftless(ctx context.Context, cd *configDir, args ...string) (sample, error) {
	return measureChild(ctx, childEnv(), e.bin, append([]string{"-C", cd.dir}, args...)...)
}

// floor runs the floor child on a spec file.
func (e *benchEnv) floor(ctx context.Context, spec string) (sample, error) {
	return measureChild(ctx, childEnv(), e.self, floorChildArg, spec)
}

// outputBuffer keeps up to 4 MiB of a child's output.
type outputBuffer struct{ b bytes.Buffer }

func (o *outputBuffer) Write(p []byte) (int, error) {
	if room := 4<<20 - o.b.Len(); room > 0 {
		o.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// problems is what to show of a failed child's output: its lines that
// do not report a host's success (up to 30), and its last line.
func (o *outputBuffer) problems() string {
	lines := strings.Split(strings.TrimRight(o.b.String(), "\n"), "\n")
	var keep []string
	for _, l := range lines {
		if strings.Contains(l, " Success (") || strings.TrimSpace(l) == "" {
			continue
		}
		if len(keep) == 30 {
			keep = append(keep, "...")
			break
		}
		keep = append(keep, l)
	}
	if last := lines[len(lines)-1]; len(keep) == 0 || keep[len(keep)-1] != last {
		keep = append(keep, last)
	}
	return strings.Join(keep, "\n")
}

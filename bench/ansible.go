package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed playbook.yml
var playbook string

// ansibleTool is ansible-playbook when it is there.
type ansibleTool struct {
	path    string
	version string
}

// findAnsible looks for ansible-playbook, installing Debian's ansible-core
// with apt-get first when install is set and it is missing. It returns
// nil and why when there is none.
func findAnsible(ctx context.Context, install bool, logf func(string, ...any)) (*ansibleTool, string) {
	path, err := exec.LookPath("ansible-playbook")
	if err != nil && install {
		logf("ansible-playbook not found: installing ansible-core with apt-get")
		if why := aptInstall(ctx, "ansible-core"); why != "" {
			return nil, why
		}
		path, err = exec.LookPath("ansible-playbook")
	}
	if err != nil {
		return nil, "ansible-playbook is not installed; run the bench with -ansible to install Debian's ansible-core"
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return nil, fmt.Sprintf("%s --version: %v", path, err)
	}
	version, _, _ := strings.Cut(string(out), "\n")
	return &ansibleTool{path: path, version: strings.TrimSpace(version)}, ""
}

func aptInstall(ctx context.Context, pkg string) string {
	if os.Geteuid() != 0 {
		return "ansible-playbook is not installed and installing it needs root: sudo apt-get install ansible-core"
	}
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", pkg}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Sprintf("apt-get %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ansibleDir is a directory with the playbook, an inventory and an
// ansible.cfg for a fleet.
type ansibleDir struct {
	dir string
}

// writeAnsible writes the playbook, an inventory of hosts and an
// ansible.cfg with forks = len(hosts) and pipelining on. Host keys are
// checked against a known_hosts file, as driftless checks them.
func writeAnsible(dir string, hosts []host, key string) (*ansibleDir, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	kh := filepath.Join(dir, "known_hosts")
	var inv strings.Builder
	inv.WriteString("[bench]\n")
	for _, h := range hosts {
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d ansible_user=%s\n", h.Name, h.Addr, h.Port, h.User)
	}
	fmt.Fprintf(&inv, "\n[bench:vars]\nansible_ssh_private_key_file=%s\nansible_python_interpreter=/usr/bin/python3\n", key)
	cfg := fmt.Sprintf(`[defaults]
forks = %d
host_key_checking = True
retry_files_enabled = False
interpreter_python = /usr/bin/python3
deprecation_warnings = False
nocolor = True

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes
`, len(hosts), kh)
	files := map[string]string{"known_hosts": knownHosts(hosts), "inventory.ini": inv.String(), "ansible.cfg": cfg, "playbook.yml": playbook}
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	return &ansibleDir{dir: dir}, nil
}

// run runs the playbook once. Each run starts without SSH control
// masters (a fresh ControlPath directory), as driftless starts without
// connections; within the run Ansible reuses one master per host, and
// the masters are closed afterwards, outside the measurement.
func (a *ansibleDir) run(ctx context.Context, tool *ansibleTool) (sample, error) {
	cp, err := os.MkdirTemp(a.dir, "cp-")
	if err != nil {
		return sample{}, err
	}
	defer func() {
		closeControlMasters(cp)
		os.RemoveAll(cp)
	}()
	env := childEnv(
		"ANSIBLE_CONFIG="+filepath.Join(a.dir, "ansible.cfg"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+cp,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(a.dir, "tmp"),
		"ANSIBLE_HOME="+filepath.Join(a.dir, "home"),
	)
	return measureChild(ctx, env, tool.path, "-i", filepath.Join(a.dir, "inventory.ini"), filepath.Join(a.dir, "playbook.yml"))
}

// closeControlMasters asks every ssh control master with a socket in dir
// to exit.
func closeControlMasters(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cmd := exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+filepath.Join(dir, e.Name()), "-O", "exit", "bench-master")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run()
		cancel()
	}
}

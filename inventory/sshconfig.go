package inventory

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfig is the user's ~/.ssh/config, consulted for what the inventory
// leaves unset (HostName, User, Port, IdentityFile, ProxyJump), as ssh(1)
// would for the host's name.
type sshConfig struct{ cfg *ssh_config.Config }

func loadSSHConfig(home string) *sshConfig {
	if home == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(home, ".ssh", "config"))
	if err != nil {
		return nil
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil
	}
	return &sshConfig{cfg: cfg}
}

func (c *sshConfig) get(alias, key string) string {
	v, err := c.cfg.Get(alias, key)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

// fill sets in s what the inventory left unset and ~/.ssh/config gives.
func (c *sshConfig) fill(alias string, s *settings, home string) {
	if s.address == nil {
		if v := c.get(alias, "HostName"); v != "" {
			v = strings.ReplaceAll(v, "%h", alias)
			s.address = &v
		}
	}
	if s.user == nil {
		if v := c.get(alias, "User"); v != "" {
			s.user = &v
		}
	}
	if s.port == nil {
		if n, err := strconv.Atoi(c.get(alias, "Port")); err == nil && n > 0 && n < 65536 {
			s.port = &n
		}
	}
	if s.jump == nil {
		if v := c.get(alias, "ProxyJump"); v != "" && !strings.EqualFold(v, "none") {
			s.jump = &v
		}
	}
	if !s.identitySet {
		if files, err := c.cfg.GetAll(alias, "IdentityFile"); err == nil && len(files) > 0 {
			for _, f := range files {
				if strings.HasPrefix(f, "~/") {
					f = filepath.Join(home, f[2:])
				}
				s.identityFiles = append(s.identityFiles, f)
			}
			s.identitySet = true
		}
	}
}

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
)

// account is the unix user the server programs run as.
type account struct {
	name     string
	uid, gid int
	// drop is true when the harness runs as root: the children get the
	// account's credentials (initdb and postgres refuse to run as root).
	drop bool
}

// fallbackUser is created (useradd --system) when the harness runs as
// root on a machine without Debian's postgres user. It is kept: other
// test binaries running at the same time may be using it.
const fallbackUser = "driftless-pg"

var (
	accountMu   sync.Mutex
	accountDone bool
	accountVal  account
	accountErr  error
)

// serverAccount picks the user the server runs as, once per process: the
// current user when not root; as root, Debian's postgres user when it
// exists, else fallbackUser, created if missing.
func serverAccount() (account, error) {
	accountMu.Lock()
	defer accountMu.Unlock()
	if !accountDone {
		accountVal, accountErr = lookupAccount()
		accountDone = true
	}
	return accountVal, accountErr
}

func lookupAccount() (account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return account{}, fmt.Errorf("pgtest: current user: %w", err)
		}
		return toAccount(u, false)
	}
	if u, err := user.Lookup("postgres"); err == nil {
		return toAccount(u, true)
	}
	if u, err := user.Lookup(fallbackUser); err == nil {
		return toAccount(u, true)
	}
	out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", fallbackUser).CombinedOutput()
	// Another test binary may have created it meanwhile: look again.
	u, lerr := user.Lookup(fallbackUser)
	if lerr != nil {
		return account{}, fmt.Errorf("pgtest: create user %s to run PostgreSQL as (it refuses root): %w: %s",
			fallbackUser, errors.Join(err, lerr), out)
	}
	return toAccount(u, true)
}

func toAccount(u *user.User, drop bool) (account, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("pgtest: user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("pgtest: user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	return account{name: u.Username, uid: uid, gid: gid, drop: drop}, nil
}

package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"
)

// PutFile writes the content of r to path on the host, atomically: into
// ".<name>.dl-tmp-<random>" in the same directory, synced (when the server
// supports fsync@openssh.com), chmod'ed to mode, then renamed over path
// (posix-rename@openssh.com). The temporary file is removed on any error.
// The directory must exist.
//
// With Become "sudo" the content goes through sudo sh -c instead of SFTP
// (see the package documentation). A context cancelled or a connection
// lost mid-write never leaves a half-written path; it can leave the
// temporary file behind when the connection is gone.
func (c *Client) PutFile(ctx context.Context, p string, r io.Reader, mode fs.FileMode) error {
	op := "put " + c.cfg.Name + " " + p
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s: path is not absolute", op)
	}
	if base := path.Base(p); base == "/" || base == "." || base == ".." || strings.HasSuffix(p, "/") {
		return fmt.Errorf("%s: not a file path", op)
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(op, err)
	}
	if c.cfg.Become == BecomeSudo {
		return c.putSudo(ctx, op, p, r, mode)
	}
	return c.putSFTP(ctx, op, p, r, mode)
}

func tempName(p string) string {
	return path.Join(path.Dir(p), "."+path.Base(p)+".dl-tmp-"+randomHex(6))
}

// unixMode converts mode's permission and special bits to chmod's octal.
func unixMode(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

func (c *Client) putSFTP(ctx context.Context, op, p string, r io.Reader, mode fs.FileMode) (err error) {
	sc, err := c.sftpClient()
	if err != nil {
		return c.sftpErr(op, "open sftp", nil, err)
	}
	tmp := tempName(p)
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return c.sftpErr(op, "create temporary file", sc, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = sc.Remove(tmp)
		}
	}()
	// Before any content: a 0600 file is never readable by others.
	if err := f.Chmod(mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return c.sftpErr(op, "chmod", sc, err)
	}
	if _, err := f.ReadFrom(&ctxReader{ctx: ctx, r: r}); err != nil {
		if ctx.Err() != nil {
			return ctxErr(op, ctx.Err())
		}
		return c.sftpErr(op, "write", sc, err)
	}
	if _, ok := sc.HasExtension("fsync@openssh.com"); ok {
		if err := f.Sync(); err != nil {
			return c.sftpErr(op, "fsync", sc, err)
		}
	}
	if err := f.Close(); err != nil {
		return c.sftpErr(op, "close", sc, err)
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(op, err)
	}
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
		err = sc.PosixRename(tmp, p)
	} else {
		err = sc.Rename(tmp, p)
	}
	if err != nil {
		return c.sftpErr(op, "rename", sc, err)
	}
	return nil
}

// sftpErr wraps an SFTP failure: transport.ErrConnLost when the connection
// (or the SFTP channel, which is then reopened next time) is gone.
func (c *Client) sftpErr(op, stage string, sc *sftp.Client, err error) error {
	lost := errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
	if c.isDown() || (lost && sc == nil) {
		return c.connLost(op+": "+stage, err)
	}
	if lost {
		c.dropSFTP(sc)
		return c.connLost(op+": "+stage+": sftp channel", err)
	}
	return fmt.Errorf("%s: %s: %w", op, stage, err)
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// putSudo streams r through sudo into a temporary file, checks its size,
// then chmods and renames it.
func (c *Client) putSudo(ctx context.Context, op, p string, r io.Reader, mode fs.FileMode) error {
	size, content, cleanup, err := sized(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return ctxErr(op, ctx.Err())
		}
		return fmt.Errorf("%s: read content: %w", op, err)
	}
	defer cleanup()
	script := fmt.Sprintf(`umask 077
t=%s
trap 'rm -f "$t"' EXIT
cat > "$t" || exit 1
n=$(wc -c < "$t") || exit 1
if [ $n -ne %d ]; then
	echo "received $n of %d bytes" >&2
	exit 1
fi
chmod %04o "$t" || exit 1
if [ -d %s ]; then
	echo "is a directory" >&2
	exit 1
fi
mv -f "$t" %s
`, shellQuote(tempName(p)), size, size, unixMode(mode), shellQuote(p), shellQuote(p))
	m := newSudoMarkers()
	var stderr tailBuffer
	code, err := c.runCommand(ctx, op, remoteCommand(script, m), content, nil, &stderr, m)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s: exit status %d: %s", op, code, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// sized returns the number of bytes r will yield and a reader of them:
// r itself when it knows its length (strings.Reader, bytes.Reader,
// bytes.Buffer, a regular file), else a spooled temporary copy.
func sized(ctx context.Context, r io.Reader) (int64, io.Reader, func(), error) {
	noop := func() {}
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), r, noop, nil
	case *os.File:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				return fi.Size() - off, r, noop, nil
			}
		}
	}
	f, err := os.CreateTemp("", "driftless-put-*")
	if err != nil {
		return 0, nil, noop, err
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, &ctxReader{ctx: ctx, r: r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return 0, nil, noop, err
	}
	return n, f, cleanup, nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	b []byte
}

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

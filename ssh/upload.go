package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/pkg/sftp"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// tempName is a temporary name beside p.
func tempName(p string) string {
	return path.Join(path.Dir(p), "."+path.Base(p)+".dl-tmp-"+connkit.RandomHex(6))
}

// putSFTP writes the content of r to p over the connection's SFTP
// channel, atomically: into a temporary file in the same directory,
// chmod'ed to mode before any content, synced (when the server supports
// fsync@openssh.com), then renamed over p (posix-rename@openssh.com). The
// temporary file is removed on any error. uploadScript writes scripts too
// long for the command line with it.
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
			return connkit.CtxErr(op, ctx.Err())
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
		return connkit.CtxErr(op, err)
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

package documents

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrSourceOutside is wrapped by the errors of a source that names a file
// outside the config dir.
var ErrSourceOutside = errors.New("source outside the config dir")

// CheckSource checks the path of a file or download step's source: a
// file under the config dir, named relative to it, with no ".." (see
// docs/safety.md). Symlinks are checked when the file is opened.
func CheckSource(p string) error {
	switch {
	case strings.TrimSpace(p) == "":
		return errors.New("source is empty")
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`):
		return fmt.Errorf("%w: %q is an absolute path; name a file under the config dir, relative to it", ErrSourceOutside, p)
	case slices.Contains(strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }), ".."):
		return fmt.Errorf("%w: %q contains ..; name a file under the config dir, relative to it", ErrSourceOutside, p)
	case !filepath.IsLocal(p):
		return fmt.Errorf("%w: %q is not a plain relative path", ErrSourceOutside, p)
	}
	return nil
}

// OpenSource opens the source p of a step inside the config dir dir. No
// symlink may lead out of dir (the open is confined to it by os.Root),
// and the file must be a regular file: a device or a FIFO is refused
// before a byte is read.
func OpenSource(dir, p string) (*os.File, os.FileInfo, error) {
	if err := CheckSource(p); err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open config dir: %w", err)
	}
	defer root.Close()
	name := filepath.FromSlash(p)
	// Stat before opening: opening a FIFO would wait for a writer.
	st, err := root.Stat(name)
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("source %q is not a regular file (%s)", p, st.Mode().Type())
	}
	var f *os.File
	if err == nil {
		f, err = root.Open(name)
	}
	if err != nil {
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, nil, fmt.Errorf("%w: %q is a symlink that leads out of it", ErrSourceOutside, p)
		}
		return nil, nil, err
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("source %q changed while it was opened", p)
	}
	return f, st, nil
}

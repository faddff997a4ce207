package cfgtree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/internal/diag"
)

// The bounds on what a config file may hold (docs/safety.md): past them
// a file is refused with file:line: what: limit before any host is
// contacted, and the parsers never get to spend memory on it.
const (
	MaxFileSize   = 16 << 20 // bytes of one document, inventory or associations file
	MaxDepth      = 100      // nesting of tables, lists and dotted keys
	MaxAliasNodes = 10_000   // nodes a YAML document's aliases may expand to
	MaxAliasBytes = 1 << 20  // bytes of text a YAML document's aliases may expand to
)

// ErrTooLarge is wrapped by ReadFile's error for a file past MaxFileSize.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a config file of at most MaxFileSize bytes. It reads no
// more than that whatever the file is (a device, a FIFO, a file that
// grows), and refuses what is not a regular file.
func ReadFile(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO would wait for a writer.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%w: more than %d MiB: limit %d MiB", ErrTooLarge, MaxFileSize>>20, MaxFileSize>>20)
	}
	return src, nil
}

// ReadError is the diagnostic for a failed ReadFile: what is names the
// file's role ("the document", "the inventory").
func ReadError(path, what string, err error) *diag.Error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return &diag.Error{File: path, Msg: fmt.Sprintf("%s is larger than %d MiB: limit %d MiB", what, MaxFileSize>>20, MaxFileSize>>20)}
	case errors.Is(err, fs.ErrNotExist):
		return &diag.Error{File: path, Msg: fmt.Sprintf("cannot read %s: no such file", what)}
	default:
		return &diag.Error{File: path, Msg: fmt.Sprintf("cannot read %s: %v", what, err)}
	}
}

// precheck refuses, before any parser runs, a source past MaxFileSize
// and one that is not UTF-8 (with the position of the first bad byte:
// the parsers report none, or a wrong column).
func precheck(file string, src []byte) error {
	if len(src) > MaxFileSize {
		return &diag.Error{File: file, Msg: fmt.Sprintf("the file is larger than %d MiB: limit %d MiB", MaxFileSize>>20, MaxFileSize>>20)}
	}
	if utf8.Valid(src) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return &diag.Error{File: file, Pos: diag.Pos{Line: line, Col: col}, Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x: files must be UTF-8", src[i])}
		}
		i += size
		col++
		if r == '\n' {
			line, col = line+1, 1
		}
	}
	return nil
}

// tooDeep is the error for nesting past MaxDepth at pos.
func tooDeep(file string, pos diag.Pos) error {
	return &diag.Error{File: file, Pos: pos, Msg: fmt.Sprintf("nesting deeper than %d levels: limit %d", MaxDepth, MaxDepth)}
}

// tomlDepth scans TOML source for its deepest nesting (brackets, braces
// and the segments of dotted keys and table headers) without parsing it,
// so that a deeply nested file is refused before the TOML decoder, whose
// memory grows with the square of the depth, sees it. It errs on the side
// of counting too deep only past depths no real file has.
func tomlDepth(file string, src []byte) error {
	var (
		stack     []byte // the '[' and '{' open here
		line, col = 1, 0
		keyDots   int    // dots of the dotted key being read
		inKey     = true // at a key: line start, after '{' or an inline table's ','
		header    bool   // inside a [table] or [[array]] header
		str       byte   // the quote of the string we are in; 0 outside
		multi     bool   // the string is a multi-line one
		esc       bool   // the last byte was a backslash in a basic string
		comment   bool
	)
	for i := 0; i < len(src); i++ {
		c := src[i]
		col++
		switch {
		case c == '\n':
			line, col, comment, esc = line+1, 0, false, false
			if !multi {
				str = 0
			}
			if len(stack) == 0 {
				inKey, keyDots, header = true, 0, false
			}
		case comment:
		case str != 0:
			switch {
			case esc:
				esc = false
			case c == '\\' && str == '"':
				esc = true
			case c == str && !multi:
				str = 0
			case c == str && i+2 < len(src) && src[i+1] == str && src[i+2] == str:
				i, col = i+2, col+2
				str, multi = 0, false
			}
		case c == '#':
			comment = true
		case c == '"' || c == '\'':
			str = c
			if i+2 < len(src) && src[i+1] == c && src[i+2] == c {
				multi = true
				i, col = i+2, col+2
			}
		case c == '[' || c == '{':
			header = header || len(stack) == 0 && inKey && c == '['
			stack = append(stack, c)
			inKey = c == '{'
		case c == ']' || c == '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case c == ',':
			inKey = len(stack) > 0 && stack[len(stack)-1] == '{'
			keyDots = 0
		case c == '=':
			inKey = false
		case c == '.' && (inKey || header):
			keyDots++
		}
		if len(stack)+keyDots > MaxDepth {
			return tooDeep(file, diag.Pos{Line: line, Col: col})
		}
	}
	return nil
}

// aliasBudget bounds what a YAML document's aliases expand to.
type aliasBudget struct {
	nodes, bytes int
}

// spend accounts for one node of text size reached through an alias.
func (b *aliasBudget) spend(file string, pos diag.Pos, size int) error {
	b.nodes++
	b.bytes += size
	switch {
	case b.nodes > MaxAliasNodes:
		return &diag.Error{File: file, Pos: pos, Msg: fmt.Sprintf("YAML aliases expand to more than %d nodes: limit %d", MaxAliasNodes, MaxAliasNodes)}
	case b.bytes > MaxAliasBytes:
		return &diag.Error{File: file, Pos: pos, Msg: fmt.Sprintf("YAML aliases expand to more than %d MiB: limit %d MiB", MaxAliasBytes>>20, MaxAliasBytes>>20)}
	}
	return nil
}

package winrmtest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"strings"
)

// DecodeCommandLine returns the PowerShell script of a command line that
// runs powershell.exe (or pwsh) with -EncodedCommand: the argument is
// base64 of the script's UTF-16LE bytes. ok is false when the command
// line runs something else; err is set when it runs PowerShell with an
// encoded command that does not decode.
//
// The parameter is matched as PowerShell does: case-insensitively, by
// any unambiguous prefix ("-enc", "-e", "-ec", "/EncodedCommand").
func DecodeCommandLine(line string) (script string, ok bool, err error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return "", false, nil
	}
	exe := strings.ToLower(path.Base(strings.ReplaceAll(strings.Trim(words[0], `"`), `\`, "/")))
	switch strings.TrimSuffix(exe, ".exe") {
	case "powershell", "pwsh":
	default:
		return "", false, nil
	}
	for i, w := range words[1:] {
		if !isEncodedCommandParam(w) {
			continue
		}
		if i+2 >= len(words) {
			return "", true, errors.New("-EncodedCommand without a value")
		}
		s, err := DecodeScript(words[i+2])
		return s, true, err
	}
	return "", false, nil
}

func isEncodedCommandParam(w string) bool {
	if len(w) < 2 || (w[0] != '-' && w[0] != '/') {
		return false
	}
	p := strings.ToLower(w[1:])
	// -e and -ec are PowerShell's documented aliases; -en... are
	// prefixes of -EncodedCommand (and not of -EncodedArguments from
	// "-encodeda" on).
	return p == "e" || p == "ec" || (len(p) >= 2 && strings.HasPrefix("encodedcommand", p))
}

// DecodeScript decodes an -EncodedCommand value: base64 of UTF-16LE.
func DecodeScript(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("-EncodedCommand: %w", err)
	}
	if len(raw)%2 != 0 {
		return "", errors.New("-EncodedCommand: odd number of bytes: not UTF-16")
	}
	return fromUTF16LE(raw), nil
}

// EncodeScript is the -EncodedCommand value of a script.
func EncodeScript(script string) string {
	return base64.StdEncoding.EncodeToString(utf16le(script))
}

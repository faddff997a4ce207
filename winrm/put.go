package winrm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// putChunk is the most file content one stdin line (and so one Send)
// carries: 48 KiB, 64 KiB once in base64.
const putChunk = 48 << 10

// putScript receives a file on stdin, one base64 chunk per line, and a
// last line "=<sha256> <size>". Each chunk is decoded and appended to a
// temporary file next to the target while its SHA-256 is computed; at the
// end the hash and size are checked against the last line and the file
// is moved over the target (File.Replace when it exists: atomic on NTFS).
// On any error the temporary file is removed and the script exits 1 with
// the reason on stderr. %s is a PowerShell expression of the target path.
//
// The stdin lines arrive as pipeline input, one per process block, so
// the file is never held in memory.
const putScript = `begin {
	$ErrorActionPreference = 'Stop'
	$ProgressPreference = 'SilentlyContinue'
	$dl_err = $null
	$dl_fs = $null
	$dl_tmp = $null
	$dl_sha = $null
	$dl_n = [long]0
	$dl_want = ''
	try {
		$dl_path = %s
		$dl_tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($dl_path), '.' + [IO.Path]::GetFileName($dl_path) + '.dl-tmp-' + [Guid]::NewGuid().ToString('N').Substring(0, 12))
		$dl_fs = New-Object IO.FileStream -ArgumentList $dl_tmp, ([IO.FileMode]::CreateNew), ([IO.FileAccess]::Write)
		$dl_sha = [Security.Cryptography.SHA256]::Create()
	} catch {
		$dl_err = $_.Exception.Message
	}
}
process {
	if ($null -eq $dl_err) {
		try {
			foreach ($dl_line in $input) {
				$dl_l = ([string]$dl_line).Trim()
				if ($dl_l.StartsWith('=')) {
					$dl_want = $dl_l.Substring(1)
				} elseif ($dl_l.Length -gt 0) {
					$dl_b = [Convert]::FromBase64String($dl_l)
					$dl_fs.Write($dl_b, 0, $dl_b.Length)
					[void]$dl_sha.TransformBlock($dl_b, 0, $dl_b.Length, $null, 0)
					$dl_n += $dl_b.Length
				}
			}
		} catch {
			$dl_err = $_.Exception.Message
		}
	}
}
end {
	try {
		if ($null -ne $dl_fs) {
			$dl_fs.Flush($true)
			$dl_fs.Dispose()
		}
		if ($null -ne $dl_err) { throw $dl_err }
		if ($dl_want -eq '') { throw 'the upload ended early (no checksum line)' }
		[void]$dl_sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
		$dl_got = ([BitConverter]::ToString($dl_sha.Hash) -replace '-', '').ToLowerInvariant() + ' ' + $dl_n
		if ($dl_got -ne $dl_want) { throw "checksum mismatch: received $dl_got, sent $dl_want" }
		if ([IO.File]::Exists($dl_path)) {
			[IO.File]::Replace($dl_tmp, $dl_path, [NullString]::Value, $true)
		} else {
			[IO.File]::Move($dl_tmp, $dl_path)
		}
		[Console]::Out.Write("dl-put-ok $dl_got` + "`" + `n")
	} catch {
		if ($null -ne $dl_tmp) { try { [IO.File]::Delete($dl_tmp) } catch { } }
		[Console]::Error.Write('driftless put: ' + $_.Exception.Message + "` + "`" + `n")
		exit 1
	}
}
`

// put sends r to the file the PowerShell expression target names (see
// putScript). Run pushes scripts too long for the command line with it.
func (c *Client) put(ctx context.Context, op, target string, r io.Reader) error {
	lines := &chunkReader{r: r, h: sha256.New()}
	var stdout, stderr bytes.Buffer
	code, _, err := c.exec(ctx, op, commandLine(fmt.Sprintf(putScript, target)), lines, &stdout, &stderr)
	if err != nil {
		return err
	}
	if lines.err != nil {
		return fmt.Errorf("%s: read: %w", op, lines.err)
	}
	if code != 0 {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = fmt.Sprintf("exit code %d", code)
		}
		return fmt.Errorf("%s: %s", op, strings.TrimPrefix(msg, "driftless put: "))
	}
	want := "dl-put-ok " + lines.sum
	if !strings.Contains(stdout.String(), want) {
		return fmt.Errorf("%s: the host did not confirm the upload (want %q, got %q)", op, want, strings.TrimSpace(stdout.String()))
	}
	return nil
}

// chunkReader turns r into the put script's stdin: base64 lines of
// putChunk bytes, then "=<sha256> <size>".
type chunkReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	buf  []byte // encoded, not yet read
	done bool
	sum  string // "<sha256> <size>", once r is read
	err  error  // reading r failed
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		chunk := make([]byte, putChunk)
		n, err := io.ReadFull(c.r, chunk)
		if n > 0 {
			c.h.Write(chunk[:n])
			c.n += int64(n)
			c.buf = append(base64.StdEncoding.AppendEncode(c.buf, chunk[:n]), '\r', '\n')
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			c.done = true
			c.sum = hex.EncodeToString(c.h.Sum(nil)) + " " + strconv.FormatInt(c.n, 10)
			c.buf = append(c.buf, "="+c.sum+"\r\n"...)
		} else if err != nil {
			// No checksum line: the script refuses the file.
			c.done, c.err = true, err
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

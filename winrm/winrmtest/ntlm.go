package winrmtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM's NT hash is MD4; there is no other.
	"golang.org/x/crypto/md4"
)

// The server side of NTLMv2 ([MS-NLMP]): enough to authenticate the
// clients WinRM users have (github.com/Azure/go-ntlmssp as used by
// masterzen/winrm, and pywinrm's requests_ntlm / ntlm-auth). Only
// authentication: no signing or sealing (message encryption) is offered.

// NEGOTIATE flags ([MS-NLMP] 2.2.2.5).
const (
	flagUnicode          = 1 << 0
	flagRequestTarget    = 1 << 2
	flagNTLM             = 1 << 9
	flagAlwaysSign       = 1 << 15
	flagTargetTypeServer = 1 << 17
	flagExtendedSecurity = 1 << 19
	flagTargetInfo       = 1 << 23
	flagVersion          = 1 << 25
	flag128              = 1 << 29
	flag56               = 1 << 31
)

// AV pair ids of the challenge's target information.
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avTimestamp       = 7
)

var ntlmSignature = []byte("NTLMSSP\x00")

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ntlmMessageType returns the type (1, 2 or 3) of an NTLM message, or 0.
func ntlmMessageType(m []byte) uint32 {
	if len(m) < 12 || !bytes.Equal(m[:8], ntlmSignature) {
		return 0
	}
	return binary.LittleEndian.Uint32(m[8:12])
}

// challengeMessage builds a CHALLENGE_MESSAGE for the server challenge.
func challengeMessage(challenge [8]byte, target string) []byte {
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		binary.Write(&info, binary.LittleEndian, id)
		binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	host := strings.ToLower(target)
	av(avNbDomainName, utf16le(target))
	av(avNbComputerName, utf16le(target))
	av(avDNSDomainName, utf16le(host))
	av(avDNSComputerName, utf16le(host))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(avTimestamp, ts)
	av(avEOL, nil)

	name := utf16le(target)
	const headerLen = 56
	flags := uint32(flagUnicode | flagRequestTarget | flagNTLM | flagAlwaysSign | flagTargetTypeServer |
		flagExtendedSecurity | flagTargetInfo | flagVersion | flag128 | flag56)
	m := make([]byte, headerLen, headerLen+len(name)+info.Len())
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 2)
	putField(m[12:], len(name), headerLen)
	binary.LittleEndian.PutUint32(m[20:], flags)
	copy(m[24:32], challenge[:])
	putField(m[40:], info.Len(), headerLen+len(name))
	copy(m[48:56], []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15}) // Windows 10.0.19041, NTLM revision 15
	m = append(m, name...)
	return append(m, info.Bytes()...)
}

func putField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

func field(m []byte, at int) ([]byte, error) {
	if len(m) < at+8 {
		return nil, errors.New("NTLM message too short")
	}
	n := int(binary.LittleEndian.Uint16(m[at:]))
	off := int(binary.LittleEndian.Uint32(m[at+4:]))
	if off < 0 || off+n > len(m) {
		return nil, errors.New("NTLM field out of bounds")
	}
	return m[off : off+n], nil
}

// authenticate is what an AUTHENTICATE_MESSAGE carries.
type authenticate struct {
	user, domain string
	ntResponse   []byte
}

func parseAuthenticate(m []byte) (authenticate, error) {
	var a authenticate
	if ntlmMessageType(m) != 3 || len(m) < 64 {
		return a, errors.New("not an NTLM AUTHENTICATE message")
	}
	flags := binary.LittleEndian.Uint32(m[60:])
	str := func(at int) (string, error) {
		b, err := field(m, at)
		if err != nil {
			return "", err
		}
		if flags&flagUnicode != 0 {
			return fromUTF16LE(b), nil
		}
		return string(b), nil
	}
	var err error
	if a.ntResponse, err = field(m, 20); err != nil {
		return a, err
	}
	if a.domain, err = str(28); err != nil {
		return a, err
	}
	if a.user, err = str(36); err != nil {
		return a, err
	}
	return a, nil
}

// verifyNTLMv2 checks an NTLMv2 response to challenge against password
// ([MS-NLMP] 3.3.2: NTProofStr = HMAC-MD5(NTOWFv2, challenge || blob)).
func verifyNTLMv2(a authenticate, password string, challenge [8]byte) bool {
	if len(a.ntResponse) <= 24 { // 24 bytes is NTLMv1, which is refused
		return false
	}
	h := md4.New()
	h.Write(utf16le(password))
	ntowf := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(a.user)+a.domain))
	blob := a.ntResponse[16:]
	proof := hmacMD5(ntowf, challenge[:], blob)
	return hmac.Equal(proof, a.ntResponse[:16])
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func newChallenge() [8]byte {
	var c [8]byte
	rand.Read(c[:])
	return c
}

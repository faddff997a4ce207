package runner

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/driftless-dev/driftless/runner/plan"
)

// scriptCache keeps the scripts a Runner built, so that hosts with equal
// steps (a document without per-host values) share one build: building
// the script of a five-step document costs about as much CPU as the
// SSH session that runs it. Scripts of equal steps differ only by their
// marker: a hit is sent with the host's own (hostScript).
type scriptCache struct {
	mu sync.Mutex
	m  map[string][]string // scripts, cut where their marker is
}

// hostScript is the script one host runs: pieces joined by the host's
// marker. A script built for the host is one piece; one from the cache
// is the pieces of the script built for another host, shared: no host
// copies it (it is sent from them, posix.StdinJoined).
type hostScript struct {
	pieces []string
	marker string
}

// String is the script's text.
func (s hostScript) String() string { return strings.Join(s.pieces, s.marker) }

// Len is the script's length in bytes.
func (s hostScript) Len() int {
	n := len(s.marker) * (len(s.pieces) - 1)
	for _, p := range s.pieces {
		n += len(p)
	}
	return n
}

// scriptCacheMax is how many scripts the cache keeps; when it is full it
// starts over (hosts with steps of their own would otherwise fill it with
// scripts never used again).
const scriptCacheMax = 64

// cached returns build made to use c: a script that the builder named
// name (one name per builder) made of equal items and state before is
// reused, with the host's marker in place of its own. Items and state
// are compared by value, every field of them (keyEncoder); what cannot
// be compared is built anew. A nil c builds every script.
func cached[T any](c *scriptCache, name string, build func(string, []T, plan.Resume) string) func(string, []T, plan.Resume) hostScript {
	if c == nil {
		return func(marker string, items []T, st plan.Resume) hostScript {
			return hostScript{pieces: []string{build(marker, items, st)}, marker: marker}
		}
	}
	return func(marker string, items []T, st plan.Resume) hostScript {
		bp := keyBufs.Get().(*[]byte)
		defer keyBufs.Put(bp)
		e := keyEncoder{b: append((*bp)[:0], name...)}
		ok := e.value(reflect.ValueOf(items), 0) && e.value(reflect.ValueOf(st), 0)
		if cap(e.b) <= keyBufMax {
			*bp = e.b[:0] // the grown buffer goes back to the pool
		}
		if !ok {
			return hostScript{pieces: []string{build(marker, items, st)}, marker: marker}
		}
		c.mu.Lock()
		hit, ok := c.m[string(e.b)]
		c.mu.Unlock()
		if ok {
			return hostScript{pieces: hit, marker: marker}
		}
		script := build(marker, items, st)
		pieces := strings.Split(script, marker)
		c.mu.Lock()
		if c.m == nil || len(c.m) >= scriptCacheMax {
			c.m = map[string][]string{}
		}
		c.m[string(e.b)] = pieces
		c.mu.Unlock()
		return hostScript{pieces: pieces, marker: marker}
	}
}

// keyBufs are the buffers keys are encoded in: a key is about as long as
// the steps' contents, and a hit needs it only for the lookup.
// (One grown past keyBufMax, by a large content, is left to the GC.)
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const keyBufMax = 1 << 20

// keyEncoder writes a value, every field of it, exported or not, so that
// two values have the same encoding only when they are equal: pointers by
// what they point to, maps by their sorted entries, interfaces by their
// dynamic type and value. It refuses (false) functions, channels and
// values nested deeper than keyDepth.
type keyEncoder struct {
	b []byte
}

const keyDepth = 20

// keyTypes numbers the dynamic types of interface values, for their
// encoding.
var (
	keyTypes sync.Map // reflect.Type -> int64
	keyTypeN atomic.Int64
)

func (e *keyEncoder) value(v reflect.Value, depth int) bool {
	if depth > keyDepth {
		return false
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.b = append(e.b, 't')
		} else {
			e.b = append(e.b, 'f')
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.number('i', v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = binary.LittleEndian.AppendUint64(append(e.b, 'u'), v.Uint())
	case reflect.Float32, reflect.Float64:
		e.b = binary.LittleEndian.AppendUint64(append(e.b, 'x'), math.Float64bits(v.Float()))
	case reflect.String:
		e.bytes('s', v.String())
	case reflect.Slice:
		if v.IsNil() {
			e.b = append(e.b, 'N')
			return true
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := v.Bytes()
			e.number('b', int64(len(b)))
			e.b = append(e.b, b...)
			return true
		}
		return e.list(v, depth)
	case reflect.Array:
		return e.list(v, depth)
	case reflect.Pointer:
		if v.IsNil() {
			e.b = append(e.b, 'N')
			return true
		}
		e.b = append(e.b, 'p')
		return e.value(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			e.b = append(e.b, 'N')
			return true
		}
		t := v.Elem().Type()
		id, ok := keyTypes.Load(t)
		if !ok {
			id, _ = keyTypes.LoadOrStore(t, keyTypeN.Add(1))
		}
		e.number('I', id.(int64))
		return e.value(v.Elem(), depth+1)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Struct:
		e.b = append(e.b, '{')
		for i := range v.NumField() {
			if !e.value(v.Field(i), depth+1) {
				return false
			}
		}
		e.b = append(e.b, '}')
	default: // func, chan, complex, unsafe pointer
		return false
	}
	return true
}

// mapValue encodes a map by its entries, sorted by their keys' encodings
// (unique, as the keys are), so that equal maps have equal encodings
// whatever their order: the count, then each key's encoding followed by
// its value's.
func (e *keyEncoder) mapValue(v reflect.Value, depth int) bool {
	if v.IsNil() {
		e.b = append(e.b, 'N')
		return true
	}
	e.number('m', int64(v.Len()))
	// The entries are encoded after what is there, then put in order.
	start := len(e.b)
	var spanBuf [16]keySpan
	spans := spanBuf[:0]
	for it := v.MapRange(); it.Next(); {
		k := len(e.b)
		if !e.value(it.Key(), depth+1) {
			return false
		}
		kv := len(e.b)
		if !e.value(it.Value(), depth+1) {
			return false
		}
		spans = append(spans, keySpan{k - start, kv - start, len(e.b) - start})
	}
	var tmpBuf [512]byte
	tmp := append(tmpBuf[:0], e.b[start:]...)
	slices.SortFunc(spans, func(a, b keySpan) int { return bytes.Compare(tmp[a.key:a.val], tmp[b.key:b.val]) })
	e.b = e.b[:start]
	for _, sp := range spans {
		e.b = append(e.b, tmp[sp.key:sp.end]...)
	}
	return true
}

// keySpan is where one map entry's key and value encodings are, in the
// bytes after the map's count.
type keySpan struct{ key, val, end int }

// number writes a tag and a number, in 8 bytes.
func (e *keyEncoder) number(tag byte, n int64) {
	e.b = binary.LittleEndian.AppendUint64(append(e.b, tag), uint64(n))
}

// bytes writes a tag and a length-prefixed string.
func (e *keyEncoder) bytes(tag byte, s string) {
	e.number(tag, int64(len(s)))
	e.b = append(e.b, s...)
}

func (e *keyEncoder) list(v reflect.Value, depth int) bool {
	e.number('l', int64(v.Len()))
	for i := range v.Len() {
		if !e.value(v.Index(i), depth+1) {
			return false
		}
	}
	return true
}

package runner

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/driftless-dev/driftless/runner/plan"
)

// scriptCache keeps the scripts a Runner built, so that hosts with equal
// steps (a document without per-host values) share one build: building
// the script of a five-step document costs about as much CPU as the
// SSH session that runs it. Scripts of equal steps differ only by their
// marker, which a hit replaces with the host's own.
type scriptCache struct {
	mu sync.Mutex
	m  map[string]cachedScript
}

type cachedScript struct {
	marker, script string
}

// scriptCacheMax is how many scripts the cache keeps; when it is full it
// starts over (hosts with steps of their own would otherwise fill it with
// scripts never used again).
const scriptCacheMax = 64

// cached returns build made to use c: a script that the builder named
// name (one name per builder) made of equal items and state before is
// reused, its marker replaced. Items and state are compared by value,
// every field of them (keyEncoder); what cannot be compared is built
// anew. A nil c returns build.
func cached[T any](c *scriptCache, name string, build func(string, []T, plan.Resume) string) func(string, []T, plan.Resume) string {
	if c == nil {
		return build
	}
	return func(marker string, items []T, st plan.Resume) string {
		e := keyEncoder{b: append(make([]byte, 0, 1024), name...)}
		if !e.value(reflect.ValueOf(items), 0) || !e.value(reflect.ValueOf(st), 0) {
			return build(marker, items, st)
		}
		key := string(e.b)
		c.mu.Lock()
		hit, ok := c.m[key]
		c.mu.Unlock()
		if ok {
			return strings.ReplaceAll(hit.script, hit.marker, marker)
		}
		script := build(marker, items, st)
		c.mu.Lock()
		if c.m == nil || len(c.m) >= scriptCacheMax {
			c.m = map[string]cachedScript{}
		}
		c.m[key] = cachedScript{marker: marker, script: script}
		c.mu.Unlock()
		return script
	}
}

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
		e.b = append(strconv.AppendUint(append(e.b, 'u'), v.Uint(), 10), ';')
	case reflect.Float32, reflect.Float64:
		e.b = append(strconv.AppendUint(append(e.b, 'x'), math.Float64bits(v.Float()), 10), ';')
	case reflect.String:
		e.bytes('s', v.String())
	case reflect.Slice:
		if v.IsNil() {
			e.b = append(e.b, 'N')
			return true
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.bytes('b', string(v.Bytes()))
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

// mapValue encodes a map by its entries, sorted, so that equal maps
// have equal keys whatever their order.
func (e *keyEncoder) mapValue(v reflect.Value, depth int) bool {
	if v.IsNil() {
		e.b = append(e.b, 'N')
		return true
	}
	entries := make([]string, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		var k, val keyEncoder
		if !k.value(it.Key(), depth+1) || !val.value(it.Value(), depth+1) {
			return false
		}
		entries = append(entries, strconv.Itoa(len(k.b))+";"+string(k.b)+string(val.b))
	}
	slices.Sort(entries)
	e.number('m', int64(len(entries)))
	for _, s := range entries {
		e.bytes(':', s)
	}
	return true
}

// number writes a tag and a number, ended by ';'.
func (e *keyEncoder) number(tag byte, n int64) {
	e.b = append(strconv.AppendInt(append(e.b, tag), n, 10), ';')
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

package llm

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// This file is a small JSON scanner that works on byte offsets, so every string token keeps its exact location.
// validate runs once over a whole body (strict RFC 8259 plus valid UTF-8 inside strings, bounded nesting); the
// navigation helpers after it assume a validated body and never allocate except to decode strings.

// MaxDepth bounds object/array nesting in parsed bodies.
const MaxDepth = 256

// ErrInvalidJSON is wrapped by the errors returned for bodies that are not valid JSON.
var ErrInvalidJSON = errors.New("invalid json")

// ErrInvalidShape is wrapped by the errors ParseRequest, ParseRequestWith and ParseResponse return for valid JSON
// whose known fields have the wrong type ("messages: expected array, got string"), a count that is not a
// non-negative integer, and the like: the body is malformed for its API, just as invalid JSON is.
// Every error those functions return wraps ErrInvalidJSON, ErrInvalidShape or ErrUnknownFormat.
var ErrInvalidShape = errors.New("invalid llm api body")

// shapeError marks a field-type error with ErrInvalidShape while keeping its message unchanged.
type shapeError struct{ err error }

func (e shapeError) Error() string   { return e.err.Error() }
func (e shapeError) Unwrap() []error { return []error{ErrInvalidShape, e.err} }

// inputErr wraps a parser error so that it carries one of the exported sentinels.
func inputErr(err error) error {
	if errors.Is(err, ErrInvalidJSON) || errors.Is(err, ErrInvalidShape) || errors.Is(err, ErrUnknownFormat) {
		return err
	}
	return shapeError{err}
}

func syntaxErr(off int, what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalidJSON, what, off)
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isWS(b[i]) { // one comparison for the common byte that is not white space
		i++
	}
	return i
}

// validate checks that b is exactly one JSON value (with optional surrounding whitespace).
func validate(b []byte) error {
	var stack [MaxDepth]byte // '{' or '['
	depth := 0
	i := skipWS(b, 0)
	// states: expecting a value; after a value (expecting , or close)
	for {
		// expect a value at i
		if i >= len(b) {
			return syntaxErr(i, "unexpected end of input")
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth == MaxDepth {
				return syntaxErr(i, "nesting too deep")
			}
			stack[depth] = c
			depth++
			i = skipWS(b, i+1)
			if i < len(b) && ((c == '{' && b[i] == '}') || (c == '[' && b[i] == ']')) {
				depth--
				i++
				goto after
			}
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return syntaxErr(i, "expected object key")
				}
				e := shortString(b, i)
				if e == 0 {
					var err error
					if e, err = scanString(b, i); err != nil {
						return err
					}
				}
				i = skipWS(b, e)
				if i >= len(b) || b[i] != ':' {
					return syntaxErr(i, "expected ':'")
				}
				i = skipWS(b, i+1)
			}
			continue
		case c == '"':
			e := shortString(b, i)
			if e == 0 {
				var err error
				if e, err = scanString(b, i); err != nil {
					return err
				}
			}
			i = e
		case c == 't':
			if !hasLit(b, i, "true") {
				return syntaxErr(i, "invalid literal")
			}
			i += 4
		case c == 'f':
			if !hasLit(b, i, "false") {
				return syntaxErr(i, "invalid literal")
			}
			i += 5
		case c == 'n':
			if !hasLit(b, i, "null") {
				return syntaxErr(i, "invalid literal")
			}
			i += 4
		case c == '-' || (c >= '0' && c <= '9'):
			e, err := scanNumber(b, i)
			if err != nil {
				return err
			}
			i = e
		default:
			return syntaxErr(i, "unexpected character")
		}
	after:
		for {
			i = skipWS(b, i)
			if depth == 0 {
				if i != len(b) {
					return syntaxErr(i, "data after the top-level value")
				}
				return nil
			}
			if i >= len(b) {
				return syntaxErr(i, "unexpected end of input")
			}
			top := stack[depth-1]
			if b[i] == ',' {
				i = skipWS(b, i+1)
				if top == '{' {
					if i >= len(b) || b[i] != '"' {
						return syntaxErr(i, "expected object key")
					}
					e := shortString(b, i)
					if e == 0 {
						var err error
						if e, err = scanString(b, i); err != nil {
							return err
						}
					}
					i = skipWS(b, e)
					if i >= len(b) || b[i] != ':' {
						return syntaxErr(i, "expected ':'")
					}
					i = skipWS(b, i+1)
				}
				break
			}
			if (top == '{' && b[i] == '}') || (top == '[' && b[i] == ']') {
				depth--
				i++
				continue
			}
			return syntaxErr(i, "expected ',' or a closing bracket")
		}
	}
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// scanString validates the string token starting at b[i] == '"' and returns the offset after its closing quote.
func scanString(b []byte, i int) (int, error) {
	start := i
	i++
	n := len(b)
	var high uint64 // non-zero high bits: the string holds non-ASCII bytes, checked as UTF-8 at the end
	for {
		// Find the next '"', '\\' or control character: 32 bytes a pass, then eight (the first flagged byte
		// located by a trailing-zero count), then byte by byte for the last few.
		if swar.LittleEndian {
			p := unsafe.Pointer(unsafe.SliceData(b))
			for n-i >= 32 {
				w0, w1 := *(*uint64)(unsafe.Add(p, i)), *(*uint64)(unsafe.Add(p, i+8))
				w2, w3 := *(*uint64)(unsafe.Add(p, i+16)), *(*uint64)(unsafe.Add(p, i+24))
				if stringStops(w0)|stringStops(w1)|stringStops(w2)|stringStops(w3) != 0 {
					break
				}
				high |= w0 | w1 | w2 | w3
				i += 32
			}
			for n-i >= 8 {
				w := *(*uint64)(unsafe.Add(p, i))
				if m := stringStops(w); m != 0 {
					z := uint(bits.TrailingZeros64(m))
					high |= w & (1<<(z&^7) - 1) // the bytes before the stop
					i += int(z >> 3)
					goto stop
				}
				high |= w
				i += 8
			}
		}
		for ; i < n; i++ {
			c := b[i]
			if c == '"' || c == '\\' || c < 0x20 {
				goto stop
			}
			high |= uint64(c)
		}
		return 0, syntaxErr(start, "unterminated string")
	stop:
		switch b[i] {
		case '"':
			if high&swar.High != 0 && !utf8.Valid(b[start+1:i]) {
				return 0, badUTF8(b, start+1, i)
			}
			return i + 1, nil
		case '\\':
			if i+1 >= n {
				return 0, syntaxErr(i, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if n-i < 6 || !isHex4(b[i+2:i+6]) {
					return 0, syntaxErr(i, "invalid \\u escape")
				}
				i += 6
			default:
				return 0, syntaxErr(i, "invalid escape")
			}
		default:
			return 0, syntaxErr(i, "control character in string")
		}
	}
}

// badUTF8 returns the error for the first invalid UTF-8 sequence in b[s:e]. Escapes are ASCII, so checking the raw
// string content as a whole is the same as checking each of its unescaped runs.
func badUTF8(b []byte, s, e int) error {
	for i := s; i < e; {
		r, n := utf8.DecodeRune(b[i:e])
		if r == utf8.RuneError && n <= 1 {
			return syntaxErr(i, "invalid UTF-8 in string")
		}
		i += n
	}
	return syntaxErr(s, "invalid UTF-8 in string")
}

// quoteOrBackslash flags, by its high bit, every byte of w that is '"' or '\\'. Like every "has a zero byte" test
// it never misses one, and a borrow may also flag a byte above a match but never one below it: the lowest flagged
// byte, which the callers locate with a trailing-zero count, is exact.
func quoteOrBackslash(w uint64) uint64 {
	q := w ^ (swar.K * '"')
	s := w ^ (swar.K * '\\')
	return (((q - swar.K) &^ q) | ((s - swar.K) &^ s)) & swar.High
}

// stringStops flags the bytes of w that a string token cannot hold verbatim: '"', '\\' and control characters
// (bytes below 0x20; non-ASCII bytes are checked as UTF-8 separately). As in quoteOrBackslash, the lowest flagged
// byte is exact.
func stringStops(w uint64) uint64 {
	return quoteOrBackslash(w) | ((w-swar.K*0x20)&^w)&swar.High
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, syntaxErr(start, "invalid number")
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return 0, syntaxErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, syntaxErr(start, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, syntaxErr(start, "invalid number")
		}
	}
	return i, nil
}

// skipValue returns the end of the (validated) value starting at b[i].
func skipValue(b []byte, i int) int {
	switch kindOf[b[i]] {
	case kString:
		return skipString(b, i)
	case kObject, kArray:
		return skipNested(b, i)
	}
	return skipScalar(b, i)
}

// skipScalar returns the end of the (validated) number or literal at b[i].
func skipScalar(b []byte, i int) int {
	for i < len(b) && !endsScalar[b[i]] {
		i++
	}
	return i
}

// skipNested returns the end of the (validated) object or array at b[i]: one pass that counts brackets and skips
// strings.
func skipNested(b []byte, i int) int {
	n := len(b)
	depth := 0
	for i < n {
		c := b[i]
		i++
		if c != '"' {
			depth += int(nesting[c])
			if depth == 0 {
				return i
			}
			continue
		}
		// The string: most end within eight bytes (keys, short values), found here without a call.
		if swar.LittleEndian && n-i >= 8 {
			if m := hasQuote(*(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))); m != 0 {
				if j := i + bits.TrailingZeros64(m)>>3; b[j-1] != '\\' {
					i = j + 1
					continue
				}
			}
		}
		i = skipString(b, i-1)
	}
	return i
}

// skipString returns the offset after the closing quote of the (validated) string at b[i]: the first '"' that
// an even number of backslashes precede. Long strings go 32 bytes a pass (one branch per pass: in wasm every
// taken branch costs a dispatch), then 8, then byte by byte.
func skipString(b []byte, i int) int {
	start := i
	i++
	n := len(b)
	for {
		if swar.LittleEndian {
			p := unsafe.Pointer(unsafe.SliceData(b))
			for n-i >= 32 {
				if hasQuote(*(*uint64)(unsafe.Add(p, i)))|hasQuote(*(*uint64)(unsafe.Add(p, i+8)))|
					hasQuote(*(*uint64)(unsafe.Add(p, i+16)))|hasQuote(*(*uint64)(unsafe.Add(p, i+24))) != 0 {
					break
				}
				i += 32
			}
			for n-i >= 8 {
				if m := hasQuote(*(*uint64)(unsafe.Add(p, i))); m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
			}
		}
		for i < n && b[i] != '"' {
			i++
		}
		if i >= n {
			return n
		}
		k := i - 1
		for k > start && b[k] == '\\' {
			k--
		}
		if (i-k)&1 == 1 { // an even number of backslashes: the closing quote
			return i + 1
		}
		i++
	}
}

// indexBackslash is bytes.IndexByte(s, '\\'), 32 bytes a pass (bytes.IndexByte is a call and four bytes a
// step in wasm).
func indexBackslash(s []byte) int {
	i, n := 0, len(s)
	if swar.LittleEndian {
		p := unsafe.Pointer(unsafe.SliceData(s))
		for n-i >= 32 {
			if hasBackslash(*(*uint64)(unsafe.Add(p, i)))|hasBackslash(*(*uint64)(unsafe.Add(p, i+8)))|
				hasBackslash(*(*uint64)(unsafe.Add(p, i+16)))|hasBackslash(*(*uint64)(unsafe.Add(p, i+24))) != 0 {
				break
			}
			i += 32
		}
		for n-i >= 8 {
			if m := hasBackslash(*(*uint64)(unsafe.Add(p, i))); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
			i += 8
		}
	}
	for ; i < n; i++ {
		if s[i] == '\\' {
			return i
		}
	}
	return -1
}

// hasBackslash flags the bytes of w that are '\\' (exact for the lowest flagged byte).
func hasBackslash(w uint64) uint64 {
	q := w ^ (swar.K * '\\')
	return (q - swar.K) &^ q & swar.High
}

// shortString returns the end of the string token at b[i] == '"' when its closing quote is within the next eight
// bytes and every byte before that is printable ASCII other than '\\' (the token is then valid, as scanString
// would find), else 0 (scanString decides).
func shortString(b []byte, i int) int {
	if !swar.LittleEndian || len(b)-i < 9 {
		return 0
	}
	w := *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i+1))
	m := stringStops(w)
	low := m & -m // the first stop byte's high bit
	if low == 0 || w&(low>>7-1)&swar.High != 0 {
		return 0
	}
	if j := i + 1 + bits.TrailingZeros64(m)>>3; b[j] == '"' {
		return j + 1
	}
	return 0
}

// hasQuote flags, by its high bit, the bytes of w that are '"' (exact for the lowest flagged byte, as in
// quoteOrBackslash).
func hasQuote(w uint64) uint64 {
	q := w ^ (swar.K * '"')
	return (q - swar.K) &^ q & swar.High
}

// Tables of the scanners, indexed by byte: a lookup costs less in wasm than a chain of comparisons.
var (
	kindOf     [256]kind // the kind of a value that starts with the byte
	nesting    [256]int8 // +1 for '{' and '[', -1 for '}' and ']'
	endsScalar [256]bool // the bytes that end a number or literal: ',', '}', ']' and white space
)

func init() {
	for c := range kindOf {
		kindOf[c] = kNumber
	}
	kindOf['"'], kindOf['{'], kindOf['['], kindOf['t'], kindOf['f'], kindOf['n'] = kString, kObject, kArray, kTrue, kFalse, kNull
	nesting['{'], nesting['['], nesting['}'], nesting[']'] = 1, 1, -1, -1
	for _, c := range []byte{',', '}', ']', ' ', '\t', '\n', '\r'} {
		endsScalar[c] = true
	}
}

// kind reports the JSON type of the value at b[i].
type kind uint8

const (
	kNone kind = iota
	kString
	kNumber
	kObject
	kArray
	kTrue
	kFalse
	kNull
)

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kNumber:
		return "number"
	case kObject:
		return "object"
	case kArray:
		return "array"
	case kTrue, kFalse:
		return "boolean"
	case kNull:
		return "null"
	}
	return "nothing"
}

// val is a validated value in a body: [s, e) are its bytes.
type val struct {
	s, e int
	k    kind
}

func valAt(b []byte, i int) val {
	k := kindOf[b[i]]
	var e int
	switch k {
	case kString:
		if swar.LittleEndian && len(b)-i >= 9 { // a short string: its end without a call
			if m := hasQuote(*(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i+1))); m != 0 {
				if j := i + 1 + bits.TrailingZeros64(m)>>3; b[j-1] != '\\' {
					e = j + 1
					break
				}
			}
		}
		e = skipString(b, i)
	case kObject, kArray:
		e = skipNested(b, i)
	default:
		e = skipScalar(b, i)
	}
	return val{s: i, e: e, k: k}
}

// root returns the top-level value of a validated body: it ends where the trailing white space begins.
func root(b []byte) val {
	i := skipWS(b, 0)
	e := len(b)
	for e > i && isWS(b[e-1]) {
		e--
	}
	return val{s: i, e: e, k: kindOf[b[i]]}
}

// iter walks the members of an object or the elements of an array of a validated body.
type iter struct {
	b    []byte
	i    int
	obj  bool // an object: each member starts with its key
	done bool
}

func (v val) iter(b []byte) iter {
	if v.k != kObject && v.k != kArray {
		return iter{done: true}
	}
	return iter{b: b, i: v.s + 1, obj: v.k == kObject}
}

// next returns the next member (key is the raw key token including quotes) or element (key is zero).
func (it *iter) next() (key val, v val, ok bool) {
	if it.done {
		return
	}
	b := it.b
	i := skipWS(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] == '}' || b[i] == ']' {
		it.done = true
		return
	}
	if it.obj && b[i] == '"' {
		var e int
		if swar.LittleEndian && len(b)-i >= 9 { // a short key: its end without a call
			if m := hasQuote(*(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i+1))); m != 0 {
				if j := i + 1 + bits.TrailingZeros64(m)>>3; b[j-1] != '\\' {
					e = j + 1
				}
			}
		}
		if e == 0 {
			e = skipString(b, i)
		}
		j := skipWS(b, e)
		if j < len(b) && b[j] == ':' {
			key = val{s: i, e: e, k: kString}
			i = skipWS(b, j+1)
		}
	}
	v = valAt(b, i)
	it.i = v.e
	return key, v, true
}

// keyName returns the decoded key.
func keyName(b []byte, key val) string {
	raw := b[key.s+1 : key.e-1]
	for _, c := range raw {
		if c == '\\' {
			return unquote(b, key)
		}
	}
	return string(raw)
}

// LargeText, when set, returns an empty buffer with room for n bytes that a decoded string of at least
// LargeTextMin bytes is written into; the string then aliases the buffer. sdk/filter sets it in TinyGo builds to
// lend buffers that go back to a pool when the exchange ends (sdk/filter/pool.go: a large block left to
// TinyGo's collector is pinned by false roots), so such strings must not be kept past the exchange.
var LargeText func(n int) []byte

// LargeTextMin is the size from which a segment's text is written into a LargeText buffer.
const LargeTextMin = 16 << 10

// unquote decodes the (validated) string token v. Lone surrogates become U+FFFD.
func unquote(b []byte, v val) string { return unquoteWith(b, v, nil) }

// unquoteText is unquote for a segment's text: a large one goes into a LargeText buffer when that is set.
func unquoteText(b []byte, v val) string { return unquoteWith(b, v, LargeText) }

func unquoteWith(b []byte, v val, lend func(n int) []byte) string {
	raw := b[v.s+1 : v.e-1]
	esc := indexBackslash(raw)
	var out []byte
	switch {
	case lend != nil && len(raw) >= LargeTextMin:
		out = lend(len(raw))
	case esc < 0:
		return string(raw)
	default:
		out = make([]byte, 0, len(raw))
	}
	if esc < 0 {
		out = append(out, raw...)
	} else {
		out = appendUnquoted(out, raw, esc)
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// appendUnquoted appends the decoded string raw (the token without its quotes) to out; esc is the index of its
// first backslash.
func appendUnquoted(out, raw []byte, esc int) []byte {
	out = append(out, raw[:esc]...)
	for i := esc; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := len(raw)
			if k := indexBackslash(raw[i+1:]); k >= 0 {
				j = i + 1 + k
			}
			out = append(out, raw[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(raw) {
			break
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+6 > len(raw) {
				return out
			}
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 := rune(hex4(raw[i+2 : i+6]))
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}

func hex4(h []byte) uint16 {
	var r uint16
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= uint16(c - '0')
		case c >= 'a' && c <= 'f':
			r |= uint16(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= uint16(c - 'A' + 10)
		}
	}
	return r
}

// intValue parses a number token as an int64; integral floats such as 1e3 or 100.0 are accepted.
func intValue(b []byte, v val) (int64, bool) {
	if v.k != kNumber {
		return 0, false
	}
	raw := string(b[v.s:v.e])
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// appendQuoted appends s as a JSON string token. Quotes, backslashes and control characters are escaped, invalid
// UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so the output is also safe inside JavaScript.
func appendQuoted(out []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			default:
				out = append(out, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hexd[r&0xF])
			i += n
			start = i
			continue
		}
		i += n
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// get returns the value of the last member named exactly key of object v (later duplicates win, as in the JSON
// decoders upstream). Text-bearing fields are read from every copy instead (copiesOf).
func get(b []byte, v val, key string) (val, bool) {
	var found val
	ok := false
	it := v.iter(b)
	for {
		k, x, more := it.next()
		if !more {
			break
		}
		if v.k == kObject && keyIs(b, k, key) {
			found, ok = x, true
		}
	}
	return found, ok
}

// str returns the decoded string value, or "" when v is not a string.
func str(b []byte, v val) string {
	if v.k != kString {
		return ""
	}
	return unquote(b, v)
}

// getStr returns the decoded string member key of v ("" when absent or not a string).
func getStr(b []byte, v val, key string) string {
	x, ok := get(b, v, key)
	if !ok {
		return ""
	}
	return str(b, x)
}

func getInt(b []byte, v val, key string) (int64, bool) {
	x, ok := get(b, v, key)
	if !ok {
		return 0, false
	}
	return intValue(b, x)
}

// fields scans object v once and stores in out[i] the value of the last member named exactly names[i] (a zero val,
// kind kNone, when absent). It replaces several get calls, each of which would scan the whole object.
func fields(b []byte, v val, out []val, names ...string) {
	for i := range out {
		out[i] = val{}
	}
	if v.k != kObject {
		return
	}
	it := v.iter(b)
	for {
		k, x, ok := it.next()
		if !ok {
			return
		}
		for i, n := range names {
			if keyIs(b, k, n) {
				out[i] = x
				break
			}
		}
	}
}

// present reports whether a val from fields was found.
func (v val) present() bool { return v.k != kNone }

func inputErrf(what string, err error) error { return fmt.Errorf("%s: %w", what, err) }

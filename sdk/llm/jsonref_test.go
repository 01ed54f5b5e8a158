package llm

// The JSON scanning and key matching of sdk/llm before its wasm speed-up (commit 35ecd1b), kept verbatim but for
// the names (suffix Ref) as the reference of the differential tests in scanref_test.go: the new code must give the
// same values, members, keys, decoded strings and errors for every input.

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

func validateRef(b []byte) error {
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
				e, err := scanStringRef(b, i)
				if err != nil {
					return err
				}
				i = skipWS(b, e)
				if i >= len(b) || b[i] != ':' {
					return syntaxErr(i, "expected ':'")
				}
				i = skipWS(b, i+1)
			}
			continue
		case c == '"':
			e, err := scanStringRef(b, i)
			if err != nil {
				return err
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
					e, err := scanStringRef(b, i)
					if err != nil {
						return err
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

func scanStringRef(b []byte, i int) (int, error) {
	start := i
	i++
	var high uint64 // non-zero high bits: the string holds non-ASCII bytes, checked as UTF-8 at the end
	for i < len(b) {
		// Fast path: skip 8 bytes at a time while none is '"', '\\' or a control character.
		for len(b)-i >= 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			if !plain8(w) {
				break
			}
			high |= w
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			if high&0x8080808080808080 != 0 && !utf8.Valid(b[start+1:i]) {
				return 0, badUTF8(b, start+1, i)
			}
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return 0, syntaxErr(i, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return 0, syntaxErr(i, "invalid \\u escape")
				}
				i += 6
			default:
				return 0, syntaxErr(i, "invalid escape")
			}
		case c < 0x20:
			return 0, syntaxErr(i, "control character in string")
		default:
			high |= uint64(c)
			i++
		}
	}
	return 0, syntaxErr(start, "unterminated string")
}

func skipValueRef(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipStringRef(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipStringRef(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the offset after the closing quote of the (validated) string at b[i].
func skipStringRef(b []byte, i int) int {
	start := i
	i++
	for i < len(b) {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		j := i + q
		n := 0
		for k := j - 1; k > start && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
	return len(b)
}

func valAtRef(b []byte, i int) val {
	e := skipValueRef(b, i)
	var k kind
	switch b[i] {
	case '"':
		k = kString
	case '{':
		k = kObject
	case '[':
		k = kArray
	case 't':
		k = kTrue
	case 'f':
		k = kFalse
	case 'n':
		k = kNull
	default:
		k = kNumber
	}
	return val{s: i, e: e, k: k}
}

func rootRef(b []byte) val { return valAtRef(b, skipWS(b, 0)) }

type iterRef struct {
	b    []byte
	i    int
	done bool
}

func iterRefOf(v val, b []byte) iterRef {
	if v.k != kObject && v.k != kArray {
		return iterRef{done: true}
	}
	return iterRef{b: b, i: v.s + 1}
}

// next returns the next member (key is the raw key token including quotes) or element (key is zero).
func (it *iterRef) next() (key val, v val, ok bool) {
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
	if b[i] == '"' {
		// Could be a key (object) or a string element (array): look for ':' after it.
		e := skipStringRef(b, i)
		j := skipWS(b, e)
		if j < len(b) && b[j] == ':' {
			key = val{s: i, e: e, k: kString}
			i = skipWS(b, j+1)
		}
	}
	v = valAtRef(b, i)
	it.i = v.e
	return key, v, true
}

func keyNameRef(b []byte, key val) string {
	raw := b[key.s+1 : key.e-1]
	for _, c := range raw {
		if c == '\\' {
			return unquoteRef(b, key)
		}
	}
	return string(raw)
}

func unquoteRef(b []byte, v val) string { return unquoteWithRef(b, v, nil) }

func unquoteWithRef(b []byte, v val, lend func(n int) []byte) string {
	raw := b[v.s+1 : v.e-1]
	esc := bytes.IndexByte(raw, '\\')
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
		out = appendUnquotedRef(out, raw, esc)
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// appendUnquoted appends the decoded string raw (the token without its quotes) to out; esc is the index of its
// first backslash.
func appendUnquotedRef(out, raw []byte, esc int) []byte {
	out = append(out, raw[:esc]...)
	for i := esc; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := len(raw)
			if k := bytes.IndexByte(raw[i+1:], '\\'); k >= 0 {
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

func getRef(b []byte, v val, key string) (val, bool) {
	var found val
	ok := false
	it := iterRefOf(v, b)
	for {
		k, x, more := it.next()
		if !more {
			break
		}
		if v.k == kObject && keyIsRef(b, k, key) {
			found, ok = x, true
		}
	}
	return found, ok
}

func fieldsRef(b []byte, v val, out []val, names ...string) {
	for i := range out {
		out[i] = val{}
	}
	if v.k != kObject {
		return
	}
	it := iterRefOf(v, b)
	for {
		k, x, ok := it.next()
		if !ok {
			return
		}
		for i, n := range names {
			if keyIsRef(b, k, n) {
				out[i] = x
				break
			}
		}
	}
}

func keyMatchRef(b []byte, k val) (name string, alias bool) {
	raw := b[k.s+1 : k.e-1]
	if simpleKey(raw) {
		if len(raw) >= len(knownByLen) {
			return "", false
		}
		cands := knownByLen[len(raw)]
		for _, n := range cands {
			if string(raw) == n {
				return n, false
			}
		}
		if !hasUpper(raw) {
			return "", false
		}
		for _, n := range cands {
			if asciiFoldEq(raw, n) {
				return n, true
			}
		}
		return "", false
	}
	if len(raw) > 6*64 {
		return "", false
	}
	dec := keyBytesRef(b, k)
	if len(dec) < len(knownByLen) {
		for _, n := range knownByLen[len(dec)] {
			if string(dec) == n {
				return n, false
			}
		}
	}
	if len(dec) > 64 {
		return "", false
	}
	var scratch [96]byte
	n := knownKeys[string(foldKey(scratch[:0], dec))]
	return n, n != ""
}

func keyIsRef(b []byte, key val, name string) bool {
	raw := b[key.s+1 : key.e-1]
	if string(raw) == name {
		return true
	}
	if len(raw) <= len(name) || len(raw) > 6*len(name) || bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	return unquoteRef(b, key) == name
}

func keyFoldRef(b []byte, key val, name string) bool {
	raw := b[key.s+1 : key.e-1]
	if simpleKey(raw) {
		return asciiFoldEq(raw, name)
	}
	return slowKeyIsRef(b, key, name)
}

func keyBytesRef(b []byte, k val) []byte {
	raw := b[k.s+1 : k.e-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return []byte(unquoteRef(b, k))
	}
	return raw
}

func slowKeyIsRef(b []byte, key val, name string) bool {
	if key.e-key.s > 6*len(name)+8 {
		return false
	}
	var s1, s2 [96]byte
	return bytes.Equal(foldKey(s1[:0], keyBytesRef(b, key)), foldKey(s2[:0], []byte(name)))
}

func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lo * '"')
	bs := w ^ (lo * '\\')
	m := ((w - lo*0x20) &^ w) | ((q - lo) &^ q) | ((bs - lo) &^ bs)
	return m&hi == 0
}

package detect

import (
	"unicode/utf8"
)

// Minimum sizes for a run to be treated as an encoded payload.
const (
	minBase64Run = 20 // characters of a base64 run
	minHexBytes  = 8  // decoded bytes of a hex run
	minURLEsc    = 3  // %XX escapes in a text
	minHTMLRefs  = 3  // character references in a text
	minUEscapes  = 4  // \uXXXX escapes in a text
)

// decodePayloads finds base64, hex, percent-encoded and HTML-entity-encoded parts of s, decodes those that turn
// into readable text and appends each as its own chunk (recursively, up to maxDecodeDepth).
func (c *canon) decodePayloads(s string, depth int, st *textStats) {
	if st.maxB64 >= minBase64Run {
		c.scanBase64(s, depth)
	}
	if st.maxHex >= 2*minHexBytes {
		c.scanHex(s, depth)
	}
	if st.pct >= minURLEsc && countURLEscapes(s) >= minURLEsc {
		c.emitDecoded(FlagURL, depth, func(dst []byte) []byte { return urlDecode(dst, s) })
	}
	if st.amp >= minHTMLRefs && countHTMLRefs(s) >= minHTMLRefs {
		c.emitDecoded(FlagHTML, depth, func(dst []byte) []byte { return htmlDecode(dst, s) })
	}
	if st.bsl >= minUEscapes && countUEscapes(s) >= minUEscapes {
		c.emitDecoded(FlagHex, depth, func(dst []byte) []byte { return uDecode(dst, s) })
	}
	c.decodeMore(s, depth, st.ascii) // binary, character codes, Morse, braille, NATO, base32, ascii85, QP, uuencode
}

// uEscape decodes the escape at the start of s: \uXXXX, \UXXXXXXXX or \u{X…} (Go, JSON, Python,
// JavaScript, C# and Rust spellings), returning the rune and the escape's length (0 when there is none).
func uEscape(s string) (rune, int) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' && s[1] != 'U' {
		return 0, 0
	}
	digits, end := 4, 6
	switch {
	case s[1] == 'u' && s[2] == '{':
		j := 3
		for j < len(s) && j < 10 && s[j] != '}' {
			j++
		}
		if j >= len(s) || s[j] != '}' || j == 3 {
			return 0, 0
		}
		r, ok := hexRune(s[3:j])
		if !ok {
			return 0, 0
		}
		return r, j + 1
	case s[1] == 'U':
		digits, end = 8, 10
		if len(s) < end {
			return 0, 0
		}
	}
	r, ok := hexRune(s[2 : 2+digits])
	if !ok {
		return 0, 0
	}
	return r, end
}

func hexRune(h string) (rune, bool) {
	var r rune
	for i := 0; i < len(h); i++ {
		v, ok := hexVal(h[i])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, r <= utf8.MaxRune
}

func countUEscapes(s string) int {
	n := 0
	for i := 0; i+6 <= len(s); i++ {
		if s[i] == '\\' {
			if _, k := uEscape(s[i:]); k > 0 {
				n++
				i += k - 1
			}
		}
	}
	return n
}

// uDecode replaces the \u escapes of s by the characters they stand for (a surrogate pair as in JSON).
func uDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if s[i] == '\\' {
			if r, k := uEscape(s[i:]); k > 0 {
				if r >= 0xD800 && r < 0xDC00 {
					if r2, k2 := uEscape(s[i+k:]); k2 > 0 && r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						k += k2
					}
				}
				dst = utf8.AppendRune(dst, r)
				i += k
				continue
			}
		}
		dst = append(dst, s[i])
		i++
	}
	return dst
}

// textStats is what one cheap pass over a text tells: whether it is all ASCII, and which payload scanners can
// possibly find something (ordinary prose has no base64 run of minBase64Run characters, no hex run of
// 2*minHexBytes, and few '%' and '&').
type textStats struct {
	ascii                         bool
	maxB64, maxHex, pct, amp, bsl int
}

// statsOf computes the textStats of s for decodePayloads, which only compares them with its thresholds: maxB64
// and maxHex are the thresholds minBase64Run and 2*minHexBytes when the text has such a run, else 0, found by a
// skipping search that reads about one byte in minBase64Run of prose; the '%', '&' and '\\' counts are packed
// in one word per byte (one table lookup and one addition).
func statsOf(s string) textStats {
	var acc uint64
	var all uint8
	for i := 0; i < len(s); i++ {
		acc += statsCount[s[i]]
		all |= s[i]
	}
	const field = 1<<21 - 1 // maxCanonInput < 1<<21: no field overflows
	return textStats{
		ascii:  all < 0x80,
		maxB64: runAtLeast(s, dcB64, minBase64Run),
		maxHex: runAtLeast(s, dcHex, 2*minHexBytes),
		pct:    int(acc & field),
		amp:    int(acc >> 21 & field),
		bsl:    int(acc >> 42 & field),
	}
}

// statsCount packs the '%', '&' and '\\' counts of statsOf into 21-bit fields.
var statsCount = func() (t [256]uint64) {
	t['%'], t['&'], t['\\'] = 1, 1<<21, 1<<42
	return t
}()

// runAtLeast returns n when s has a run of at least n bytes of decodeClass bit, else 0. It looks at the last byte of each window of n bytes first and skips the window
// when that byte is not in the class.
func runAtLeast(s string, bit uint8, n int) int {
	for end := n - 1; end < len(s); {
		if decodeClass[s[end]]&bit == 0 {
			end += n
			continue
		}
		start := end
		for start > end-n+1 && decodeClass[s[start-1]]&bit != 0 {
			start--
		}
		if start == end-n+1 {
			return n
		}
		// s[start-1] ends every run through it: the next run of n bytes ends at start+n-1 or later.
		end = start + n - 1
	}
	return 0
}

const (
	dcB64 = 1 << iota
	dcHex
	dcPct
	dcAmp
	dcHigh // a byte >= 0x80
	dcBsl  // a backslash
)

var decodeClass = func() (t [256]uint8) {
	for b := 0; b < 256; b++ {
		if b64Class[b] != 0 {
			t[b] |= dcB64
		}
		if hexish[b] {
			t[b] |= dcHex
		}
	}
	for b := 0x80; b < 256; b++ {
		t[b] |= dcHigh
	}
	t['%'] |= dcPct
	t['&'] |= dcAmp
	t['\\'] |= dcBsl
	return t
}()

// full reports whether the decoded chunks or bytes are at their caps: no more payloads are decoded.
func (c *canon) full() bool { return c.chunks >= maxDecodedChunks || len(c.decoded) >= maxDecodedBytes }

// emitDecoded runs dec into the decoded buffer and, when the result is readable text, adds it as a chunk.
func (c *canon) emitDecoded(flag uint32, depth int, dec func(dst []byte) []byte) {
	if c.full() {
		return
	}
	start := len(c.decoded)
	c.decoded = dec(c.decoded)
	if len(c.decoded) > maxDecodedBytes {
		c.decoded = c.decoded[:maxDecodedBytes]
	}
	out := c.decoded[start:]
	if !readable(out) {
		c.decoded = c.decoded[:start]
		return
	}
	c.chunks++
	c.flags |= flag
	// Copy: the decoded buffer may grow (and move) during the recursive call.
	c.add(string(out), depth+1)
}

// readable reports whether b is valid UTF-8 text that is mostly letters, digits, spaces and punctuation and
// contains at least a few letters.
func readable(b []byte) bool {
	if len(b) < 6 || !utf8.Valid(b) {
		return false
	}
	var good, bad, letters int
	for _, r := range string(b) {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			good++
		case r < 0x20 || r == 0x7F || r == utf8.RuneError:
			bad++
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80:
			letters++
			good++
		default:
			good++
		}
	}
	return letters >= 4 && bad*20 <= good
}

// b64Class: 0 not base64, 1 lower, 2 upper, 3 digit, 4 other alphabet symbol (+ / - _).
var b64Class = func() (t [256]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		t[b] = 1
		t[b-32] = 2
	}
	for b := '0'; b <= '9'; b++ {
		t[b] = 3
	}
	t['+'], t['/'], t['-'], t['_'] = 4, 4, 4, 4
	return t
}()

func (c *canon) scanBase64(s string, depth int) {
	for i := 0; i < len(s); {
		if b64Class[s[i]] == 0 {
			i++
			continue
		}
		j := i
		var upper, lower, digit int
		for j < len(s) {
			switch b64Class[s[j]] {
			case 0:
				goto end
			case 1:
				lower++
			case 2:
				upper++
			case 3:
				digit++
			}
			j++
		}
	end:
		run := s[i:j]
		i = j
		for i < len(s) && s[i] == '=' {
			i++
		}
		// Real base64 of text mixes upper and lower case and is not a plain word or path.
		if len(run) < minBase64Run || upper == 0 || lower == 0 || (upper+digit)*8 < len(run) {
			continue
		}
		if c.full() {
			return
		}
		room := (maxDecodedBytes - len(c.decoded)) / 3 * 4
		if len(run) > room {
			run = run[:room]
		}
		c.emitDecoded(FlagBase64, depth, func(dst []byte) []byte { return b64Decode(dst, run) })
	}
}

var b64Val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'] = 62 // URL-safe alphabet
	t['_'] = 63
	return t
}()

// b64Decode decodes a run of the standard or URL-safe alphabet without padding; a trailing partial quantum is
// decoded as far as it goes.
func b64Decode(dst []byte, run string) []byte {
	var acc uint32
	var nbits uint
	for i := 0; i < len(run); i++ {
		v := b64Val[run[i]]
		if v == 0xFF {
			break
		}
		acc = acc<<6 | uint32(v)
		nbits += 6
		if nbits >= 8 {
			nbits -= 8
			dst = append(dst, byte(acc>>nbits))
			acc &= 1<<nbits - 1
		}
	}
	return dst
}

func hexVal(b byte) (byte, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// scanHex finds runs of hex byte pairs, either contiguous ("69676e6f7265") or written as separate pairs
// ("69 67 6e", "\x69\x67", "0x69,0x67").
func (c *canon) scanHex(s string, depth int) {
	// Cheap pre-filter: only runs of hex digits and separators long enough for minHexBytes pairs are parsed.
	for i := 0; i < len(s); {
		if !hexish[s[i]] {
			i++
			continue
		}
		j := i
		for j < len(s) && hexish[s[j]] {
			j++
		}
		if j-i >= 2*minHexBytes {
			c.parseHexRun(s[i:j], depth)
			if c.full() {
				return
			}
		}
		i = j
	}
}

var hexish = func() (t [256]bool) {
	for _, b := range []byte("0123456789abcdefABCDEFxX\\ ,:") {
		t[b] = true
	}
	return t
}()

func (c *canon) parseHexRun(s string, depth int) {
	for i := 0; i < len(s); {
		start := i
		n := 0
		j := i
		for j < len(s) {
			k := j
			// optional separator or prefix
			if k+1 < len(s) && (s[k] == '\\' && s[k+1] == 'x' || s[k] == '0' && (s[k+1] == 'x' || s[k+1] == 'X')) {
				if k+3 < len(s) {
					if _, ok := hexVal(s[k+2]); ok {
						k += 2
					}
				}
			}
			if k+1 < len(s) {
				if _, ok1 := hexVal(s[k]); ok1 {
					if _, ok2 := hexVal(s[k+1]); ok2 {
						n++
						j = k + 2
						if j < len(s) && (s[j] == ' ' || s[j] == ',' || s[j] == ':') && j+1 < len(s) {
							if _, ok := hexVal(s[j+1]); ok || s[j+1] == '\\' || s[j+1] == '0' {
								j++
							}
						}
						continue
					}
				}
			}
			break
		}
		if n == 0 {
			i++
			continue
		}
		i = j
		if n < minHexBytes {
			continue
		}
		run := s[start:j]
		c.emitDecoded(FlagHex, depth, func(dst []byte) []byte { return hexDecode(dst, run) })
		if c.full() {
			return
		}
	}
}

func hexDecode(dst []byte, run string) []byte {
	for i := 0; i+1 < len(run); {
		if run[i] == '\\' || (run[i] == '0' && (run[i+1] == 'x' || run[i+1] == 'X')) {
			i += 2
			continue
		}
		h, ok1 := hexVal(run[i])
		l, ok2 := hexVal(run[i+1])
		if !ok1 || !ok2 {
			i++
			continue
		}
		dst = append(dst, h<<4|l)
		i += 2
	}
	return dst
}

func countURLEscapes(s string) int {
	n := 0
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' {
			if _, ok := hexVal(s[i+1]); ok {
				if _, ok := hexVal(s[i+2]); ok {
					n++
				}
			}
		}
	}
	return n
}

func urlDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			h, ok1 := hexVal(s[i+1])
			l, ok2 := hexVal(s[i+2])
			if ok1 && ok2 {
				dst = append(dst, h<<4|l)
				i += 2
				continue
			}
		}
		if s[i] == '+' {
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

func countHTMLRefs(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		if _, l := htmlRef(s[i:]); l > 0 {
			n++
		}
	}
	return n
}

// htmlRef decodes one character reference at the start of s ("&#105;", "&#x69;", "&lt;"), returning the rune
// and the length consumed (0 if s does not start with one).
func htmlRef(s string) (rune, int) {
	if len(s) < 3 || s[0] != '&' {
		return 0, 0
	}
	end := -1
	for k := 1; k < len(s) && k < 12; k++ {
		if s[k] == ';' {
			end = k
			break
		}
	}
	if end < 2 { // no ';', or "&;" with an empty name
		return 0, 0
	}
	body := s[1:end]
	if body[0] == '#' {
		var v rune
		if len(body) > 1 && (body[1] == 'x' || body[1] == 'X') {
			if len(body) == 2 {
				return 0, 0
			}
			for k := 2; k < len(body); k++ {
				h, ok := hexVal(body[k])
				if !ok {
					return 0, 0
				}
				v = v*16 + rune(h)
			}
		} else {
			if len(body) == 1 {
				return 0, 0
			}
			for k := 1; k < len(body); k++ {
				if body[k] < '0' || body[k] > '9' {
					return 0, 0
				}
				v = v*10 + rune(body[k]-'0')
			}
		}
		if v <= 0 || v > utf8.MaxRune {
			return 0, 0
		}
		return v, end + 1
	}
	switch body {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	case "apos":
		return '\'', end + 1
	case "nbsp":
		return ' ', end + 1
	}
	return 0, 0
}

func htmlDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '&' {
			if r, l := htmlRef(s[i:]); l > 0 {
				dst = utf8.AppendRune(dst, r)
				i += l - 1
				continue
			}
		}
		dst = append(dst, s[i])
	}
	return dst
}

// rot13 appends the rot13 of the ASCII letters of src.
func rot13(dst, src []byte) []byte {
	for _, b := range src {
		switch {
		case b >= 'a' && b <= 'z':
			b = 'a' + (b-'a'+13)%26
		case b >= 'A' && b <= 'Z':
			b = 'A' + (b-'A'+13)%26
		}
		dst = append(dst, b)
	}
	return dst
}

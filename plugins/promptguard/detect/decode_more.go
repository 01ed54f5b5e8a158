package detect

import (
	"math/bits"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// The encodings an LLM reads besides those of decode.go, as red-team tools (garak's encoding probes) write
// them: 8-bit or 7-bit binary, decimal and octal character codes, Morse, Unicode braille, the NATO spelling
// alphabet, base32, ascii85, quoted-printable and uuencode.
//
// Ordinary prose must pay almost nothing, so the scanners start from probes that skip it:
//   - one 8-byte word in three is tested at once (SWAR) for a byte above '`' (a lower-case letter, or
//     non-ASCII) and for a space. A run of minCodeRun bytes of 0x20–0x60 (digits, space, punctuation,
//     capitals), which holds the binary, decimal, octal, Morse, base32, quoted-printable and uuencoded
//     payloads, covers three whole words, one of them probed and found without such a byte; a run of minA85Run
//     bytes of the ascii85 alphabet likewise has a probed word without a space. Prose has few such words, and
//     only around those is the run measured byte by byte;
//   - braille: runs of minBrailleRun bytes of UTF-8 braille cells and spaces (only in non-ASCII text);
//   - NATO words: one word looked at every natoStride bytes (a run of minNATO code words is longer).
//
// A decoded payload goes through emitDecoded as the others do; the character codes, Morse, braille and NATO
// readings must moreover read as words (wordy), since tables of numbers and lines of dashes are common.
const (
	minCodeRun    = 32 // bytes of a codes-class run
	minCodes      = 8  // binary/decimal/octal codes in a group
	minBinaryRun  = 48 // digits of contiguous binary (six 8-bit bytes)
	minMorse      = 8  // Morse letters
	minB32Run     = 24 // base32 characters
	minQPLetters  = 8  // quoted-printable escapes of letters (=49): an encoder escapes no letter
	minA85Run     = 32 // ascii85 characters
	minBrailleRun = 24 // bytes of braille cells (eight cells)
	minNATO       = 14 // NATO code words in a run
	natoStride    = 64 // a run of minNATO code words (≥ 4 letters + separator each) spans more
	probeStride   = 24 // bytes between probed words: a run of 32 bytes covers three whole 8-byte words
)

const (
	mcCode    = 1 << iota // 0x20–0x60
	mcA85                 // '!'–'u' and 'z'
	mcBraille             // 0xE2, UTF-8 continuation bytes and space
	mcLetter              // ASCII letter
)

var moreClass = func() (t [256]uint8) {
	for b := 0x20; b <= 0x60; b++ {
		t[b] |= mcCode
	}
	for b := '!'; b <= 'u'; b++ {
		t[b] |= mcA85
	}
	t['z'] |= mcA85
	for b := 0x80; b < 0xC0; b++ {
		t[b] |= mcBraille
	}
	t[0xE2] |= mcBraille
	t[' '] |= mcBraille
	for b := 'a'; b <= 'z'; b++ {
		t[b] |= mcLetter
		t[b-32] |= mcLetter
	}
	return t
}()

// decodeMore is decodePayloads' part for the encodings of this file.
func (c *canon) decodeMore(s string, depth int, ascii bool) {
	qp := 0
	codeTo, a85To := 0, 0 // runs already read end there
	p := unsafe.Pointer(unsafe.StringData(s))
	for i := probeStride - 8; i+8 <= len(s); i += probeStride {
		x := *(*uint64)(unsafe.Add(p, i))
		if i >= codeTo && ((x+0x1F*swar.K)|x)&swar.High == 0 { // no byte above '`'
			start, end := runAround(s, i, mcCode)
			codeTo = end
			if end-start >= minCodeRun {
				codeTo = c.scanCodes(s, start, end, depth, &qp)
			}
		}
		if y := x ^ ' '*swar.K; i >= a85To && (y-swar.K)&^y&swar.High == 0 { // no space
			start, end := runAround(s, i, mcA85)
			a85To = end
			if end-start >= minA85Run {
				c.scanA85(s[start:end], depth)
			}
		}
	}
	// qp counted the letter escapes of the codes-class runs, which are disjoint: a recount over s
	// (every escape qp counted, and more) could not turn this test false.
	if qp >= minQPLetters {
		c.emitDecoded(FlagURL, depth, func(dst []byte) []byte { return qpDecode(dst, s) })
	}
	if !ascii {
		for i := 0; ; {
			start, end := nextRun(s, i, mcBraille, minBrailleRun)
			if start < 0 {
				break
			}
			c.scanBraille(s[start:end], depth)
			i = end
		}
	}
	c.scanNATO(s, depth)
}

// runAround returns the maximal run of moreClass bit that holds s[i] (an empty one at i when s[i] is not in
// the class).
func runAround(s string, i int, bit uint8) (int, int) {
	start, end := i, i
	for start > 0 && moreClass[s[start-1]]&bit != 0 {
		start--
	}
	for end < len(s) && moreClass[s[end]]&bit != 0 {
		end++
	}
	if end == i {
		return i, i
	}
	return start, end
}

// nextRun returns the first maximal run of s[from:] of at least n bytes of moreClass bit (start -1 if none). It
// looks at the last byte of each window of n bytes first and skips the window when that byte is not in the
// class.
func nextRun(s string, from int, bit uint8, n int) (int, int) {
	for end := from + n - 1; end < len(s); {
		if moreClass[s[end]]&bit == 0 {
			end += n
			continue
		}
		start := end
		for start > end-n+1 && moreClass[s[start-1]]&bit != 0 {
			start--
		}
		if start > end-n+1 {
			end = start + n - 1
			continue
		}
		for start > from && moreClass[s[start-1]]&bit != 0 {
			start--
		}
		for end < len(s) && moreClass[s[end]]&bit != 0 {
			end++
		}
		return start, end
	}
	return -1, -1
}

// scanCodes decodes what the codes-class run s[start:end] holds and returns where scanning goes on.
func (c *canon) scanCodes(s string, start, end, depth int, qp *int) int {
	if (start == 0 || s[start-1] == '\n') && s[start] > ' ' && s[start] <= 'M' {
		if e := c.uudecodeLines(s, start, depth); e > start {
			return e
		}
	}
	r := s[start:end]
	for k := 0; k < len(r) && !c.full(); {
		b := r[k]
		switch {
		case b >= '0' && b <= '9' && (k == 0 || !isCodeWordByte(r[k-1])):
			k = c.charCodes(r, k, depth)
		case (b == '.' || b == '-') && (k == 0 || r[k-1] == ' ' || r[k-1] == '|'):
			k = c.morseCodes(r, k, depth)
		case b == '=' && k+2 < len(r):
			if h, ok := upperHex(r[k+1]); ok {
				if l, ok := upperHex(r[k+2]); ok && moreClass[h<<4|l]&mcLetter != 0 {
					*qp++
				}
			}
			k++
		default:
			k++
		}
	}
	c.scanBase32(r, depth)
	return end
}

// isCodeWordByte: a digit glued to one of these is part of a word or number (x86, 3.14, v2), not a code.
func isCodeWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b == '.' || b == '_' || b == '-' || b == '='
}

func upperHex(b byte) (byte, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// charCodes reads the group of number tokens of r that starts at k (separated by spaces and commas) and, when it
// is binary (8-bit or 7-bit, spaced or contiguous), decimal or octal character codes of readable words, adds
// the text as a chunk. It returns the end of the group.
func (c *canon) charCodes(r string, k, depth int) int {
	n, minLen, maxLen := 0, 99, 0
	binary, octal := true, true
	maxVal := 0
	end := k
	for i := k; i < len(r); {
		if r[i] < '0' || r[i] > '9' {
			break
		}
		j, v := i, 0
		for j < len(r) && r[j] >= '0' && r[j] <= '9' {
			binary = binary && r[j] <= '1'
			octal = octal && r[j] <= '7'
			if v < 1000 {
				v = v*10 + int(r[j]-'0')
			}
			j++
		}
		if j < len(r) && isCodeWordByte(r[j]) && r[j] != '.' || j+1 < len(r) && r[j] == '.' && r[j+1] >= '0' && r[j+1] <= '9' {
			break // 3.14, 4K, 10-20: a number of the text
		}
		n++
		minLen, maxLen = min(minLen, j-i), max(maxLen, j-i)
		maxVal = max(maxVal, v)
		end = j
		for j < len(r) && (r[j] == ' ' || r[j] == ',') {
			j++
		}
		i = j
	}
	if end == k {
		return k + 1
	}
	g := r[k:end]
	switch {
	case n == 1 && binary && len(g) >= minBinaryRun:
		if len(g)%8 == 0 {
			c.emitWordy(FlagHex, depth, false, func(dst []byte) []byte { return codesDecode(dst, g, 2, 8) })
		} else if len(g)%7 == 0 {
			c.emitWordy(FlagHex, depth, false, func(dst []byte) []byte { return codesDecode(dst, g, 2, 7) })
		}
	case n < minCodes:
	case binary && minLen >= 5 && maxLen <= 8:
		c.emitWordy(FlagHex, depth, false, func(dst []byte) []byte { return codesDecode(dst, g, 2, 0) })
	case maxLen <= 3:
		before := c.chunks
		if maxVal <= 126 {
			c.emitWordy(FlagHex, depth, true, func(dst []byte) []byte { return codesDecode(dst, g, 10, 0) })
		}
		if c.chunks == before && octal && maxVal <= 176 {
			c.emitWordy(FlagHex, depth, true, func(dst []byte) []byte { return codesDecode(dst, g, 8, 0) })
		}
	}
	return end
}

// codesDecode appends the characters whose codes in base are the number tokens of g; width > 0 cuts a
// contiguous run of digits into codes of that many digits instead. A code that is no character (a control
// character other than tab and newline, or above 126) ends the text there.
func codesDecode(dst []byte, g string, base, width int) []byte {
	v, nd := 0, 0
	flush := func() bool {
		if nd == 0 {
			return true
		}
		if v > 126 || v < 32 && v != '\n' && v != '\t' && v != '\r' {
			return false
		}
		dst = append(dst, byte(v))
		v, nd = 0, 0
		return true
	}
	for i := 0; i < len(g); i++ {
		b := g[i]
		if b < '0' || b > '9' {
			if !flush() {
				return dst
			}
			continue
		}
		v = v*base + int(b-'0')
		nd++
		if width > 0 && nd == width && !flush() {
			return dst
		}
	}
	flush()
	return dst
}

// emitWordy is emitDecoded for readings that must also read as words (see wordy).
func (c *canon) emitWordy(flag uint32, depth int, spaced bool, dec func(dst []byte) []byte) {
	c.emitDecoded(flag, depth, func(dst []byte) []byte {
		start := len(dst)
		dst = dec(dst)
		if !wordy(dst[start:], spaced) {
			return dst[:start]
		}
		return dst
	})
}

// wordy reports whether b reads as words of a Latin-script language: at least eight letters making 70% of its
// other bytes than spaces, vowels (a e i o u y) between a fifth and two thirds of the letters, four different
// letters, and not the alphabet in order (fewer than a quarter of the letters follow their predecessor: a
// spelling-alphabet or Morse lesson); with spaced, also a space at least every 24 bytes.
func wordy(b []byte, spaced bool) bool {
	var letters, vowels, spaces, others, run, maxRun, successors int
	var seen uint32
	var prev byte
	for _, x := range b {
		if x == ' ' {
			spaces++
			run = 0
			continue
		}
		run++
		maxRun = max(maxRun, run)
		l := x | 0x20
		if l < 'a' || l > 'z' {
			others++
			continue
		}
		letters++
		if l == prev+1 {
			successors++
		}
		prev = l
		seen |= 1 << (l - 'a')
		switch l {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			vowels++
		}
	}
	if spaced && (spaces == 0 || maxRun > 24) {
		return false
	}
	return letters >= 8 && letters*3 >= 7*others && vowels*5 >= letters && vowels*3 <= 2*letters &&
		bits.OnesCount32(seen) >= 4 && successors*4 < letters
}

// morseTab maps a Morse code (1, then a bit per symbol, dash 1) to its character.
var morseTab = [128]byte{2: 'E', 3: 'T', 4: 'I', 5: 'A', 6: 'N', 7: 'M', 8: 'S', 9: 'U', 10: 'R', 11: 'W', 12: 'D',
	13: 'K', 14: 'G', 15: 'O', 16: 'H', 17: 'V', 18: 'F', 20: 'L', 22: 'P', 23: 'J', 24: 'B', 25: 'X', 26: 'C',
	27: 'Y', 28: 'Z', 29: 'Q', 32: '5', 33: '4', 35: '3', 39: '2', 40: '&', 42: '+', 47: '1', 48: '6', 49: '=',
	50: '/', 54: '(', 56: '7', 60: '8', 62: '9', 63: '0', 76: '?', 77: '_', 82: '"', 85: '.', 90: '@', 94: '\'',
	97: '-', 106: ';', 107: '!', 109: ')', 115: ',', 120: ':'}

// morseCodes reads the Morse group of r that starts at k: codes of '.' and '-' separated by a space, words
// separated by '/', '|' or two spaces or more. It adds the reading as a chunk when it has minMorse letters and
// reads as words, and returns the end of the group.
func (c *canon) morseCodes(r string, k, depth int) int {
	letters, end := 0, k
	for i := k; i < len(r); {
		j, code := i, 1
		for j < len(r) && (r[j] == '.' || r[j] == '-') && code < 64 {
			code = code<<1 | int(r[j]&1) // '.' 0x2E, '-' 0x2D
			j++
		}
		if j == i {
			if r[i] != '/' && r[i] != '|' {
				break
			}
			j++
		} else {
			if j < len(r) && (r[j] == '.' || r[j] == '-') || morseTab[code] == 0 {
				break
			}
			letters++
		}
		end = j
		for j < len(r) && r[j] == ' ' {
			j++
		}
		i = j
	}
	if letters >= minMorse {
		g := r[k:end]
		c.emitWordy(FlagCipher, depth, false, func(dst []byte) []byte { return morseDecode(dst, g) })
	}
	return max(end, k+1)
}

// morseDecode reads the Morse group g (a code that is no character is dropped).
func morseDecode(dst []byte, g string) []byte {
	code, gap := 1, 0
	for i := 0; i <= len(g); i++ {
		if i < len(g) && (g[i] == '.' || g[i] == '-') {
			if gap >= 2 && len(dst) > 0 && dst[len(dst)-1] != ' ' {
				dst = append(dst, ' ')
			}
			gap = 0
			if code == 0 {
				continue
			}
			code = code<<1 | int(g[i]&1)
			if code >= len(morseTab) {
				code = 0 // too long: no character
			}
			continue
		}
		if code > 1 && morseTab[code] != 0 {
			dst = append(dst, morseTab[code])
		}
		code = 1
		if i < len(g) {
			if g[i] == ' ' {
				gap++
			} else {
				gap = 2 // '/' or '|'
			}
		}
	}
	return dst
}

// scanBase32 decodes the runs of r of the RFC 4648 base32 alphabet (capitals and 2–7, optional '=' padding)
// of minB32Run characters or more that hold a digit (base32 of text does; shouted words do not).
func (c *canon) scanBase32(r string, depth int) {
	for i := 0; i < len(r); {
		if !isB32(r[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(r) && isB32(r[j]) {
			if r[j] <= '7' {
				digits++
			}
			j++
		}
		if j-i >= minB32Run && digits > 0 && (i == 0 || !isCodeWordByte(r[i-1])) && !c.full() {
			run := r[i:j]
			c.emitDecoded(FlagBase64, depth, func(dst []byte) []byte { return b32Decode(dst, run) })
		}
		i = j
	}
}

func isB32(b byte) bool { return b >= 'A' && b <= 'Z' || b >= '2' && b <= '7' }

func b32Decode(dst []byte, run string) []byte {
	var acc uint32
	var nbits uint
	for i := 0; i < len(run); i++ {
		b := run[i]
		v := uint32(b - 'A')
		if b <= '7' {
			v = uint32(b-'2') + 26
		}
		acc = acc<<5 | v
		nbits += 5
		if nbits >= 8 {
			nbits -= 8
			dst = append(dst, byte(acc>>nbits))
			acc &= 1<<nbits - 1
		}
	}
	return dst
}

// qpDecode decodes quoted-printable: =XX escapes, and '=' at a line end (a soft line break) removed.
func qpDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			if i+2 < len(s) {
				h, ok1 := upperHex(s[i+1])
				l, ok2 := upperHex(s[i+2])
				if ok1 && ok2 {
					dst = append(dst, h<<4|l)
					i += 2
					continue
				}
			}
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
				continue
			}
			if i+2 < len(s) && s[i+1] == '\r' && s[i+2] == '\n' {
				i += 2
				continue
			}
		}
		dst = append(dst, s[i])
	}
	return dst
}

// uudecodeLines decodes the uuencoded lines that start at s[i] (a length character ' '+n, then n bytes in
// groups of four characters of ' '–'`', as b2a_uu and `uuencode` write them) and returns the end of the last
// line read (i when s[i:] is no such line).
func (c *canon) uudecodeLines(s string, i, depth int) int {
	end := i
	lines := 0
	for p := i; p < len(s); {
		e := p
		for e < len(s) && s[e] != '\n' {
			e++
		}
		line := s[p:e]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !uuLine(line) {
			break
		}
		lines++
		end = e
		p = e + 1
	}
	if lines == 0 {
		return i
	}
	g := s[i:end]
	c.emitDecoded(FlagBase64, depth, func(dst []byte) []byte { return uuDecode(dst, g) })
	return end
}

// uuLine reports whether line is one uuencoded line carrying data: its length character announces 1–45 bytes
// and the line has exactly the characters for them (a trailing padding character allowed).
func uuLine(line string) bool {
	if len(line) < 2 || line[0] <= ' ' || line[0] > 'M' {
		return false
	}
	want := 1 + (int(line[0]-' ')+2)/3*4
	if len(line) != want && len(line) != want+1 {
		return false
	}
	for k := 1; k < len(line); k++ {
		if line[k] < ' ' || line[k] > '`' {
			return false
		}
	}
	return true
}

func uuDecode(dst []byte, g string) []byte {
	for len(g) > 0 {
		e := 0
		for e < len(g) && g[e] != '\n' {
			e++
		}
		line := g[:e]
		g = g[min(e+1, len(g)):]
		if len(line) < 2 {
			continue
		}
		n := int(line[0]-' ') & 63
		for k := 1; k+3 < len(line) && n > 0; k += 4 {
			v := uint32(line[k]-' ')&63<<18 | uint32(line[k+1]-' ')&63<<12 | uint32(line[k+2]-' ')&63<<6 | uint32(line[k+3]-' ')&63
			for sh := 16; sh >= 0 && n > 0; sh -= 8 {
				dst = append(dst, byte(v>>sh))
				n--
			}
		}
	}
	return dst
}

// scanA85 decodes the ascii85 run r (Adobe's <~ ~> delimiters fall outside it) when it has a character that is
// no letter or digit (a word, an identifier or base64 has none).
func (c *canon) scanA85(r string, depth int) {
	if c.full() {
		return
	}
	for i := 0; i < len(r); i++ {
		if moreClass[r[i]]&mcLetter == 0 && (r[i] < '0' || r[i] > '9') {
			c.emitDecoded(FlagBase64, depth, func(dst []byte) []byte { return a85Decode(dst, r) })
			return
		}
	}
}

// a85Decode decodes ascii85 ('z' for four zero bytes; a final partial group padded with 'u'); a group worth
// more than 32 bits ends the text there.
func a85Decode(dst []byte, r string) []byte {
	var v uint64
	n := 0
	for i := 0; i < len(r); i++ {
		if r[i] == 'z' && n == 0 {
			dst = append(dst, 0, 0, 0, 0)
			continue
		}
		if r[i] < '!' || r[i] > 'u' {
			return dst
		}
		v = v*85 + uint64(r[i]-'!')
		n++
		if n == 5 {
			if v > 0xFFFFFFFF {
				return dst
			}
			dst = append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
			v, n = 0, 0
		}
	}
	if n > 1 {
		for k := n; k < 5; k++ {
			v = v*85 + 84
		}
		if v > 0xFFFFFFFF {
			return dst
		}
		for k, sh := 0, 24; k < n-1; k, sh = k+1, sh-8 {
			dst = append(dst, byte(v>>sh))
		}
	}
	return dst
}

// brailleTab maps the six dots of a braille cell (bit k = dot k+1) to its English Grade-1 letter or
// punctuation; 0 is none.
var brailleTab = [64]byte{0x01: 'a', 0x02: ',', 0x03: 'b', 0x04: '\'', 0x05: 'k', 0x06: ';', 0x07: 'l', 0x09: 'c',
	0x0a: 'i', 0x0b: 'f', 0x0d: 'm', 0x0e: 's', 0x0f: 'p', 0x11: 'e', 0x12: ':', 0x13: 'h', 0x15: 'o', 0x16: '!',
	0x17: 'r', 0x19: 'd', 0x1a: 'j', 0x1b: 'g', 0x1d: 'n', 0x1e: 't', 0x1f: 'q', 0x24: '-', 0x25: 'u', 0x26: '?',
	0x27: 'v', 0x2d: 'x', 0x32: '.', 0x35: 'z', 0x3a: 'w', 0x3d: 'y'}

const (
	brailleCapital = 0x20 // ⠠ dot 6: the next letter is a capital
	brailleNumber  = 0x3C // ⠼ dots 3456: letters a–j are digits until a space
)

// scanBraille reads the braille cells of r (U+2800–U+28FF; U+2800 and ' ' are spaces) and adds the reading when
// it reads as words.
func (c *canon) scanBraille(r string, depth int) {
	cells := 0
	for i := 0; i+2 < len(r); i++ {
		if r[i] == 0xE2 && r[i+1] >= 0xA0 && r[i+1] <= 0xA3 {
			cells++
		}
	}
	if cells*3 < minBrailleRun || c.full() {
		return
	}
	c.emitWordy(FlagCipher, depth, false, func(dst []byte) []byte { return brailleDecode(dst, r) })
}

func brailleDecode(dst []byte, r string) []byte {
	capital, number := false, false
	for _, x := range r {
		if x == ' ' || x == 0x2800 {
			dst = append(dst, ' ')
			number = false
			continue
		}
		if x < 0x2800 || x > 0x28FF {
			dst = append(dst, ' ')
			continue
		}
		dots := byte(x) & 63
		switch {
		case dots == brailleCapital:
			capital = true
			continue
		case dots == brailleNumber:
			number = true
			continue
		}
		b := brailleTab[dots]
		switch {
		case b == 0:
			b = '?'
		case number && b >= 'a' && b <= 'j':
			b = '0' + (b-'a'+1)%10
		case capital && b >= 'a' && b <= 'z':
			b -= 32
		}
		capital = false
		dst = append(dst, b)
	}
	return dst
}

// scanNATO looks at one word every natoStride bytes; when it is a NATO code word, it reads the run of code
// words around it (separated by spaces, commas, hyphens or line breaks; '/' and two spaces or more are word
// breaks) and adds the spelled text when the run has minNATO words and reads as words.
func (c *canon) scanNATO(s string, depth int) {
	for p := natoStride - 1; p < len(s); p += natoStride {
		if moreClass[s[p]]&mcLetter == 0 {
			continue
		}
		w := p
		for w > 0 && p-w < 8 && moreClass[s[w-1]]&mcLetter != 0 {
			w--
		}
		if l, _ := natoLetter(s, w); l == 0 {
			continue
		}
		// Back to the first code word of the run.
		for {
			q := w
			for q > 0 && natoSep(s[q-1]) {
				q--
			}
			if q == w || q == 0 {
				break
			}
			k := q
			for k > 0 && q-k < 8 && moreClass[s[k-1]]&mcLetter != 0 {
				k--
			}
			if l, _ := natoLetter(s, k); l == 0 {
				break
			}
			w = k
		}
		n, end := 0, w
		for i := w; i < len(s); {
			l, k := natoLetter(s, i)
			if l == 0 {
				break
			}
			n++
			i += k
			end = i
			for i < len(s) && natoSep(s[i]) {
				i++
			}
		}
		if n >= minNATO && !c.full() {
			g := s[w:end]
			c.emitWordy(FlagCipher, depth, false, func(dst []byte) []byte { return natoDecode(dst, g) })
		}
		p = max(p, end)
	}
}

func natoSep(b byte) bool {
	return b == ' ' || b == ',' || b == '-' || b == '\n' || b == '/' || b == '\r'
}

// natoWords are the code words of the NATO spelling alphabet; natoAlt the other spellings of three of them.
var (
	natoWords = [26]string{"alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
		"juliett", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
		"uniform", "victor", "whiskey", "xray", "yankee", "zulu"}
	natoAlt = [26]string{0: "alpha", 9: "juliet", 22: "whisky"} // a, j, w
)

// natoLetter returns the letter that the NATO code word at s[i] spells (any case) and the word's length, or 0
// when s[i:] is no code word standing alone.
func natoLetter(s string, i int) (byte, int) {
	l := s[i] | 0x20
	if l < 'a' || l > 'z' || i > 0 && moreClass[s[i-1]]&mcLetter != 0 {
		return 0, 0
	}
	if n := natoMatch(s, i, natoWords[l-'a']); n > 0 {
		return l, n
	}
	if alt := natoAlt[l-'a']; alt != "" {
		if n := natoMatch(s, i, alt); n > 0 {
			return l, n
		}
	}
	return 0, 0
}

// natoMatch returns len(w) when s[i:] is the word w (any case) followed by a non-letter, else 0.
func natoMatch(s string, i int, w string) int {
	n := len(w)
	if i+n > len(s) || i+n < len(s) && moreClass[s[i+n]]&mcLetter != 0 || !lowerEq(s[i:i+n], w) {
		return 0
	}
	return n
}

// lowerEq reports whether the ASCII letters w equal the lower-case want, ignoring case.
func lowerEq(w, want string) bool {
	for i := 0; i < len(w); i++ {
		if w[i]|0x20 != want[i] {
			return false
		}
	}
	return true
}

// natoDecode spells the code words of g; '/' or two spaces or more between them is a word break.
func natoDecode(dst []byte, g string) []byte {
	for i := 0; i < len(g); {
		if moreClass[g[i]]&mcLetter != 0 {
			l, k := natoLetter(g, i)
			if l == 0 {
				return dst
			}
			dst = append(dst, l)
			i += k
			continue
		}
		j := i
		brk := false
		for j < len(g) && natoSep(g[j]) {
			brk = brk || g[j] == '/' || j > i && g[j] == ' ' && g[j-1] == ' '
			j++
		}
		if j == i {
			return dst // neither a code word nor a separator: the run ends
		}
		if brk {
			dst = append(dst, ' ')
		}
		i = j
	}
	return dst
}

package pii

import (
	"math/bits"
	"unicode/utf8"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Canonical scanning: values written differently from their usual form.
//
// Scan first runs the byte scanner on the text as it is. When the text holds anything that a person or an
// attacker uses to write a value differently — invisible characters inside it (zero-width space, joiners,
// soft hyphen, bidi marks, variation selectors, tag characters, ...), fullwidth or other Unicode digits and
// letters (NFKC compatibility forms, Arabic-Indic and other decimal digits), Unicode spaces and dashes, e-mail
// addresses written "jane at example dot com", "[at]", "(at)", " @ ", or digit groups separated by '/', '_',
// '|', '.', line breaks or (for an IBAN) '-' — it builds a canonical view of the text with a map from every
// canonical byte back to the original bytes it came from, scans the view too, and maps each finding back to the
// original span, invisible characters included. Findings of both scans are merged (on overlap the longer
// original span wins, on a tie the plain scan's finding).
//
// The view is built in two stages, each only when it changes something: runes (invisible characters
// removed, compatibility forms folded to ASCII) and then ASCII forms (at/dot spellings, digit-group
// separators). Both finders are a single pass over the bytes; texts without a trigger cost that pass only.
//
// Long base64 tokens are decoded (bounded: maxB64Token encoded bytes) and, when they decode to text, scanned:
// a finding inside makes the whole token a finding of that type.

// view is a canonical text and the original span of each of its bytes.
type view struct {
	buf        []byte
	start, end []int32 // original [start[k], end[k]) of buf[k]
}

func (v *view) add(c byte, s, e int) {
	v.buf = append(v.buf, c)
	v.start = append(v.start, int32(s))
	v.end = append(v.end, int32(e))
}

// copyIdentity appends text[s:e] unchanged.
func (v *view) copyIdentity(text []byte, s, e int) {
	for k := s; k < e; k++ {
		v.add(text[k], k, k+1)
	}
}

// span maps the canonical span [s, e) back to the original text.
func (v *view) span(s, e int) (int, int) { return int(v.start[s]), int(v.end[e-1]) }

// ---------------------------------------------------------------------------------------------------------
// stage 1: runes

// runeMap returns the ASCII byte a non-ASCII rune folds to, 0 for an invisible rune (dropped), or -1 when
// the rune stays as it is.
func runeMap(r rune) int {
	if r < 0x10000 && mappedBlock[r>>4] == 0 {
		return -1 // most letters of most scripts: no case applies (one table look-up instead of ~40 compares)
	}
	return runeMapCases(r)
}

func runeMapCases(r rune) int {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII (NFKC)
		return int(r - 0xFEE0)
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		r >= 0x180B && r <= 0x180F, r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F, r == 0x3164, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF, r == 0xFFA0,
		r >= 0x1D173 && r <= 0x1D17A, r >= 0xE0000 && r <= 0xE0FFF:
		return 0 // invisible: soft hyphen, joiners, zero-width, bidi marks, fillers, variation selectors, tags
	case r == 0x00A0, r >= 0x2000 && r <= 0x200A, r == 0x202F, r == 0x205F, r == 0x3000:
		return ' '
	case r >= 0x2010 && r <= 0x2015, r == 0x2212, r == 0xFE58, r == 0xFE63:
		return '-'
	case r == 0xFE6B:
		return '@' // small commercial at
	case r == 0x3002, r == 0xFF61, r == 0xFE52:
		return '.' // ideographic / halfwidth / small full stop
	case r >= 0x2070 && r <= 0x2079 && r != 0x2071 && r != 0x2072 && r != 0x2073:
		return '0' + int(r-0x2070) // superscript digits (NFKC)
	case r == 0x00B9:
		return '1'
	case r == 0x00B2, r == 0x00B3:
		return '0' + int(r-0x00B0)
	case r >= 0x2080 && r <= 0x2089:
		return '0' + int(r-0x2080) // subscript digits
	case r >= 0x2460 && r <= 0x2468:
		return '1' + int(r-0x2460) // circled digits 1-9
	case r >= 0x1D7CE && r <= 0x1D7FF:
		return '0' + int(r-0x1D7CE)%10 // mathematical digits
	}
	if d := digitValue(r); d >= 0 {
		return '0' + d
	}
	return -1
}

// digitZeros are the code points of the digit zero of the decimal-digit (Nd) scripts most likely to be
// used in place of ASCII digits; each block is zero..nine.
var digitZeros = [...]rune{
	0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
	0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0,
	0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0x104A0, 0x11066, 0x1E950,
}

// mappedBlock marks the 16-rune blocks of the BMP that hold a rune runeMap maps (built from runeMap itself).
var mappedBlock = func() (t [0x1000]byte) {
	for r := rune(0x80); r < 0x10000; r++ {
		if runeMapCases(r) >= 0 {
			t[r>>4] = 1
		}
	}
	return t
}()

func digitValue(r rune) int {
	if r < 0x0660 {
		return -1
	}
	for _, z := range digitZeros {
		if r >= z && r <= z+9 {
			return int(r - z)
		}
	}
	return -1
}

// digitBeside: a digit is next to text[s:e] on either side (one blank between allowed).
func digitBeside(text []byte, s, e int) bool {
	if s > 0 && (isDigit(text[s-1]) || text[s-1] == ' ' && s > 1 && isDigit(text[s-2])) {
		return true
	}
	return e < len(text) && (isDigit(text[e]) || text[e] == ' ' && e+1 < len(text) && isDigit(text[e+1]))
}

// runeView builds the stage-1 view, or reports false when no rune of text changes.
func runeView(text []byte) (view, bool) {
	var v view
	n := len(text)
	i := 0
	copied := 0 // text[:copied] is in v (identity) once changed
	changed := false
	for i < n {
		// skip ASCII 8 bytes at a time
		if swar.LittleEndian {
			for i+8 <= n && *(*uint64)(unsafe.Pointer(&text[i]))&swar.High == 0 {
				i += 8
			}
		}
		if i >= n {
			break
		}
		if text[i] < 0x80 {
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		m := runeMap(r)
		if m < 0 || !changed && (m == ' ' || m == '-') && !digitBeside(text, i, i+size) {
			// a dash or a wide blank between words ("word—word"), common in prose, changes no value: it
			// starts no view (a view costs a second scan of the whole text); between digits it may
			// separate the groups of a number
			i += size
			continue
		}
		if !changed {
			changed = true
			v.buf = make([]byte, 0, n)
			v.start = make([]int32, 0, n)
			v.end = make([]int32, 0, n)
		}
		v.copyIdentity(text, copied, i)
		if m > 0 {
			v.add(byte(m), i, i+size)
		}
		i += size
		copied = i
	}
	if !changed {
		return v, false
	}
	v.copyIdentity(text, copied, n)
	return v, true
}

// ---------------------------------------------------------------------------------------------------------
// stage 2: ASCII forms

// The stage-2 finder stops at digits, ':' to '@', '[', '(', '{' and at a blank followed by "at" (any case),
// eight bytes at a time (SWAR, as the byte scanner): a run of digit groups starts with a digit (an IBAN's
// check digits follow its country letters), an at spelling has a blank or a bracket, and a base64 token of
// 24 or more characters holds a digit (all but about 1.5% of random ones).
// formAt matches an at or dot spelling at i: optional blanks, an optional bracket, the word (ASCII
// case-insensitive: "at", "dot", "@" or "."), the matching bracket, optional blanks. Without brackets a
// word needs a blank on both sides (and "@"/"." at least one). It returns the end of the form or -1.
func formAt(text []byte, i int, word string) int {
	n := len(text)
	j := i
	pre := 0
	for j < n && text[j] == ' ' && pre < 3 {
		j++
		pre++
	}
	var closer byte
	if j < n {
		switch text[j] {
		case '[':
			closer = ']'
		case '(':
			closer = ')'
		case '{':
			closer = '}'
		case '<':
			closer = '>'
		}
	}
	if closer != 0 {
		j++
		for j < n && text[j] == ' ' && j-i < 8 {
			j++
		}
	}
	if j+len(word) > n {
		return -1
	}
	for k := 0; k < len(word); k++ {
		if lower(text[j+k]) != word[k] {
			return -1
		}
	}
	j += len(word)
	if closer != 0 {
		for j < n && text[j] == ' ' && j-i < 12 {
			j++
		}
		if j >= n || text[j] != closer {
			return -1
		}
		j++
	}
	post := 0
	for j < n && text[j] == ' ' && post < 3 {
		j++
		post++
	}
	if closer == 0 {
		// "x at y" needs blanks on both sides; "x @ y" and "x@ y" a blank after the '@' ("curl --data @file"
		// is not an address); "x . y" a blank on either side
		switch word {
		case "@":
			if post == 0 {
				return -1
			}
		case ".":
			if pre+post == 0 {
				return -1
			}
		default:
			if pre == 0 || post == 0 {
				return -1
			}
		}
	}
	if j >= n || !isAlnum(text[j]) {
		return -1
	}
	return j
}

// dotFormAt matches a dot spelling at i (not a plain '.').
func dotFormAt(text []byte, i int) int {
	if e := formAt(text, i, "dot"); e > 0 {
		return e
	}
	return formAt(text, i, ".")
}

// atFormAt matches an at spelling at i (not a plain '@' between two non-blanks).
func atFormAt(text []byte, i int) int {
	if e := formAt(text, i, "at"); e > 0 {
		return e
	}
	return formAt(text, i, "@")
}

// domainAhead parses a domain written with dots or dot spellings from j: labels of letters, digits and '-',
// at least two, the last one (the TLD) alphabetic and 2-24 letters. It returns the end of the domain and
// whether a dot spelling was used, or -1.
func domainAhead(text []byte, j int) (int, bool) {
	n := len(text)
	labels, forms := 0, false
	lastLabel := j
	for j < n && labels < 12 {
		s := j
		for j < n && (isAlnum(text[j]) || text[j] == '-') && j-s < 63 {
			j++
		}
		if j == s {
			return -1, false
		}
		labels++
		lastLabel = s
		if j < n && text[j] == '.' && j+1 < n && isAlnum(text[j+1]) {
			j++
			continue
		}
		if e := dotFormAt(text, j); e > 0 {
			// a dot spelling must be followed by a label that is a word (not the start of a sentence)
			forms = true
			j = e
			continue
		}
		break
	}
	if labels < 2 {
		return -1, false
	}
	tl := j - lastLabel
	if tl < 2 || tl > 24 {
		return -1, false
	}
	for _, c := range text[lastLabel:j] {
		if !isAlpha(c) {
			return -1, false
		}
	}
	if fileExt(text[lastLabel:j]) {
		return -1, false // a file name (config.json), not a domain
	}
	return j, forms
}

// fileExt reports the common file-name extensions that are not top-level domains.
func fileExt(t []byte) bool {
	switch string(t) {
	case "json", "txt", "py", "js", "ts", "md", "csv", "xml", "yaml", "yml", "html", "htm", "log", "cfg", "ini",
		"toml", "go", "java", "rb", "php", "sh", "exe", "dll", "jpg", "jpeg", "png", "gif", "pdf", "doc", "docx",
		"xls", "xlsx", "zip", "gz", "tar", "conf", "env", "pem", "key", "crt", "sql", "jsx", "tsx", "css":
		return true
	}
	return false
}

// emitDomain appends the domain text[j:e] with its dot spellings replaced by '.'.
func emitDomain(v *view, text []byte, j, e int) {
	for j < e {
		if text[j] != '.' && !isAlnum(text[j]) && text[j] != '-' {
			if f := dotFormAt(text, j); f > 0 && f <= e {
				v.add('.', j, f)
				j = f
				continue
			}
		}
		v.add(text[j], j, j+1)
		j++
	}
}

// localStart returns where the local part of an e-mail address written with dot spellings ("jane dot doe")
// starts, given that its last atom ends at e.
func localStart(text []byte, e int) int {
	s := e
	for s > 0 && (isAlnum(text[s-1]) || text[s-1] == '.' || text[s-1] == '_' || text[s-1] == '+' || text[s-1] == '-') && e-s < 64 {
		s--
	}
	for hops := 0; hops < 4 && s > 0; hops++ {
		// a dot spelling ending at s, preceded by an atom
		found := -1
		for _, l := range [...]int{5, 7, 3, 5, 3} { // " dot ", " [dot] ", "[.]", "[dot]", " . "
			if s-l-1 < 0 {
				continue
			}
			if f := dotFormAt(text, s-l); f == s && isAlnum(text[s-l-1]) {
				found = s - l
				break
			}
		}
		if found < 0 {
			break
		}
		a := found
		for a > 0 && (isAlnum(text[a-1]) || text[a-1] == '_' || text[a-1] == '+' || text[a-1] == '-') && found-a < 64 {
			a--
		}
		if a == found {
			break
		}
		s = a
	}
	return s
}

// sepAt parses the separator of digit groups at i: blanks around one of / _ | . \ - or a line break, or
// blanks only. kind is that character (' ' for blanks, '\n' for a line break); plain reports a single blank
// or a single '-' (forms the plain scanner reads itself).
func sepAt(text []byte, i int) (end int, kind byte, plain bool) {
	n := len(text)
	j := i
	for j < n && (text[j] == ' ' || text[j] == '\t') && j-i < 3 {
		j++
	}
	blanks := j - i
	kind = ' '
	if j < n {
		switch c := text[j]; c {
		case '/', '_', '|', '.', '\\', '-':
			kind = c
			j++
		case '\r', '\n':
			kind = '\n'
			if c == '\r' {
				j++
			}
			if j < n && text[j] == '\n' {
				j++
			}
		}
	}
	if kind != ' ' {
		for j < n && (text[j] == ' ' || text[j] == '\t') && j-i < 7 {
			j++
		}
	} else if blanks == 0 {
		return -1, 0, false
	} else if text[i] == '\t' {
		kind = '\t'
	}
	plain = j-i == 1 && (kind == ' ' || kind == '-')
	return j, kind, plain
}

// groupAt measures a digit group at i (upper-case letters too when letters is set).
func groupAt(text []byte, i int, letters bool) int {
	j := i
	for j < len(text) && j-i <= 8 && (isDigit(text[j]) || letters && isUpper(text[j])) {
		j++
	}
	if j-i > 8 || j < len(text) && isAlnum(text[j]) {
		return -1
	}
	return j
}

// digitRun evaluates the run of digit groups starting at s (a group start): it returns the run's end, and
// whether its separators need rewriting (a separator kind the plain scanner does not read, or an IBAN with
// '-'), or -1 when s starts no qualifying run.
func digitRun(text []byte, s int) (int, bool) {
	n := len(text)
	iban := s+4 <= n && isUpper(text[s]) && isUpper(text[s+1]) && isDigit(text[s+2]) && isDigit(text[s+3])
	var e int
	if iban {
		e = groupAt(text, s+2, true)
	} else {
		e = groupAt(text, s, false)
	}
	if e < 0 {
		return -1, false
	}
	digits := e - s
	groups := 1
	var kind byte
	plain := true
	var shape [8]int
	shape[0] = e - s
	for e < n && groups < 12 {
		se, k, p := sepAt(text, e)
		if se < 0 || se >= n || (kind != 0 && k != kind) {
			break
		}
		ge := groupAt(text, se, iban)
		if ge < 0 || ge == se {
			break
		}
		kind = k
		plain = plain && p
		if groups < len(shape) {
			shape[groups] = ge - se
		}
		groups++
		digits += ge - se
		e = ge
	}
	if groups < 2 || plain && !(iban && kind == '-') || iban && kind == '/' {
		// an IBAN written with slashes is not one (presidio's recognizer test says so)
		return e, false
	}
	if kind == '-' && !iban {
		plain = true // cards with dashes are read by the plain scanner; "4111 - 1111" is not
		for k := e - 1; k > s; k-- {
			if text[k] == ' ' {
				plain = false
				break
			}
		}
		if plain {
			return e, false
		}
	}
	ok := digits >= 12 ||
		digits == 9 && groups == 3 && shape[0] == 3 && shape[1] == 2 && shape[2] == 4 || // SSN
		digits == 10 && groups == 3 && shape[0] == 3 && shape[1] == 3 && shape[2] == 4 // NANP phone
	return e, ok
}

// atHint is the cheap test before atFormAt at a trigger byte c at i: the next bytes can begin an at spelling.
func atHint(text []byte, i int) bool {
	switch text[i] {
	case '[', '(', '{', '<':
		return true
	case ' ':
		if i+2 >= len(text) {
			return false
		}
		nb := text[i+1]
		if nb|0x20 == 'a' {
			return text[i+2]|0x20 == 't'
		}
		return nb == '@' || nb == '[' || nb == '(' || nb == '{' || nb == '<'
	}
	return false
}

// span is a byte range.
type span struct{ s, e int }

// asciiView builds the stage-2 view of text, or reports false when no form applies. It also appends to b64
// the long tokens that may be base64 (runs of 24 or more bytes without a trigger byte).
func asciiView(text []byte, b64 *[]span) (view, bool) {
	var v view
	n := len(text)
	copied := 0
	changed := false
	begin := func(upTo int) {
		if !changed {
			changed = true
			v.buf = make([]byte, 0, n)
			v.start = make([]int32, 0, n)
			v.end = make([]int32, 0, n)
		}
		if upTo > copied {
			v.copyIdentity(text, copied, upTo)
			copied = upTo
		}
	}
	runEnd := 0 // digit runs already evaluated end here
	i := 0
	for i < n {
		if swar.LittleEndian {
			for i+8 <= n {
				x := *(*uint64)(unsafe.Pointer(&text[i]))
				// flagged bytes: digits to '@', '[', '(', '{', and a blank followed by "at"/"AT" (inlined
				// by hand: a call per word is costly in wasm)
				t := x & swar.Low7
				vs := x ^ (swar.K * ' ')
				xl := x | swar.K*0x20
				va := xl ^ (swar.K * 'a')
				vt := xl ^ (swar.K * 't')
				f := ((swar.K*(127+0x41)-t)&(t+swar.K*(127-0x2F))|(swar.K*(127+0x5C)-t)&(t+swar.K*(127-0x5A))|
					(swar.K*(127+0x29)-t)&(t+swar.K*(127-0x27))|(swar.K*(127+0x7C)-t)&(t+swar.K*(127-0x7A)))&^x&swar.High |
					^(((vs&swar.Low7)+swar.Low7)|vs)&swar.High&(^(((va&swar.Low7)+swar.Low7)|va)&swar.High>>8)&
						(^(((vt&swar.Low7)+swar.Low7)|vt)&swar.High>>16)
				if f != 0 {
					i += bits.TrailingZeros64(f) >> 3
					break
				}
				// " at" straddling two words: start the next word at byte 6
				if b7 := byte(x >> 56); b7 == ' ' || byte(x>>48) == ' ' && b7|0x20 == 'a' {
					i += 6
				} else {
					i += 8
				}
			}
		}
		if i >= n {
			break
		}
		c := text[i]
		if i == 0 || i+1 >= n {
			i++
			continue
		}
		prev := text[i-1]
		switch {
		case c == ' ':
			if !isAlnum(prev) {
				i++
				continue
			}
		case isDigit(c):
			if i < runEnd {
				i = runEnd
				continue
			}
			if isAlnum(prev) {
				// inside a word: an IBAN's check digits (DE89...) or a long token (base64?)
				ws := i - 1
				for ws > 0 && isAlnum(text[ws-1]) && i-ws < 64 {
					ws--
				}
				if !(ws == i-2 && isUpper(text[ws]) && isUpper(text[ws+1]) && i+1 < n && isDigit(text[i+1]) && (ws == 0 || !b64Tok[text[ws-1]])) {
					w := i
					for w < n && isAlnum(text[w]) {
						w++
					}
					if w-ws >= 16 && b64 != nil {
						*b64 = appendB64Candidate(*b64, text, ws)
						for w < n && b64Tok[text[w]] {
							w++
						}
					}
					i = w
					continue
				}
				i, c = ws, text[ws]
			}
			// the start of a number (or of an IBAN): look at the first separator
			g := i + 1
			if isUpper(c) {
				g = i + 4
			}
			for g < n && isDigit(text[g]) && g-i < 9 {
				g++
			}
			if g+1 >= n || !isAlnum(text[g+1]) && text[g+1] != ' ' && text[g+1] != '\n' && text[g+1] != '\t' && text[g+1] != '-' && text[g+1] != '/' && text[g+1] != '|' || isAlnum(text[g]) {
				i = g
				continue
			}
			if se, _, plain := sepAt(text, g); se < 0 || plain && !(isUpper(c) && text[g] == '-') {
				// plain groups ("4111 1111 1111 1111", "415-555-0132"): the byte scanner reads them; skip them
				for g+1 < n && (text[g] == ' ' || text[g] == '-') && isDigit(text[g+1]) {
					g++
					for g < n && isDigit(text[g]) {
						g++
					}
				}
				i = g
				continue
			}
			e, rewrite := digitRun(text, i)
			if e < 0 {
				i = g
				continue
			}
			runEnd = e
			if !rewrite {
				i = g
				continue
			}
			begin(i)
			for k := i; k < e; {
				if isAlnum(text[k]) {
					v.add(text[k], k, k+1)
					k++
					continue
				}
				se, _, _ := sepAt(text, k)
				if se <= k {
					se = k + 1
				}
				v.add(' ', k, se)
				k = se
			}
			i, copied = e, e
			continue
		}
		// the start of the form: blanks before '@' or a bracket belong to it
		fs := i
		if c == '@' || c == '[' || c == '(' || c == '{' || c == '<' {
			for fs > 0 && text[fs-1] == ' ' && i-fs < 3 {
				fs--
			}
		}
		if fs > 0 && isAlnum(text[fs-1]) && (c == '@' || atHint(text, fs)) {
			// an e-mail address written with an at spelling (or a plain '@' followed by dot spellings)
			var j int
			if c == '@' && fs == i {
				j = i + 1
				if j < n && text[j] == ' ' {
					j = formAt(text, i, "@")
				} else {
					// a plain '@': only dot spellings in the domain make a form ("jane@example dot com")
					e := j
					for e < n && (isAlnum(text[e]) || text[e] == '.' || text[e] == '-') {
						e++
					}
					if e+1 >= n || !(text[e] == ' ' && (text[e+1]|0x20 == 'd' || text[e+1] == '.' || text[e+1] == '[' || text[e+1] == '(' || text[e+1] == '{' || text[e+1] == '<') ||
						text[e] == '[' || text[e] == '(' || text[e] == '{' || text[e] == '<') {
						i = e
						continue
					}
				}
			} else {
				j = atFormAt(text, fs)
			}
			if j > 0 {
				// a "domain" followed by '@' is the local part of a plain address ("write to the at jane.doe@x.com"):
				// no at spelling there, the plain scanner reads the address whole
				if de, forms := domainAhead(text, j); de > 0 && (de >= n || text[de] != '@') && (c != '@' || j > i+1 || fs < i || forms) {
					i = fs
					ls := localStart(text, i)
					if ls < copied {
						ls = copied
					}
					begin(ls)
					// the local part, its dot spellings replaced
					for k := ls; k < i; {
						if !isAlnum(text[k]) && text[k] != '.' && text[k] != '_' && text[k] != '+' && text[k] != '-' {
							if f := dotFormAt(text, k); f > 0 && f <= i {
								v.add('.', k, f)
								k = f
								continue
							}
						}
						v.add(text[k], k, k+1)
						k++
					}
					v.add('@', i, j)
					emitDomain(&v, text, j, de)
					i, copied = de, de
					continue
				}
			}
		}
		i++
	}
	if !changed {
		return v, false
	}
	v.copyIdentity(text, copied, n)
	return v, true
}

// base64 tokens
const (
	minB64Token = 24
	maxB64Token = 8 << 10 // longer tokens (images, files) are not decoded
)

var b64Tok = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c))
	}
	for _, c := range []byte("+/=-_") {
		t[c] = true
	}
	return t
}()

// appendB64Candidate appends the base64-looking token around the trigger-free run starting at p.
func appendB64Candidate(dst []span, text []byte, p int) []span {
	s := p
	for s < len(text) && !b64Tok[text[s]] && s-p < 4 {
		s++ // an opening quote
	}
	if len(dst) > 0 && s < dst[len(dst)-1].e {
		return dst
	}
	for s > 0 && b64Tok[text[s-1]] {
		s--
	}
	e := s
	for e < len(text) && b64Tok[text[e]] && e-s <= maxB64Token {
		e++
	}
	l := e - s
	if l < minB64Token || l > maxB64Token || e < len(text) && text[e] >= 0x80 {
		return dst
	}
	var up, lo, di int
	for _, c := range text[s:e] {
		switch {
		case isUpper(c):
			up++
		case isLower(c):
			lo++
		case isDigit(c):
			di++
		}
	}
	if up == 0 || lo == 0 || up+lo+di < l*3/4 {
		return dst
	}
	return append(dst, span{s, e})
}

// decodeB64Text decodes a base64 token (standard or URL alphabet, padding optional) into dst when it decodes
// to text (printable ASCII or UTF-8, at least 6 bytes); it returns the decoded length or -1.
func decodeB64Text(dst, tok []byte) int {
	for len(tok) > 0 && tok[len(tok)-1] == '=' {
		tok = tok[:len(tok)-1]
	}
	if len(tok)%4 == 1 {
		return -1
	}
	for _, c := range tok {
		if c == '=' {
			return -1
		}
	}
	m := b64Decode(dst, tok)
	if m < 6 || !utf8.Valid(dst[:m]) {
		return -1
	}
	for _, c := range dst[:m] {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7F {
			return -1
		}
	}
	return m
}

// scanCanonical adds the findings of the canonical view and of decoded base64 tokens to dst[first:].
// depth bounds the recursion into decoded tokens.
// hint is the byte scanner's report that text may hold an ASCII form; without it (and without a rune to fold)
// the ASCII finder does not run.
// canonical reports whether the view was read (hint, or a rune to fold).
func (s *Scanner) scanCanonical(text []byte, dst []Match, first, depth int, hint bool) ([]Match, bool) {
	v1, ok1 := runeView(text)
	if !ok1 && !hint {
		return dst, false
	}
	base := text
	if ok1 {
		base = v1.buf
	}
	var b64 []span
	var tokens *[]span
	if depth == 0 {
		tokens = &b64
	}
	v2, ok2 := asciiView(base, tokens)
	var extra []Match
	if ok1 || ok2 {
		v := &v1
		if ok2 {
			if ok1 {
				compose(&v2, &v1)
			}
			v = &v2
		}
		ms, _ := s.scanBuiltin(v.buf, nil)
		for _, m := range ms {
			m.Start, m.End = v.span(m.Start, m.End)
			m.Secret = m.Type.IsSecret()
			extra = append(extra, m)
		}
	}
	if len(b64) > 0 {
		var dec []Match
		buf := make([]byte, maxB64Token*3/4+3)
		for _, t := range b64 {
			k := decodeB64Text(buf, base[t.s:t.e])
			if k < 0 {
				continue
			}
			inner, h := s.scanBuiltin(buf[:k], nil)
			inner, _ = s.scanCanonical(buf[:k], inner, 0, depth+1, h)
			if len(inner) == 0 {
				continue
			}
			m := inner[0]
			for _, im := range inner {
				if im.Type.IsSecret() {
					m = im
					break
				}
			}
			st, en := t.s, t.e
			if ok1 {
				st, en = v1.span(t.s, t.e)
			}
			dec = append(dec, Match{Type: m.Type, Start: st, End: en, Secret: m.Type.IsSecret()})
		}
		if len(dec) > 0 {
			extra = mergeMatches(extra, 0, dec)
		}
	}
	return mergeMatches(dst, first, extra), true
}

// compose maps a stage-2 view built over a stage-1 view back to the original text.
func compose(outer, inner *view) {
	for k := range outer.buf {
		s, e := int(outer.start[k]), int(outer.end[k])
		outer.start[k] = inner.start[s]
		outer.end[k] = inner.end[e-1]
	}
}

// mergeMatches merges extra (sorted, non-overlapping) into dst[first:] (same): on overlap the longer span
// wins, on a tie the existing one.
func mergeMatches(dst []Match, first int, extra []Match) []Match {
	if len(extra) == 0 {
		return dst
	}
	base := append([]Match(nil), dst[first:]...)
	out := dst[:first]
	a, b := 0, 0
	for a < len(base) || b < len(extra) {
		var m Match
		if b >= len(extra) || a < len(base) && base[a].Start <= extra[b].Start {
			m = base[a]
			a++
		} else {
			m = extra[b]
			b++
		}
		if k := len(out); k > first && out[k-1].End > m.Start {
			last := out[k-1]
			if m.End-m.Start > last.End-last.Start ||
				m.Start == last.Start && m.End == last.End && last.Type == HighEntropySecret && m.Type != HighEntropySecret {
				// m is longer (or names what an opaque high-entropy token holds)
				// it replaces every kept match it overlaps
				for len(out) > first && out[len(out)-1].End > m.Start {
					out = out[:len(out)-1]
				}
				out = append(out, m)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// MergeJoined merges the findings of a joined text's parts (in the join's coordinates, in order) with the
// join's own findings, as ScanJoined does: on overlap the longer span wins, on a tie the part's.
func MergeJoined(parts, joined []Match) []Match { return mergeMatches(parts, 0, joined) }

// ScanJoined scans the texts of adjacent parts of one message (content parts a model reads as one text) as
// their concatenation, so that a value split across two parts is found, and each part alone, so that nothing
// the separate scans find is lost at a boundary. It returns the concatenation and the findings in its
// coordinates, in order and without overlaps (on overlap the longer span wins).
func (s *Scanner) ScanJoined(parts [][]byte) ([]byte, []Match) {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	joined := make([]byte, 0, total)
	var per []Match
	for _, p := range parts {
		off := len(joined)
		joined = append(joined, p...)
		k := len(per)
		per = s.Scan(p, per)
		for q := k; q < len(per); q++ {
			per[q].Start += off
			per[q].End += off
		}
	}
	if len(parts) < 2 {
		return joined, per
	}
	return joined, mergeMatches(per, 0, s.Scan(joined, nil))
}

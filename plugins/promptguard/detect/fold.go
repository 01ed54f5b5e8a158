package detect

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The table path of the Unicode canonicaliser. foldUnicodeRef removes invisible characters, takes the NFKD of the
// whole text and then acts on each rune; here the same output is computed in one pass over the text, with one
// table lookup per character: foldTab holds, for every character below foldMax, the actions of its NFKD
// (non-spacing marks, which the reference drops, already left out). NFKD is the concatenation of the
// characters' decompositions followed by the canonical reordering of runs of combining marks; since the marks
// that reordering moves are dropped, the two agree unless a kept character is itself a combining mark (ccc ≠ 0):
// foldUnicode then reports false and the caller runs foldUnicodeRef.

// Action kinds (foldEntry >> 24); the low 24 bits hold a rune, or a foldPool span for fkMulti. Every kind has
// its high bit set, so no entry of the generated tables looks like an address in the first 2 GiB: TinyGo's
// collector scans the module's data conservatively, and entries that read as heap addresses (kind 1-7 in the
// top byte is 16-128 MiB) kept freed blocks alive and doubled promptguard's heap (16 -> 64 MiB in e2e/memory).
const (
	fkSep    = 0x80 + iota // end the word
	fkASCII                // an ASCII letter (lower-cased), digit, '@' or '$'
	fkHomo                 // a small capital or regional indicator letter: a lookalike, folded (FlagHomoglyph)
	fkLetter               // a letter, digit or spacing mark (lower-cased)
	fkDrop                 // nothing: the decomposition is only non-spacing marks
	fkMulti                // several actions: foldPool[off : off+n], off<<4|n in the low bits
	fkUnsafe               // a kept combining mark: reordering matters; use the reference path
	fkInvis                // an invisible character (FlagInvisible)
	fkJoiner               // the zero-width joiner: removed, not evidence
)

//go:generate go test -run ^TestFoldTableGenerated$ -write-fold-table

// foldMax: characters below it are in foldTab (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, the Indic
// scripts, Thai, Hangul jamo, Latin Extended Additional, punctuation, letterlike and enclosed forms, kana).
const foldMax = 0x3100

// Halfwidth and fullwidth forms (the punctuation of Chinese and Japanese text) follow in foldTab, from index
// foldMax. (foldTab and foldPool are generated: fold_gen.go.)
const (
	foldFF    = 0xFF00
	foldFFEnd = 0xFFF0
)

// runeAction is the reference path's action on one rune of the NFKD.
func runeAction(r rune) uint32 {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'A' && r <= 'Z':
			return fkASCII<<24 | uint32(r+32)
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '@', r == '$':
			return fkASCII<<24 | uint32(r)
		}
		return fkSep << 24
	}
	if unicode.Is(unicode.Mn, r) {
		return fkDrop << 24
	}
	if f, ok := smallCaps(r); ok {
		return fkHomo<<24 | uint32(f)
	}
	if r >= 0x1F1E6 && r <= 0x1F1FF {
		return fkHomo<<24 | uint32('a'+(r-0x1F1E6))
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
		return fkLetter<<24 | uint32(unicode.ToLower(r))
	}
	return fkSep << 24
}

// decompActions appends to dst the actions of the NFKD of the single character r, leaving out dropped marks;
// ok is false when a kept rune is a combining mark.
func decompActions(dst []uint32, r rune) (_ []uint32, ok bool) {
	var in [utf8.UTFMax]byte
	var out [4 * 18]byte // the longest NFKD of one character is 18 runes (U+FDFA)
	d := norm.NFKD.Append(out[:0], utf8.AppendRune(in[:0], r)...)
	for len(d) > 0 {
		o, n := utf8.DecodeRune(d)
		p := norm.NFKD.Properties(d[:n])
		d = d[n:]
		a := runeAction(o)
		if a>>24 == fkDrop {
			continue
		}
		if p.CCC() != 0 {
			return dst, false
		}
		dst = append(dst, a)
	}
	return dst, true
}

// foldEntry is the table entry of r (one action, fkMulti with the actions added to *pool, or fkUnsafe): how
// fold_gen.go's foldTab and foldPool are computed (TestFoldTableGenerated).
func foldEntry(r rune, pool *[]uint32) uint32 {
	if r < utf8.RuneSelf {
		return runeAction(r)
	}
	if isInvisible(r) && r < foldMax {
		if r == 0x200D {
			return fkJoiner << 24
		}
		return fkInvis << 24
	}
	acts, ok := decompActions(nil, r)
	switch {
	case !ok:
		return fkUnsafe << 24
	case len(acts) == 0:
		return fkDrop << 24
	case len(acts) == 1:
		return acts[0]
	}
	e := fkMulti<<24 | uint32(len(*pool))<<4 | uint32(len(acts))
	*pool = append(*pool, acts...)
	return e
}

// symbolSimple reports whether r is in the blocks of pictographs and emoji whose characters are their own NFKD
// and end a word (TestFoldSimpleRanges checks every one).
func symbolSimple(r rune) bool { return r >= 0x1F300 && r <= 0x1FAFF }

// hanSimple reports whether r is in the CJK ideograph blocks whose characters are their own NFKD and letters
// without case (TestFoldHan checks every one): they need no lookup.
func hanSimple(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF }

// apply performs one action on the word being assembled; false for fkUnsafe.
func (c *canon) apply(a uint32) bool {
	r := rune(a & 0xFFFFFF)
	switch a >> 24 {
	case fkASCII:
		if n := len(c.word); n > 0 && c.word[n-1] >= 0x0E00 && unspaced(c.word[n-1]) {
			c.flushWord()
		}
		c.word = append(c.word, r)
	case fkLetter:
		if n := len(c.word); n > 0 && (r >= 0x0E00) != (c.word[n-1] >= 0x0E00) && scriptBreak(r, c.word[n-1]) {
			c.flushWord()
		}
		c.word = append(c.word, r)
	case fkSep:
		c.flushWord()
	case fkHomo:
		c.flags |= FlagHomoglyph
		c.word = append(c.word, r)
	case fkDrop:
	case fkMulti:
		off, n := int(r>>4), int(r&15)
		for _, b := range foldPool[off : off+n] {
			c.apply(b)
		}
	default:
		return false
	}
	return true
}

// foldUnicode computes what foldUnicodeRef does (see above). It returns false, leaving partial output, when the
// text has a character the table path does not model.
func (c *canon) foldUnicode(s string) bool {
	tab := foldTab[:foldMax]
	vs := 0 // length of the current run of variation selectors
	compat := false
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if vs != 0 {
				c.endSelectors(&vs)
			}
			k := asciiClass[b]
			if k == 1 && len(c.word) == 0 {
				// A run of ASCII letters ended by an ASCII separator (or the end) is a finished word: written
				// directly. (A digit, '@', '$' or any non-ASCII character may continue it: the rune path.)
				j := i + 1
				for j < len(s) && asciiClass[s[j]] == 1 {
					j++
				}
				if j == len(s) || s[j] < utf8.RuneSelf && asciiClass[s[j]] == 0 {
					c.asciiWord(s[i:j])
					i = j
					continue
				}
			}
			switch {
			case k == 0:
				c.flushWord()
			default:
				if n := len(c.word); n > 0 && c.word[n-1] >= 0x0E00 && unspaced(c.word[n-1]) {
					c.flushWord()
				}
				if b >= 'A' && b <= 'Z' {
					b += 32
				}
				c.word = append(c.word, rune(b))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < foldMax {
			a := tab[r]
			switch a >> 24 {
			case fkInvis:
				c.flags |= FlagInvisible
				c.endSelectors(&vs)
				continue
			case fkJoiner:
				c.endSelectors(&vs)
				continue
			}
			if vs != 0 {
				c.endSelectors(&vs)
			}
			if r >= 0x2460 && r <= 0x24FF {
				compat = true
			}
			if !c.apply(a) {
				return false
			}
			continue
		}
		switch {
		case r >= 0xE0000 && r <= 0xE007F:
			if r >= 0xE0020 && r <= 0xE007E && len(c.hidden) < maxDecodedBytes {
				c.hidden = append(c.hidden, byte(r-0xE0000))
			}
			continue
		case r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF:
			if vs == 0 {
				c.vsStart = len(c.hidden)
			}
			vs++
			if len(c.hidden) < maxDecodedBytes {
				b := byte(r - 0xFE00)
				if r >= 0xE0100 {
					b = byte(r - 0xE0100 + 16)
				}
				c.hidden = append(c.hidden, b)
			}
			continue
		case isInvisible(r):
			c.flags |= FlagInvisible
			c.endSelectors(&vs)
			continue
		}
		if vs != 0 {
			c.endSelectors(&vs)
		}
		switch {
		case r >= foldFF && r < foldFFEnd:
			if r >= 0xFF10 && r <= 0xFF19 || r >= 0xFF21 && r <= 0xFF3A || r >= 0xFF41 && r <= 0xFF5A {
				compat = true
			}
			if !c.apply(foldTab[foldMax+r-foldFF]) {
				return false
			}
		case symbolSimple(r):
			c.flushWord()
		case hanSimple(r):
			if n := len(c.word); n > 0 && c.word[n-1] < 0x0E00 && scriptBreak(r, c.word[n-1]) {
				c.flushWord()
			}
			c.word = append(c.word, r)
		case r >= 0xAC00 && r <= 0xD7A3:
			// Hangul syllables decompose algorithmically into two or three jamo (in foldTab).
			si := r - 0xAC00
			c.apply(tab[0x1100+si/588])
			c.apply(tab[0x1161+si%588/28])
			if t := si % 28; t != 0 {
				c.apply(tab[0x11A7+t])
			}
		default:
			if r >= 0x1D400 && r <= 0x1D7FF || r >= 0x1F130 && r <= 0x1F189 {
				compat = true
			}
			var buf [18]uint32
			acts, ok := decompActions(buf[:0], r)
			if !ok {
				return false
			}
			for _, a := range acts {
				c.apply(a)
			}
		}
	}
	c.endSelectors(&vs)
	if compat {
		c.flags |= FlagCompat
	}
	return true
}

// asciiWord appends a word of ASCII letters, as flushWord would (nothing to fold), with no rune buffer.
func (c *canon) asciiWord(w string) {
	start := len(c.words)
	c.words = grow(c.words, len(w)+1)
	c.squash = grow(c.squash, len(w))
	h := uint32(2166136261)
	for k := 0; k < len(w); k++ {
		b := w[k] | 0x20
		c.words = append(c.words, b)
		c.squash = append(c.squash, b)
		h = (h ^ uint32(b)) * 16777619
	}
	c.words = append(c.words, ' ')
	c.toks = append(c.toks, tokInfo{pos: int32(start), n: int32(len(w)), h: h, fl: tbNonDigit})
	if len(w) == 1 {
		c.singles++
		if c.singles == 5 {
			c.flags |= FlagSpaced
		}
	} else {
		c.singles = 0
	}
}

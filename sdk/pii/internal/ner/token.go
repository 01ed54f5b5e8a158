// Package ner is the named-entity tagger behind sdk/pii's PERSON, ADDRESS, LOCATION and ORGANIZATION types: a
// greedy averaged-perceptron BIO tagger over hashed lexical features (lower-cased word, word shape, affixes,
// neighbouring words and shapes, the previous tags, gazetteer membership, line and sentence position) with
// int8 weights, trained with feature dropout; a B- class must beat O by the model's margin to open an entity,
// and within a text that has a name, the other occurrences of a name's words and the other one-word items of a
// list with a one-word name are names too. The model (model_gen.go) is written by `go run ./sdk/pii/cmd/trainner`
// and the gazetteer (gazetteer_gen.go) by `go run ./sdk/pii/cmd/nergaz`.
//
// The package is pure and allocation-free per text once its scratch buffers have grown: a text is tokenised
// once, features are hashed on the fly, and only tokens near a possible entity (a capitalised word that is not a
// common word at the start of a sentence, a digit run, a gazetteer word) are scored; every other token is O.
package ner

import (
	"math/bits"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Token flags.
const (
	fNL        = 1 << iota // a line break precedes the token
	fUpper                 // first rune upper case
	fAllUpper              // every letter upper case (and at least one letter)
	fDigit                 // holds a digit
	fAllDigit              // only digits
	fLower                 // first rune lower case
	fPunct                 // not a word
	fSentStart             // first token of a sentence or line
	fLineDigit             // the token's line holds a digit
	fLineEnd               // last token of its line
	fShape                 // Shape is computed
	fCand                  // a candidate: scored (see candidate)
)

// Token is one word or punctuation rune of a text.
type Token struct {
	Start, End int32  // byte offsets
	Low        uint32 // hash of the lower-cased token
	Shape      uint32 // hash of the collapsed word shape (Xx, X, d, Xx-Xx, dx, ...): see shapeOf
	Gaz        uint16 // gazetteer flags
	Flags      uint16
	Len        uint8 // runes, capped at 255
	LinePos    uint8 // index of the token in its line, capped at 255
	LineNo     uint8 // index of the token's line in the text, capped at 255
	LineLen    uint8 // tokens in the token's line, capped at 255
}

const (
	cSpace = iota
	cNL
	cWord
	cJoin // ' and - : inside a word when between word characters
	cPunct
	cHigh // non-ASCII: decode
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		b := byte(c)
		switch {
		case b == '\n' || b == '\r':
			asciiClass[c] = cNL
		case b == ' ' || b == '\t' || b == '\f' || b == '\v':
			asciiClass[c] = cSpace
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9':
			asciiClass[c] = cWord
		case b == '\'' || b == '-':
			asciiClass[c] = cJoin
		case b < ' ' || b == 0x7f:
			asciiClass[c] = cSpace
		default:
			asciiClass[c] = cPunct
		}
	}
}

// classAt returns the class of the rune at i and its byte length.
func classAt(text []byte, i int) (uint8, int) {
	c := text[i]
	if c < 0x80 {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRune(text[i:])
	switch {
	case r == utf8.RuneError:
		return cPunct, n
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		return cWord, n
	case r == '\u2019': // right single quotation mark, as in O’Brien
		return cJoin, n
	case r == '\u2028' || r == '\u2029' || r == '\u0085':
		return cNL, n
	case unicode.IsSpace(r) || unicode.Is(unicode.Cf, r):
		return cSpace, n
	}
	return cPunct, n
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// between flags (high bit) every byte b of x with lo < b < hi; exact for bytes below 0x80, never flags a byte
// from 0x80.
func between(x uint64, lo, hi uint64) uint64 {
	t := x & swar.Low7
	return (swar.K*(127+hi) - t) &^ x & (t + swar.K*(127-lo)) & swar.High
}

// load8 reads up to 8 bytes of s from i, little-endian, zero-padded.
func load8(s []byte, i int) uint64 {
	if i+8 <= len(s) {
		b := s[i : i+8]
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	}
	var v uint64
	for k := 0; i+k < len(s); k++ {
		v |= uint64(s[i+k]) << (8 * k)
	}
	return v
}

// HashLower hashes s with ASCII letters lower-cased (the gazetteer key of a word), 8 bytes per step.
// Tokenize computes the same hash inline.
func HashLower(s []byte) uint32 {
	h := uint64(hashSeed)
	for i := 0; i < len(s); i += 8 {
		v := load8(s, i)
		h = (h ^ (v | between(v, 'A'-1, 'Z'+1)>>2)) * hashMul // upper-case ASCII letters + 0x20
		h ^= h >> 32
	}
	return hashEnd(h, len(s))
}

const (
	hashSeed = 0x9E3779B97F4A7C15
	hashMul  = 0xFF51AFD7ED558CCD
)

func hashEnd(h uint64, n int) uint32 {
	h = (h ^ uint64(n)) * hashMul
	return uint32(h ^ h>>32)
}

// ASCII byte properties for the tokeniser's fast path.
var (
	lowerTab [128]byte // lower-cased byte
	shapeTab [128]byte // X, x, d or the byte itself
)

func init() {
	for c := 0; c < 128; c++ {
		b := byte(c)
		lowerTab[c] = lowerASCII(b)
		switch {
		case b >= 'A' && b <= 'Z':
			shapeTab[c] = 'X'
		case b >= 'a' && b <= 'z':
			shapeTab[c] = 'x'
		case b >= '0' && b <= '9':
			shapeTab[c] = 'd'
		default:
			shapeTab[c] = b
		}
	}
}

// Tokenize appends the tokens of text to dst. An ASCII word is read 8 bytes per step (letter, digit and
// upper-case flags with SWAR range tests, the hash folded in as it goes, the gazetteer looked up in place): in
// wasm every call and every byte costs, so the common case makes no call.
func Tokenize(text []byte, dst []Token) []Token {
	first := len(dst)
	nl := false
	sent := true
	i := 0
	n := len(text)
	for i < n {
		c := text[i]
		var cl uint8
		w := 1
		if c < 0x80 {
			cl = asciiClass[c]
			if cl == cSpace {
				i++
				continue
			}
		} else {
			cl, w = classAt(text, i)
		}
		switch cl {
		case cNL:
			nl, sent = true, true
			i += w
			continue
		case cSpace:
			i += w
			continue
		}
		start := i
		var t Token
		if cl == cWord && c < 0x80 {
			h := uint64(hashSeed)
			var up, lo, dg uint64
			for {
				var v uint64
				if swar.LittleEndian && i+8 <= n {
					v = *(*uint64)(unsafe.Pointer(&text[i]))
				} else {
					v = load8(text, i)
				}
				t0 := v & swar.Low7
				alpha := (swar.K*(127+'Z'+1) - t0) &^ v & (t0 + swar.K*(127-('A'-1))) & swar.High
				lower := (swar.K*(127+'z'+1) - t0) &^ v & (t0 + swar.K*(127-('a'-1))) & swar.High
				digit := (swar.K*(127+'9'+1) - t0) &^ v & (t0 + swar.K*(127-('0'-1))) & swar.High
				k := 8
				if stop := ^(alpha | lower | digit) & swar.High; stop != 0 {
					k = bits.TrailingZeros64(stop) >> 3
				}
				if k > n-i {
					k = n - i
				}
				if k == 0 {
					break
				}
				if k < 8 {
					keep := uint64(1)<<(8*uint(k)) - 1
					v &= keep
					alpha &= keep
					lower &= keep
					digit &= keep
				}
				up |= alpha
				lo |= lower
				dg |= digit
				h = (h ^ (v | alpha>>2)) * hashMul
				h ^= h >> 32
				i += k
				if k < 8 || i >= n {
					break
				}
			}
			if i < n && (text[i] >= 0x80 || (asciiClass[text[i]] == cJoin && joins(text, i, 1))) {
				t, i = scanWord(text, start) // a ' or - inside, or a non-ASCII rune
			} else {
				switch {
				case c <= 'Z':
					if c >= 'A' {
						t.Flags = fUpper
					}
				case c >= 'a':
					t.Flags = fLower
				}
				if up != 0 && lo == 0 {
					t.Flags |= fAllUpper
				}
				if dg != 0 {
					t.Flags |= fDigit
					if up|lo == 0 {
						t.Flags |= fAllDigit
					}
				}
				t.Low = hashEnd(h, i-start)
				t.Len = cap8(i - start)
			}
		} else if cl == cWord {
			t, i = scanWord(text, i)
		} else {
			i += w
			h := HashLower(text[start:i])
			t = Token{Flags: fPunct, Low: h, Shape: h, Len: 1}
		}
		t.Start, t.End = int32(start), int32(i)
		if nl {
			t.Flags |= fNL
		}
		if sent {
			t.Flags |= fSentStart
		}
		nl = false
		sent = false
		if t.Flags&fPunct != 0 {
			c := text[start]
			sent = c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || c == '>' || c == '*' || c == '"'
		} else {
			// gazetteer, in place
			h := t.Low
			k := h >> (32 - gazIndexBits)
			for j, e := gazIndex[k], gazIndex[k+1]; j < e; j++ {
				if g := gazHash[j]; g >= h {
					if g == h {
						t.Gaz = gazFlags[j]
					}
					break
				}
			}
			if candidate(&t) {
				t.Flags |= fCand
			}
		}
		dst = append(dst, t)
	}
	lowerText(dst[first:])
	lines(dst[first:])
	return dst
}

// lowerText: in a text with no capital letter at all ("sometimes people call me philipp"), capitalisation says
// nothing, so every word that is not a common word is a candidate (the tagger judges it by its context). Only
// in texts of up to maxLowerTokens tokens (a chat message typed in lower case): scoring a candidate costs ~2.7
// µs in wasm, and a long lower-case document would make most of its words candidates.
const maxLowerTokens = 256

func lowerText(toks []Token) {
	if len(toks) > maxLowerTokens {
		return
	}
	for i := range toks {
		if toks[i].Flags&(fUpper|fAllUpper) != 0 {
			return
		}
	}
	for i := range toks {
		t := &toks[i]
		if t.Flags&(fPunct|fLower) == fLower && t.Gaz&GCommon == 0 {
			t.Flags |= fCand
		}
	}
}

// shapeOf returns the collapsed shape hash of a word token (Xx, X, d, Xx-Xx, dx, ...), computing it once.
func shapeOf(text []byte, t *Token) uint32 {
	if t.Flags&fShape != 0 || t.Flags&fPunct != 0 {
		return t.Shape
	}
	shape := uint32(fnvOffset)
	var last byte
	for i := int(t.Start); i < int(t.End); {
		c := text[i]
		var sc byte
		if c < 0x80 {
			sc = shapeTab[c]
			i++
		} else {
			r, w := utf8.DecodeRune(text[i:])
			i += w
			sc = runeShape(r)
			if r == '\u2019' {
				sc = '\''
			}
		}
		if sc != last {
			shape = (shape ^ uint32(sc)) * fnvPrime
			last = sc
		}
	}
	t.Shape = shape
	t.Flags |= fShape
	return shape
}

// scanWord reads the word starting at i (word runes, with ' or - between word runes) and computes its hashes
// and flags.
func scanWord(text []byte, i int) (Token, int) {
	start := i
	var t Token
	n := len(text)
	low := uint32(fnvOffset)
	shape := uint32(fnvOffset)
	var last byte
	nRunes, nUpper, nLetter, nDigit := 0, 0, 0, 0
	for i < n {
		c := text[i]
		var sc byte
		if c < 0x80 {
			cl := asciiClass[c]
			if cl != cWord {
				if cl == cJoin && joins(text, i, 1) {
					sc = c
				} else {
					break
				}
			} else {
				sc = shapeTab[c]
			}
			i++
			low = (low ^ uint32(lowerTab[c])) * fnvPrime
		} else {
			cl, w := classAt(text, i)
			if cl != cWord && !(cl == cJoin && joins(text, i, w)) {
				break
			}
			r, _ := utf8.DecodeRune(text[i:])
			for k := 0; k < w; k++ {
				low = (low ^ uint32(text[i+k])) * fnvPrime
			}
			i += w
			sc = runeShape(r)
			if cl == cJoin {
				sc = '\''
			}
		}
		switch sc {
		case 'X':
			nUpper++
			nLetter++
		case 'x':
			nLetter++
		case 'd':
			nDigit++
		}
		if nRunes == 0 {
			switch sc {
			case 'X':
				t.Flags |= fUpper
			case 'x':
				t.Flags |= fLower
			}
		}
		nRunes++
		if sc != last {
			shape = (shape ^ uint32(sc)) * fnvPrime
			last = sc
		}
	}
	if nLetter > 0 && nUpper == nLetter {
		t.Flags |= fAllUpper
	}
	if nDigit > 0 {
		t.Flags |= fDigit
		if nDigit == nRunes {
			t.Flags |= fAllDigit
		}
	}
	if nRunes > 255 {
		nRunes = 255
	}
	_, _ = low, shape
	t.Low, t.Len = HashLower(text[start:i]), uint8(nRunes)
	return t, i
}

// joins reports whether the joiner (' ’ -) of w bytes at i continues the word: a word rune follows, and it is
// not a possessive 's ("Oohara's" is the name and 's).
func joins(text []byte, i, w int) bool {
	j := i + w
	if j >= len(text) || !continuesWord(text, j) {
		return false
	}
	if text[i] != '-' && (text[j] == 's' || text[j] == 'S') && (j+1 == len(text) || !continuesWord(text, j+1)) {
		return false
	}
	return true
}

// continuesWord reports whether a word rune starts at i.
func continuesWord(text []byte, i int) bool {
	c := text[i]
	if c < 0x80 {
		return asciiClass[c] == cWord
	}
	cl, _ := classAt(text, i)
	return cl == cWord
}

// lines sets the line fields of the tokens.
func lines(toks []Token) {
	lineNo := 0
	for i := 0; i < len(toks); {
		j := i + 1
		digit := toks[i].Flags&fDigit != 0
		for j < len(toks) && toks[j].Flags&fNL == 0 {
			if toks[j].Flags&fDigit != 0 {
				digit = true
			}
			j++
		}
		for k := i; k < j; k++ {
			t := &toks[k]
			t.LinePos, t.LineNo, t.LineLen = cap8(k-i), cap8(lineNo), cap8(j-i)
			if digit {
				t.Flags |= fLineDigit
			}
		}
		toks[j-1].Flags |= fLineEnd
		lineNo++
		i = j
	}
}

func cap8(n int) uint8 {
	if n > 255 {
		return 255
	}
	return uint8(n)
}

// lookupGaz returns the gazetteer flags of a lower-cased word hash.
func lookupGaz(h uint32) uint16 {
	k := h >> (32 - gazIndexBits)
	for i := gazIndex[k]; i < gazIndex[k+1]; i++ {
		if gazHash[i] >= h {
			if gazHash[i] == h {
				return gazFlags[i]
			}
			return 0
		}
	}
	return 0
}

// runeShape is the word-shape class of a non-ASCII rune: X upper-case, x other letter, d digit, m anything else.
func runeShape(r rune) byte {
	switch {
	case unicode.IsUpper(r):
		return 'X'
	case unicode.IsLetter(r):
		return 'x'
	case unicode.IsDigit(r):
		return 'd'
	}
	return 'm'
}

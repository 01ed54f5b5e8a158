package detect

import (
	"strings"
	"unicode/utf8"
)

// Deciphering: text that reads as no language is tried backwards, under Atbash and under every Caesar shift;
// text with upside-down letters is turned the right way up; text behind a right-to-left override is read in
// display order; pig latin is undone. A reading that turns into ordinary words is added as its own chunk
// (FlagCipher), so an attack phrase in it counts as an encoded instruction. Ordinary text costs one look-up
// of its first cipherProbe words in a set of common words.

// cipherProbe is the number of words of a text that decide whether it looks like ciphertext.
const cipherProbe = 64

// maxCipherBytes bounds the text deciphered.
const maxCipherBytes = 16 << 10

// decipher adds the deciphered readings of the top-level text s (after add and addHidden).
func (c *canon) decipher(s string) {
	if len(s) > maxCipherBytes {
		s = s[:maxCipherBytes]
	}
	if c.nonASCII {
		if strings.Contains(s, "\u202e") {
			c.addBidiReversed(s)
		}
		c.addUpsideDown(s)
	}
	// The probe: the first Latin words of the top-level chunk; in it, the longest run of consecutive words
	// that are neither common words nor words of the phrase lists. Prose has few such runs of four or more,
	// and those are short; ciphertext is one.
	var probe [cipherProbe]tokInfo
	n, run, runEnd, cur := 0, 0, 0, 0
	for _, t := range c.toks {
		if t.fl&tbChunk != 0 {
			break
		}
		if t.fl&tbNonLatin != 0 || t.fl&tbNonDigit == 0 || t.n > 24 || t.n < 3 {
			continue // words of one or two letters decide nothing (a shift of "b" is "a")
		}
		probe[n] = t
		n++
		if knownWord(t.h) {
			cur = 0
		} else if cur++; cur > run {
			run, runEnd = cur, n
		}
		if n == cipherProbe {
			break
		}
	}
	if run < 4 {
		return
	}
	words := probe[runEnd-run : runEnd]
	ay := 0
	for _, t := range words {
		w := c.words[t.pos : t.pos+t.n]
		if t.n >= 4 && w[t.n-2] == 'a' && w[t.n-1] == 'y' {
			ay++
		}
	}
	if ay*5 >= run*3 {
		c.addPigLatin(s)
		return
	}
	// Try every reading on the run; keep the best if it turns enough of it into known words.
	best, bestOp := bestReading(c.words, words)
	if best < 3 || best*2 < run {
		return
	}
	start := len(c.decoded)
	if bestOp == 0 {
		c.decoded = appendReversed(c.decoded, s)
	} else {
		for i := 0; i < len(s); i++ {
			c.decoded = append(c.decoded, cipherByte(s[i], bestOp))
		}
	}
	c.addCipherChunk(start)
}

// bestReading returns the reading (0 reversed, 1 Atbash, 2..26 Caesar shifts 1..25) that turns the most of
// words into known words, and how many; the first such reading on a tie. A reading is given up as soon as it
// can no longer beat the best so far and reach three words (the fewest decipher takes), so ordinary text with
// a run of unknown words costs two words per reading, not the run; bestReadingRef (tests) tries every word, and
// FuzzBestReading checks that the choice decipher makes is the same.
//
// Each word's reading is hashed as it is read (FNV-1a over cipherTab[op] of its bytes, or its bytes backwards for
// op 0): no copy, no branch per byte.
func bestReading(text []byte, words []tokInfo) (best, bestOp int) {
	bestOp = -1
	for op := 0; op < 27; op++ {
		need := max(best+1, 3)
		hits := 0
		tab := &cipherTab[op]
		for k, t := range words {
			if hits+len(words)-k < need {
				break
			}
			w := text[t.pos : t.pos+t.n]
			h := uint32(2166136261)
			if op == 0 {
				for i := len(w) - 1; i >= 0; i-- {
					h = (h ^ uint32(w[i])) * 16777619
				}
			} else {
				for _, x := range w {
					h = (h ^ uint32(tab[x])) * 16777619
				}
			}
			if knownWord(h) {
				hits++
			}
		}
		if hits > best {
			best, bestOp = hits, op
		}
	}
	return best, bestOp
}

// cipherTab[op][x] is cipherByte(x, op). (Built behind a pointer: a large array returned by value makes a huge
// function in TinyGo's output, see tokenTable.)
var cipherTab = func() *[27][256]byte {
	t := new([27][256]byte)
	for op := range t {
		for x := range t[op] {
			t[op][x] = cipherByte(byte(x), op)
		}
	}
	return t
}()

// cipherByte applies reading op to one byte: 0 none (reversal is done by the caller), 1 Atbash, k ≥ 2 a
// Caesar shift back by k-1 (the letter k-1 places earlier). Case is kept; other bytes are unchanged.
func cipherByte(x byte, op int) byte {
	var base byte
	switch {
	case x >= 'a' && x <= 'z':
		base = 'a'
	case x >= 'A' && x <= 'Z':
		base = 'A'
	default:
		return x
	}
	switch {
	case op == 1:
		return base + 25 - (x - base)
	case op >= 2:
		return base + (x-base+26-byte(op-1))%26
	}
	return x
}

// appendReversed appends s with its code points in reverse order.
func appendReversed(dst []byte, s string) []byte {
	for i := len(s); i > 0; {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		dst = utf8.AppendRune(dst, r)
		i -= n
	}
	return dst
}

// addCipherChunk adds c.decoded[start:] as a deciphered chunk.
func (c *canon) addCipherChunk(start int) {
	if c.chunks >= maxDecodedChunks || len(c.decoded) > maxDecodedBytes+maxCipherBytes || !readable(c.decoded[start:]) {
		c.decoded = c.decoded[:start]
		return
	}
	c.chunks++
	c.flags |= FlagCipher
	c.add(string(c.decoded[start:]), maxDecodeDepth-1)
}

// addBidiReversed adds the display order of every run after a RIGHT-TO-LEFT OVERRIDE (up to POP DIRECTIONAL
// FORMATTING or the end of the line): "\u202etpmorp metsys" is shown, and read by the model, as "system
// prompt".
func (c *canon) addBidiReversed(s string) {
	start := len(c.decoded)
	for {
		i := strings.Index(s, "\u202e")
		if i < 0 {
			break
		}
		s = s[i+len("\u202e"):]
		end := len(s)
		if j := strings.IndexAny(s, "\u202c\n"); j >= 0 {
			end = j
		}
		c.decoded = appendReversed(c.decoded, s[:end])
		c.decoded = append(c.decoded, ' ')
		s = s[end:]
	}
	c.addCipherChunk(start)
}

// upsideDown maps the letters of upside-down text to the letters they are ("ǝɹouƃı" read turned round is
// "ignore"); ASCII letters that are each other turned (n/u, p/d, b/q) are swapped by the caller.
var upsideDown = map[rune]byte{
	'ɐ': 'a', 'ɔ': 'c', 'ǝ': 'e', 'ɟ': 'f', 'ƃ': 'g', 'ɥ': 'h', 'ᴉ': 'i', 'ı': 'i', 'ɾ': 'j', 'ʞ': 'k',
	'ꞁ': 'l', 'ɯ': 'm', 'ɹ': 'r', 'ʇ': 't', 'ʌ': 'v', 'ʍ': 'w', 'ʎ': 'y', 'ʃ': 'l', 'ן': 'l', 'ɓ': 'g',
	'∀': 'a', 'Ɐ': 'a', 'Ǝ': 'e', 'Ⅎ': 'f', '⅁': 'g', 'ſ': 'j', 'Ʞ': 'k', '˥': 'l', 'Ԁ': 'p', 'Ꝺ': 'd',
	'Ʇ': 't', 'Ʌ': 'v', '⅄': 'y', '¡': 'i', '¿': '?', '˙': '.', '\'': ',', ',': '\'',
}

// addUpsideDown turns text with at least four upside-down letters the right way up: reversed, each letter
// mapped back.
func (c *canon) addUpsideDown(s string) {
	// Counted: the turned letters that no language writes with (ɐ ǝ ɹ ʇ ʎ ɥ ɯ ʍ ʌ ɟ ƃ ʞ ɔ); dotless ı, ſ and
	// the like are ordinary Turkish, old German or IPA. Four of them, three different, make upside-down text.
	n, distinct := 0, uint16(0)
	for _, r := range s {
		if r >= 0x250 && r < 0x2B0 { // (the counted letters are all IPA extensions)
			if i := strings.IndexRune("ɐǝɹʇʎɥɯʍʌɟƃʞɔ", r); i >= 0 {
				n++
				distinct |= 1 << (i / 2)
			}
		}
	}
	if n < 4 || bits16(distinct) < 3 {
		return
	}
	start := len(c.decoded)
	for i := len(s); i > 0; {
		r, k := utf8.DecodeLastRuneInString(s[:i])
		i -= k
		if b, ok := upsideDown[r]; ok {
			c.decoded = append(c.decoded, b)
			continue
		}
		switch r {
		case 'n':
			r = 'u'
		case 'u':
			r = 'n'
		case 'p':
			r = 'd'
		case 'd':
			r = 'p'
		case 'b':
			r = 'q'
		case 'q':
			r = 'b'
		}
		c.decoded = utf8.AppendRune(c.decoded, r)
	}
	c.addCipherChunk(start)
}

// addPigLatin undoes pig latin word by word: "ignoreway" → "ignore", "eviouspray" → "previous". Of the
// possible readings of a word (the "-way"/"-yay" of a word that starts with a vowel, or one to three
// consonants moved to the end) the first that is a known word (common or in the phrase lists) is taken.
func (c *canon) addPigLatin(s string) {
	start := len(c.decoded)
	var buf [40]byte
	for _, f := range strings.Fields(s) {
		w := strings.Trim(strings.ToLower(f), ".,;:!?\"'()")
		if len(w) < 4 || len(w) > len(buf) || !strings.HasSuffix(w, "ay") {
			c.decoded = append(append(c.decoded, w...), ' ')
			continue
		}
		stem := w[:len(w)-2]
		var pick []byte
		if len(stem) > 1 && (stem[len(stem)-1] == 'w' || stem[len(stem)-1] == 'y' || stem[len(stem)-1] == 'h') && isVowel(stem[0]) {
			if b := append(buf[:0], stem[:len(stem)-1]...); knownWord(fnv(b)) {
				pick = b
			}
		}
		for k := 1; pick == nil && k <= 3 && k < len(stem); k++ {
			b := append(append(buf[:0], stem[len(stem)-k:]...), stem[:len(stem)-k]...)
			if knownWord(fnv(b)) {
				pick = b
			}
		}
		if pick == nil { // unknown: the most common form (one consonant, or the vowel form)
			if isVowel(stem[0]) && len(stem) > 1 {
				pick = append(buf[:0], stem[:len(stem)-1]...)
			} else {
				pick = append(append(buf[:0], stem[len(stem)-1]), stem[:len(stem)-1]...)
			}
		}
		c.decoded = append(append(c.decoded, pick...), ' ')
	}
	c.addCipherChunk(start)
}

func bits16(x uint16) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func isVowel(b byte) bool { return b == 'a' || b == 'e' || b == 'i' || b == 'o' || b == 'u' }

// knownWord reports whether h is the FNV-1a hash of a common word of the languages written in Latin letters
// (or of program code) or of a word of the English phrase lists.
func knownWord(h uint32) bool {
	for k := uint32(0); k < knownProbe; k++ {
		switch knownSlots[(h+k)&(knownSlotsN-1)] {
		case h:
			return true
		case 0:
			return false
		}
	}
	return false
}

const (
	knownSlotsN = 8192
	knownProbe  = 8
)

// knownSlots is an open-addressing set of word hashes (linear probing, at most knownProbe slots).
var knownSlots = func() *[knownSlotsN]uint32 {
	t := new([knownSlotsN]uint32)
	add := func(w string) {
		h := fnv([]byte(w))
		for k := uint32(0); k < knownProbe; k++ {
			if i := (h + k) & (knownSlotsN - 1); t[i] == 0 || t[i] == h {
				t[i] = h
				return
			}
		}
	}
	for _, w := range strings.Fields(commonWords) {
		add(w)
	}
	for _, list := range [][]string{lexInstructionOverride, lexPromptExtraction, lexJailbreakPersona,
		lexRestrictionRemoval, lexRolePlay, lexDataInstruction, lexSecretRequest, lexFraming,
		lexAuthorityClaim, lexDecodeRequest, lexOutputManipulation} {
		for _, p := range list {
			for _, w := range strings.FieldsFunc(strings.ToLower(p), func(r rune) bool {
				return !(r >= 'a' && r <= 'z')
			}) {
				if len(w) > 1 && isASCII(w) {
					add(w)
				}
			}
		}
	}
	return t
}()

// commonWords are frequent words of English, French, German, Spanish, Italian, Portuguese, Dutch, Turkish,
// Indonesian, Tagalog, Polish, Vietnamese (accents folded), Swahili, and of program code.
const commonWords = `
the of and to in is you that it he was for on are as with his they at be this have from or one had by word
but not what all were we when your can said there use an each which she do how their if will up other about
out many then them these so some her would make like him into time has look two more write go see number no
way could people my than first been call who its now find long down day did get come made may part me our
please tell give show list help need want should know just also any new here why where very
le la les de des un une et est en que qui dans pour pas sur au avec ce il elle ne se vous nous je tu du
der die das und ist nicht ein eine zu den von mit sich auf fur ich du es sie wir ihr dem im auch wie
el los las y es en que un una por con no para se lo su al del como mas pero sus le ya o este yo
il di che e la per un una non sono con si da del della le ho mi ti
o os as um uma e de do da que nao em para com se por mais como
het een van en de dat is op te zijn niet met voor ik je
bir ve bu da de ne ile icin ben sen o ama cok var
dan yang di ini itu dengan untuk tidak ada saya kamu
ang ng sa mga na ay at ko mo siya
i w z na nie sie to jest ze do jak
la cua va cho toi ban nay khong co duoc
na ya kwa ni wa za
func return if else for function var const int string true false null import def class self this
new public static void package include while let struct type print
`

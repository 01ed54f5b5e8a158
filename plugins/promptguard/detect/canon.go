package detect

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Flag bits describe what canonicalisation had to undo. Their presence is itself evidence of evasion.
const (
	FlagInvisible uint32 = 1 << iota // zero-width, bidi-control or variation-selector characters removed
	FlagTagChars                     // Unicode tag characters (U+E0000–E007F): ASCII smuggling
	FlagHomoglyph                    // words mixing Latin with Cyrillic/Greek lookalikes, or small capitals
	FlagLeet                         // leetspeak digits/symbols inside words (1gn0r3)
	FlagSpaced                       // letters separated by spaces or punctuation (i g n o r e)
	FlagBase64                       // a base64 run decoded to text
	FlagHex                          // a hex run decoded to text
	FlagURL                          // percent-encoding decoded
	FlagHTML                         // HTML character references decoded
	FlagCompat                       // compatibility characters folded (fullwidth, math alphanumerics, circled)
	FlagCipher                       // text read backwards, upside down, in pig latin or under a letter cipher
)

// Limits that bound the work on hostile input.
const (
	maxDecodeDepth   = 3         // nested encodings followed
	maxDecodedBytes  = 64 << 10  // decoded bytes appended per Analyze call
	maxDecodedChunks = 32        // decoded payloads per Analyze call
	maxCanonInput    = 256 << 10 // bytes of one text canonicalised; the rest is ignored
)

// canon holds the canonical forms of one analysed text and the scratch buffers used to build them.
type canon struct {
	words    []byte // " tok tok | tok ": lower-case folded tokens, each followed by ' '; chunks separated by "| "
	squash   []byte // the same letters and digits with no separators except '|' between chunks
	flags    uint32
	mainSq   int  // len(squash) at the end of the first (top-level) chunk; what follows was decoded or hidden
	mainWd   int  // the same for words
	nonASCII bool // some chunk had non-ASCII text

	hidden  []byte // text carried by tag characters and runs of variation selectors
	vsStart int    // len(hidden) when the current run of variation selectors began
	clean   []byte // input with invisible characters removed (non-ASCII path)
	nfkd    []byte // NFKD of clean
	word    []rune // the word being assembled
	decoded []byte // decoded payloads of this call
	chunks  int

	singles int // run length of single-letter tokens (spaced-letter evasion)

	// Token index of words, written as the tokens are (so the n-gram pass reads no bytes), and the word-phrase
	// automaton run over the tokens by wordPhrases (wd: nil when not wanted; its matches in wdHits).
	toks   []tokInfo
	wd     *matcher
	wdHits []int32

	// The raw-text marker automaton (role spoofing), run from the separator bytes of the top-level ASCII text
	// while it is folded (raw: nil when not wanted; rawOK: its matches in rawHits cover the whole text).
	raw     *matcher
	rawHits []int32
	rawOK   bool
}

// rawRun runs the raw-marker automaton over s from i in state st until it is back at the root, and returns
// where it stopped.
func (c *canon) rawRun(s string, i, st int) int {
	m := c.raw
	for ; i < len(s); i++ {
		e := m.delta[st+int(m.class[s[i]])]
		st = int(e & dfaMask)
		if e&dfaOut != 0 {
			c.rawHits = m.emit(int32(st/m.nclass), c.rawHits)
		}
		if st == 0 {
			return i + 1
		}
	}
	return len(s)
}

// tokInfo describes one token of canon.words: where it starts, its length, its FNV-1a hash and its
// tokenByteFlags OR-ed (tbChunk for the "|" chunk separator).
type tokInfo struct {
	pos int32
	n   int32
	h   uint32
	fl  uint8
}

// tbChunk marks the "|" token between chunks.
const tbChunk = 1 << 7

// nopMatcher is a one-state automaton without patterns, run when no word-phrase matcher is set.
var nopMatcher = &matcher{nclass: 1, delta: []uint32{0}}

// noteToken indexes the token words[start:end] (written by a slow path).
func (c *canon) noteToken(start, end int) {
	h := uint32(2166136261)
	var fl uint8
	for _, b := range c.words[start:end] {
		h = (h ^ uint32(b)) * 16777619
		fl |= tokenByteFlags[b]
	}
	c.toks = append(c.toks, tokInfo{pos: int32(start), n: int32(end - start), h: h, fl: fl})
}

// wordPhrases runs the word-phrase automaton over the words buffer and leaves its matches in wdHits. When every
// phrase is space-bounded words (matcher.tok) it runs over the token index, one step per token: a token that is
// no phrase word (a bit filter on its hash, then the table of the phrase words' hashes) resets the automaton,
// a phrase word steps it with its id; a match is kept when its tokens' bytes are the phrase (a token whose hash
// is a phrase word's but not its bytes is told apart there: it can only add matches, not hide one). Otherwise
// the byte automaton is run over the words buffer. FuzzTokenIndex compares the matches with a pass over the
// bytes, and FuzzWordPhrases with the previous token-skipping byte loop.
func (c *canon) wordPhrases() {
	m := c.wd
	t := m.tok
	if t == nil {
		c.wdHits = m.scan(c.words, c.wdHits[:0])
		return
	}
	hits := c.wdHits[:0]
	delta, class, bloom, wordH, wordID := t.delta, &t.class, &m.wordBloom, m.wordH, m.wordID
	st := 0
	toks := c.toks
	for i := range toks {
		tk := &toks[i]
		h := tk.h
		if tk.fl&tbChunk != 0 || bloom[h>>5&127]&(1<<(h&31)) == 0 {
			st = 0
			continue
		}
		k := wordSlot(h)
		for wordID[k] != 0 && wordH[k] != h {
			k = (k + 1) % wordSlots
		}
		e := delta[st+int(class[wordID[k]])]
		st = int(e & dfaMask)
		if e&dfaOut != 0 {
			hits = c.wordMatches(t, int32(st/t.nclass), i, hits)
		}
	}
	c.wdHits = hits
}

// wordMatches appends the patterns output by state st of the token automaton whose words are the bytes of the
// tokens ending with token i.
func (c *canon) wordMatches(t *matcher, st int32, i int, hits []int32) []int32 {
	m := c.wd
	n := len(hits)
	hits = t.emit(st, hits)
	keep := n
	for _, id := range hits[n:] {
		if j := i + 1 - int(m.patK[id]); j >= 0 {
			a, b := c.toks[j].pos-1, c.toks[i].pos+c.toks[i].n+1
			if string(c.words[a:b]) == m.pats[id] {
				hits[keep] = id
				keep++
			}
		}
	}
	return hits[:keep]
}

func (c *canon) reset() {
	c.words = append(c.words[:0], ' ')
	c.toks = c.toks[:0]
	c.wdHits = c.wdHits[:0]
	c.rawHits, c.rawOK = c.rawHits[:0], false
	if c.wd == nil {
		c.wd = nopMatcher
	}
	c.squash = c.squash[:0]
	c.mainSq, c.mainWd = 0, 0
	c.nonASCII = false
	c.flags = 0
	c.hidden = c.hidden[:0]
	c.decoded = c.decoded[:0]
	c.chunks = 0
	c.singles = 0
}

// add canonicalises s and appends it to words/squash as a new chunk; depth counts decoding levels.
func (c *canon) add(s string, depth int) {
	if len(s) > maxCanonInput {
		s = s[:maxCanonInput]
	}
	if len(c.words) == 0 {
		c.reset()
	}
	if len(c.words) > 1 {
		c.toks = append(c.toks, tokInfo{pos: int32(len(c.words)), n: 1, fl: tbChunk})
		c.words = append(c.words, '|', ' ')
		c.squash = append(c.squash, '|')
	}
	// ASCII text (nearly all) is folded and measured for the decoders in one pass; on the first non-ASCII byte
	// that pass is undone and the text goes through the Unicode path and a separate measuring pass.
	var st textStats
	c.singles = 0
	w0, q0, f0, t0 := len(c.words), len(c.squash), c.flags, len(c.toks)
	raw := depth == 0 && c.raw != nil && c.raw.lettersStay
	if !c.foldASCII(s, &st, raw) {
		c.rawHits, raw = c.rawHits[:0], false
		c.words, c.squash, c.flags, c.singles, c.word = c.words[:w0], c.squash[:q0], f0, 0, c.word[:0]
		c.toks = c.toks[:t0]
		c.nonASCII = true
		st = statsOf(s)
		hd, vs0 := len(c.hidden), c.vsStart
		if !c.foldUnicode(s) {
			// A character whose canonical reordering the table path does not model: the reference path.
			c.words, c.squash, c.flags, c.singles, c.word = c.words[:w0], c.squash[:q0], f0, 0, c.word[:0]
			c.toks = c.toks[:t0]
			c.hidden, c.vsStart = c.hidden[:hd], vs0
			c.foldUnicodeRef(s)
		}
	}
	c.flushWord()
	if depth == 0 {
		c.rawOK = raw
		c.mainSq, c.mainWd = len(c.squash), len(c.words)
	}
	if depth < maxDecodeDepth {
		c.decodePayloads(s, depth, &st)
	}
}

// addHidden appends the text smuggled in tag characters (collected by add) as its own chunk. Short tag runs
// are emoji subdivision flags (🏴 + "gbsct"): removed, not evidence.
func (c *canon) addHidden() {
	if len(c.hidden) == 0 {
		return
	}
	if len(c.hidden) < 8 && !bytesContain(c.hidden, ' ') {
		c.hidden = c.hidden[:0]
		return
	}
	c.flags |= FlagTagChars
	h := string(c.hidden)
	c.hidden = c.hidden[:0]
	c.add(h, maxDecodeDepth-1)
}

// wordClass is asciiClass with bit 4 set for the hex-ish word characters (one table lookup per word byte).
var wordClass = func() (t [256]uint8) {
	for b := 0; b < 256; b++ {
		t[b] = asciiClass[b]
		if t[b] != 0 && decodeClass[b]&dcHex != 0 {
			t[b] |= 4
		}
	}
	return t
}()

// asciiClass: 0 separator, 1 letter, 2 digit or leet symbol.
var asciiClass = func() (t [256]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		t[b] = 1
		t[b-32] = 1
	}
	for b := '0'; b <= '9'; b++ {
		t[b] = 2
	}
	t['@'], t['$'] = 2, 2
	return t
}()

// foldASCII handles ASCII text. Words made only of letters (nearly all of them) are lower-cased straight into
// the output; words with digits or leet symbols go through flushWord.
//
// It also computes st (exactly statsOf's figures, in passes of their own after the fold). It returns false,
// leaving partial output, when s has a non-ASCII byte.
//
// When raw is set it also runs the raw-marker automaton: every marker starts with a byte that is not part of a
// word (lettersStay), so the automaton only has to start at separators.
//
// The word-phrase automaton is not run here but over the token index afterwards (wordPhrases). The loops keep
// few variables and few taken branches: in wasm a loop with more live values than the compiler's sixteen
// registers loads and stores them on every pass, and every taken jump goes through the function's dispatch
// table, which costs more than the work itself. foldASCIIRef (tests) is an earlier form; FuzzFoldASCII
// compares the two.
func (c *canon) foldASCII(s string, st *textStats, raw bool) bool {
	// Room for the worst case (every byte a one-letter word) so the letter-only path writes by index.
	c.words = grow(c.words, 2*len(s)+1)
	c.squash = grow(c.squash, len(s)+1)
	rawTo := len(s) + 1 // raw markers not wanted
	var rawStay *[256]bool
	if raw {
		rawStay = &c.raw.rootStay
		rawTo = c.rawRun(s, 0, int(c.raw.stateAfter(nlPrefix))) // a line-start marker at offset 0
	}
	p := unsafe.Pointer(unsafe.StringData(s))
	for i := 0; i < len(s); {
		if asciiClass[s[i]] == 0 {
			if s[i] >= utf8.RuneSelf {
				return false
			}
			if i >= rawTo && !rawStay[s[i]] {
				rawTo = c.rawRun(s, i, 0)
			}
			i++
			continue
		}
		// A word of one to seven letters ended by a separator (most words) is folded here, from one 8-byte load:
		// a call per word costs more in wasm than the work. Longer words, words with digits or leet symbols and
		// the last bytes of the text go through foldWord.
		if swar.LittleEndian && i+8 <= len(s) {
			x := *(*uint64)(unsafe.Add(p, i))
			y := x | 0x20*swar.K
			k := bits.TrailingZeros64(nonLetters(x, y)) >> 3
			w, q := len(c.words), len(c.squash)
			words, squash := c.words[w:cap(c.words)], c.squash[q:cap(c.squash)]
			// (grow made the room: 2 bytes of words and 1 of squash per input byte; checked all the same, as the
			// stores below write eight bytes past the index checked)
			if k > 0 && k < 8 && asciiClass[s[i+k]] == 0 && len(words) >= 8 && len(squash) >= 8 {
				*(*uint64)(unsafe.Pointer(&words[0])) = y
				*(*uint64)(unsafe.Pointer(&squash[0])) = y
				words[k] = ' '
				// FNV-1a over the k letters, with selects (written out: a call costs more here)
				th := (2166136261 ^ uint32(y&0xFF)) * 16777619
				h := (th ^ uint32(y>>8&0xFF)) * 16777619
				if k > 1 {
					th = h
				}
				h = (th ^ uint32(y>>16&0xFF)) * 16777619
				if k > 2 {
					th = h
				}
				h = (th ^ uint32(y>>24&0xFF)) * 16777619
				if k > 3 {
					th = h
				}
				h = (th ^ uint32(y>>32&0xFF)) * 16777619
				if k > 4 {
					th = h
				}
				h = (th ^ uint32(y>>40&0xFF)) * 16777619
				if k > 5 {
					th = h
				}
				h = (th ^ uint32(y>>48&0xFF)) * 16777619
				if k > 6 {
					th = h
				}
				c.words = c.words[:w+k+1]
				c.squash = c.squash[:q+k]
				// (letterWord, written out: the call costs more than its body)
				c.toks = append(c.toks, tokInfo{pos: int32(w), n: int32(k), h: th, fl: tbNonDigit})
				if k == 1 {
					c.singles++
					if c.singles == 5 {
						c.flags |= FlagSpaced
					}
				} else {
					c.singles = 0
				}
				i += k
				// The separator after it, as the pass above would take it when it starts no raw marker.
				if b := s[i]; b < utf8.RuneSelf && (i < rawTo || rawStay[b]) {
					i++
				}
				continue
			}
		}
		i = c.foldWord(s, i)
	}
	*st = statsASCII(s)
	return true
}

// nonLetters has the high bit set in every byte of the 8-byte little-endian load x that is not an ASCII letter,
// given y = x | 0x20 in every byte (lower case). Bytes before the first such byte are exact: carries of the
// additions only run towards later bytes.
func nonLetters(x, y uint64) uint64 {
	return (^((y + (0x80-'a')*swar.K) &^ (y + (0x80-'z'-1)*swar.K)) | x) & swar.High
}

// statsASCII is statsOf for ASCII text: the '%', '&' and '\\' counts eight bytes at a time.
func statsASCII(s string) textStats {
	var pct, amp, bsl int
	i := 0
	if swar.LittleEndian {
		p := unsafe.Pointer(unsafe.StringData(s))
		for ; i+8 <= len(s); i += 8 {
			x := *(*uint64)(unsafe.Add(p, i))
			pct += bits.OnesCount64(zeroBytes(x ^ '%'*swar.K))
			amp += bits.OnesCount64(zeroBytes(x ^ '&'*swar.K))
			bsl += bits.OnesCount64(zeroBytes(x ^ '\\'*swar.K))
		}
	}
	var acc uint64
	for ; i < len(s); i++ {
		acc += statsCount[s[i]]
	}
	const field = 1<<21 - 1
	return textStats{
		ascii:  true,
		maxB64: runAtLeast(s, dcB64, minBase64Run),
		maxHex: runAtLeast(s, dcHex, 2*minHexBytes),
		pct:    pct + int(acc&field),
		amp:    amp + int(acc>>21&field),
		bsl:    bsl + int(acc>>42&field),
	}
}

// zeroBytes has the high bit set in each byte of v that is zero.
func zeroBytes(v uint64) uint64 { return ^((v&swar.Low7 + swar.Low7) | v | swar.Low7) }

// foldWord folds the word of ASCII text s that starts at i and returns where it ends. A word made of letters
// only is copied lower-cased (|0x20) into words and squash and hashed while its end is found; a word with
// digits or leet symbols goes through flushWord (the copy is discarded: lengths are not advanced).
func (c *canon) foldWord(s string, i int) int {
	w, q := len(c.words), len(c.squash)
	words := c.words[w:cap(c.words)]
	squash := c.squash[q:cap(c.squash)]
	j, n := i, 0
	var cl uint8
	th := uint32(2166136261)
	// Eight bytes at a time while they are letters: in wasm every pass of a loop costs a jump through the
	// function's dispatch table, which is dearer than the work of a byte. The first non-letter (or the end of
	// the eight) is found with a trailing-zero count and the hash is stepped over the letters before it with
	// selects, not branches. (Stores of eight bytes stay within the room grow made: 2 bytes of words and 1 of
	// squash per input byte.) The byte loop below finishes the word: its last bytes, or digits after letters.
	if swar.LittleEndian {
		p := unsafe.Pointer(unsafe.StringData(s))
		for j+8 <= len(s) && n+8 <= len(words) && n+8 <= len(squash) {
			x := *(*uint64)(unsafe.Add(p, j))
			y := x | 0x20*swar.K
			nl := nonLetters(x, y)
			*(*uint64)(unsafe.Pointer(&words[n])) = y
			*(*uint64)(unsafe.Pointer(&squash[n])) = y
			if nl == 0 {
				th = fnv8(th, y)
				j, n = j+8, n+8
				continue
			}
			k := bits.TrailingZeros64(nl) >> 3
			th = fnvPrefix(th, y, k)
			j, n = j+k, n+k
			if asciiClass[s[j]] == 0 {
				goto end // a separator (or a non-ASCII byte) ends the word
			}
			break
		}
	}
	for j < len(s) && n < len(words) && n < len(squash) {
		k := asciiClass[s[j]]
		if k == 0 {
			break
		}
		cl |= k
		b := s[j] | 0x20
		words[n] = b
		squash[n] = b
		th = (th ^ uint32(b)) * 16777619
		n++
		j++
	}
end:
	if cl&2 != 0 {
		for k := i; k < j; k++ {
			b := s[k]
			if b >= 'A' && b <= 'Z' {
				b += 32
			}
			c.word = append(c.word, rune(b))
		}
		c.flushWord()
		return j
	}
	// Letters only: already copied and hashed.
	words[n] = ' '
	c.words = c.words[:w+n+1]
	c.squash = c.squash[:q+n]
	c.letterWord(w, n, th)
	return j
}

// letterWord indexes the word of n letters written at words[w:] (followed by its space) with FNV-1a hash th.
func (c *canon) letterWord(w, n int, th uint32) {
	c.toks = append(c.toks, tokInfo{pos: int32(w), n: int32(n), h: th, fl: tbNonDigit})
	if n == 1 {
		c.singles++
		if c.singles == 5 {
			c.flags |= FlagSpaced
		}
	} else {
		c.singles = 0
	}
}

// fnv8 steps the FNV-1a hash h over the eight bytes of y (little-endian order).
func fnv8(h uint32, y uint64) uint32 {
	h = (h ^ uint32(y&0xFF)) * 16777619
	h = (h ^ uint32(y>>8&0xFF)) * 16777619
	h = (h ^ uint32(y>>16&0xFF)) * 16777619
	h = (h ^ uint32(y>>24&0xFF)) * 16777619
	h = (h ^ uint32(y>>32&0xFF)) * 16777619
	h = (h ^ uint32(y>>40&0xFF)) * 16777619
	h = (h ^ uint32(y>>48&0xFF)) * 16777619
	return (h ^ uint32(y>>56)) * 16777619
}

// fnvPrefix steps the FNV-1a hash h over the first k (0..7) bytes of y, with selects instead of branches.
func fnvPrefix(h uint32, y uint64, k int) uint32 {
	x := (h ^ uint32(y&0xFF)) * 16777619
	if k > 0 {
		h = x
	}
	x = (h ^ uint32(y>>8&0xFF)) * 16777619
	if k > 1 {
		h = x
	}
	x = (h ^ uint32(y>>16&0xFF)) * 16777619
	if k > 2 {
		h = x
	}
	x = (h ^ uint32(y>>24&0xFF)) * 16777619
	if k > 3 {
		h = x
	}
	x = (h ^ uint32(y>>32&0xFF)) * 16777619
	if k > 4 {
		h = x
	}
	x = (h ^ uint32(y>>40&0xFF)) * 16777619
	if k > 5 {
		h = x
	}
	x = (h ^ uint32(y>>48&0xFF)) * 16777619
	if k > 6 {
		h = x
	}
	return h
}

// grow makes sure b has room for n more bytes (length unchanged).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// foldUnicodeRef is the reference Unicode path: invisible characters removed, NFKD of the whole text, then one
// action per rune (foldUnicode computes the same output faster; it falls back here for the rare texts it does
// not model, and the differential test compares the two).
func (c *canon) foldUnicodeRef(s string) {
	c.clean = c.clean[:0]
	vs := 0 // length of the current run of variation selectors
	for _, r := range s {
		switch {
		case r >= 0xE0000 && r <= 0xE007F:
			if r >= 0xE0020 && r <= 0xE007E && len(c.hidden) < maxDecodedBytes {
				c.hidden = append(c.hidden, byte(r-0xE0000))
			}
			continue
		case r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF:
			// One selector after an emoji is everyday emoji plumbing; a run of them carries bytes (one per
			// selector: FE00–FE0F are 0–15, E0100–E01EF are 16–255), the "emoji smuggling" trick. The run's
			// bytes are collected like tag characters.
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
			// Joiners are everyday emoji plumbing: removed, not evidence.
			if r != 0x200D {
				c.flags |= FlagInvisible
			}
			c.endSelectors(&vs)
			continue
		}
		c.endSelectors(&vs)
		c.clean = utf8.AppendRune(c.clean, r)
	}
	c.endSelectors(&vs)
	c.nfkd = norm.NFKD.Append(c.nfkd[:0], c.clean...)
	b := c.nfkd
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r < utf8.RuneSelf {
			switch {
			case r >= 'A' && r <= 'Z':
				if n := len(c.word); n > 0 && c.word[n-1] >= 0x0E00 && unspaced(c.word[n-1]) {
					c.flushWord() // a Latin word after Chinese, Japanese, Korean or Thai (see scriptBreak)
				}
				c.word = append(c.word, r+32)
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '@', r == '$':
				if n := len(c.word); n > 0 && c.word[n-1] >= 0x0E00 && unspaced(c.word[n-1]) {
					c.flushWord()
				}
				c.word = append(c.word, r)
			default:
				c.flushWord()
			}
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue // accents and other non-spacing marks are dropped (é → e)
		}
		if f, ok := smallCaps(r); ok {
			c.flags |= FlagHomoglyph
			c.word = append(c.word, f)
			continue
		}
		if r >= 0x1F1E6 && r <= 0x1F1FF { // regional indicator letters
			c.flags |= FlagHomoglyph
			c.word = append(c.word, 'a'+(r-0x1F1E6))
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			r = unicode.ToLower(r)
			if n := len(c.word); n > 0 && (r >= 0x0E00) != (c.word[n-1] >= 0x0E00) && scriptBreak(r, c.word[n-1]) {
				c.flushWord()
			}
			c.word = append(c.word, r)
			continue
		}
		c.flushWord()
	}
	if compatChanged(c.clean) {
		c.flags |= FlagCompat
	}
}

// endSelectors ends a run of *vs variation selectors: a run of one to three is emoji presentation and is
// dropped from the hidden bytes; a longer one stays there (with a space after it) and is evidence.
func (c *canon) endSelectors(vs *int) {
	switch {
	case *vs == 0:
		return
	case *vs < 4:
		c.hidden = c.hidden[:min(c.vsStart, len(c.hidden))]
	default:
		c.flags |= FlagInvisible
		c.hidden = append(c.hidden, ' ')
	}
	*vs = 0
}

// compatChanged reports whether s contains fullwidth forms, mathematical alphanumerics or enclosed letters
// (compatibility characters that NFKD folds to ASCII).
func compatChanged(s []byte) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		s = s[n:]
		if (r >= 0xFF10 && r <= 0xFF19) || (r >= 0xFF21 && r <= 0xFF3A) || (r >= 0xFF41 && r <= 0xFF5A) || (r >= 0x1D400 && r <= 0x1D7FF) || (r >= 0x2460 && r <= 0x24FF) || (r >= 0x1F130 && r <= 0x1F189) {
			return true
		}
	}
	return false
}

// scriptBreak reports whether a word ends between prev and r: where a script written without spaces
// (Chinese, Japanese, Korean, Thai) meets another, "名为DAN的" is the words 名为, dan, 的, so a Latin word
// written inside such text is read (n-grams, word phrases) as it is in a Latin sentence. Those scripts have
// no Latin lookalikes, so no homoglyph word is split. (The callers call it only where a letter below U+0E00
// meets one above, so a run of Han or of Latin letters costs one comparison per letter.)
func scriptBreak(r, prev rune) bool { return unspaced(r) != unspaced(prev) }

// unspaced reports whether r is a letter of a script written without spaces between words: Thai, Hangul,
// kana and Han ideographs.
func unspaced(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r <= 0x0E7F: // Thai
		return true
	case r >= 0x1100 && r <= 0x11FF, r >= 0x3130 && r <= 0x318F, r >= 0xAC00 && r <= 0xD7AF: // Hangul
		return true
	case r >= 0x3040 && r <= 0x30FF, r >= 0x31F0 && r <= 0x31FF: // kana
		return true
	case r >= 0x3400 && r <= 0x9FFF, r >= 0xF900 && r <= 0xFAFF, r >= 0x20000 && r <= 0x3FFFF: // Han
		return true
	}
	return false
}

// flushWord folds the assembled word (homoglyphs, leetspeak) and appends it.
func (c *canon) flushWord() {
	w := c.word
	if len(w) == 0 {
		return
	}
	var latin, cyrGreek, letters, leet, other, conf, latinConf int
	var block0, blocks rune = -1, 0 // 128-code-point blocks of the confusable letters (a proxy for scripts)
	for _, r := range w {
		switch {
		case r >= 'a' && r <= 'z':
			latin++
			letters++
			continue
		case r >= '0' && r <= '9', r == '@', r == '$':
			leet++
			continue
		case r >= 0x370 && r <= 0x52F:
			cyrGreek++
			letters++
		default:
			if r < 0x250 || (r >= 0x1E00 && r <= 0x1EFF) {
				latin++
			}
			letters++
			other++
		}
		if _, ok := confusable(r); ok {
			conf++
			if r < 0x250 || (r >= 0x1E00 && r <= 0x1EFF) {
				latinConf++ // a Latin letter of some language (Turkish ı, Vietnamese đ): folded, not evidence
			}
			if b := r >> 7; b != block0 {
				block0 = b
				blocks++
			}
		}
	}
	// Lookalikes are folded in words that mix them with Latin letters ("іgnоrе", Armenian "ցօ" inside a Latin
	// word), or whose letters are all lookalikes from more than one script; a word wholly in one other script
	// is that language, and stays. Only lookalikes from other scripts are evidence: the Latin letters of
	// Turkish (ı) or Vietnamese (đ) that TR39 also maps to ASCII are folded but are how those languages are
	// written.
	if conf > 0 && (latin > 0 || conf == letters && blocks > 1) {
		for i, r := range w {
			if f, ok := confusable(r); ok {
				w[i] = f
			}
		}
		if conf > latinConf {
			c.flags |= FlagHomoglyph
		}
		cyrGreek, other = 0, 0
		for _, r := range w {
			if r >= 0x80 {
				other++
			}
		}
	}
	if leet > 0 && letters >= 2 && len(w) <= 24 && cyrGreek == 0 && other == 0 && leet < letters*2 && !isIdentifier(w) {
		n := 0
		for i, r := range w {
			if f, ok := leetFold(r); ok {
				w[i] = f
				n++
			}
		}
		if n > 0 {
			c.flags |= FlagLeet
		}
	}
	// '@' and '$' that were not folded are dropped.
	start := len(c.words)
	for _, r := range w {
		if r == '@' || r == '$' {
			continue
		}
		c.words = utf8.AppendRune(c.words, r)
	}
	if len(c.words) > start {
		end := len(c.words)
		c.squash = append(c.squash, c.words[start:end]...)
		c.words = append(c.words, ' ')
		c.noteToken(start, end)
	}
	if letters == 1 && len(w) == 1 && latin == 1 {
		c.singles++
		if c.singles == 5 {
			c.flags |= FlagSpaced
		}
	} else {
		c.singles = 0
	}
	c.word = c.word[:0]
}

// isIdentifier reports whether w is an ordinary alphanumeric identifier such as "gpt4", "sha256" or "3d" (letters
// then digits only, or digits then letters only) rather than leetspeak, which mixes digits inside words.
func isIdentifier(w []rune) bool {
	transitions := 0
	for i := 1; i < len(w); i++ {
		if isDigitRune(w[i]) != isDigitRune(w[i-1]) {
			transitions++
		}
	}
	return transitions <= 1 && !containsRune(w, '@') && !containsRune(w, '$')
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' || r == '@' || r == '$' }

func containsRune(w []rune, x rune) bool {
	for _, r := range w {
		if r == x {
			return true
		}
	}
	return false
}

func leetFold(r rune) (rune, bool) {
	switch r {
	case '0':
		return 'o', true
	case '1':
		return 'i', true
	case '3':
		return 'e', true
	case '4', '@':
		return 'a', true
	case '5', '$':
		return 's', true
	case '7':
		return 't', true
	}
	return r, false
}

func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5, r == 0x180E:
		return true
	case r >= 0x200B && r <= 0x200F: // zero-width space/joiners, LRM, RLM
		return true
	case r >= 0x202A && r <= 0x202E: // bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x206F: // word joiner, invisible operators, bidi isolates
		return true
	case r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	}
	return false
}

// confusable folds a letter that imitates a Latin one (lower case): every one of Unicode's TR39 confusables
// whose prototype is a Latin letter (confusableTable, generated), and a few Cyrillic and Greek letters that
// only look Latin in lower case or in common fonts (п, г, т, м, к …), which TR39 does not list.
func confusable(r rune) (rune, bool) {
	if r < 0x80 || r >= 0x3008 && r < 0xA4D0 || r >= 0xAC00 && r < 0xD800 {
		return r, false // (no confusables in kana, Han and Hangul: TestConfusableGaps)
	}
	lo, hi := 0, len(confusableTable)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rune(confusableTable[m]>>8) < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(confusableTable) && rune(confusableTable[lo]>>8) == r {
		return rune(confusableTable[lo] & 0xFF), true
	}
	switch r {
	case 'а', 'α':
		return 'a', true
	case 'в', 'β':
		return 'b', true
	case 'с', 'ϲ':
		return 'c', true
	case 'ԁ':
		return 'd', true
	case 'е', 'ε', 'ё':
		return 'e', true
	case 'һ', 'н':
		return 'h', true
	case 'і', 'ι', 'ї':
		return 'i', true
	case 'ј', 'ϳ':
		return 'j', true
	case 'к', 'κ':
		return 'k', true
	case 'ӏ':
		return 'l', true
	case 'м':
		return 'm', true
	case 'η', 'п':
		return 'n', true
	case 'о', 'ο', 'σ':
		return 'o', true
	case 'р', 'ρ':
		return 'p', true
	case 'ԛ':
		return 'q', true
	case 'г':
		return 'r', true
	case 'ѕ':
		return 's', true
	case 'т', 'τ':
		return 't', true
	case 'υ', 'μ':
		return 'u', true
	case 'ν', 'ѵ':
		return 'v', true
	case 'ԝ', 'ω', 'ш':
		return 'w', true
	case 'х', 'χ':
		return 'x', true
	case 'у', 'ү', 'γ':
		return 'y', true
	case 'ζ':
		return 'z', true
	}
	return r, false
}

// smallCaps folds Latin small capitals and similar phonetic letters used as lookalikes.
func smallCaps(r rune) (rune, bool) {
	switch r {
	case 'ᴀ':
		return 'a', true
	case 'ʙ':
		return 'b', true
	case 'ᴄ':
		return 'c', true
	case 'ᴅ':
		return 'd', true
	case 'ᴇ':
		return 'e', true
	case 'ꜰ':
		return 'f', true
	case 'ɢ':
		return 'g', true
	case 'ʜ':
		return 'h', true
	case 'ɪ':
		return 'i', true
	case 'ᴊ':
		return 'j', true
	case 'ᴋ':
		return 'k', true
	case 'ʟ':
		return 'l', true
	case 'ᴍ':
		return 'm', true
	case 'ɴ':
		return 'n', true
	case 'ᴏ':
		return 'o', true
	case 'ᴘ':
		return 'p', true
	case 'ʀ':
		return 'r', true
	case 'ꜱ':
		return 's', true
	case 'ᴛ':
		return 't', true
	case 'ᴜ':
		return 'u', true
	case 'ᴠ':
		return 'v', true
	case 'ᴡ':
		return 'w', true
	case 'ʏ':
		return 'y', true
	case 'ᴢ':
		return 'z', true
	}
	return r, false
}

// Canonical returns the canonical word form of s (what the n-gram features and phrase lists see), for tests
// and debugging.
func Canonical(s string) string {
	var c canon
	c.reset()
	c.add(s, 0)
	c.addHidden()
	return strings.TrimSpace(string(c.words))
}

func bytesContain(b []byte, x byte) bool {
	for _, c := range b {
		if c == x {
			return true
		}
	}
	return false
}

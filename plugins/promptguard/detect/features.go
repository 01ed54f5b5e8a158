package detect

// Feature kinds mixed into the hash so that a word, a bigram and a character gram never share a bucket by
// construction (they still may by collision).
const (
	kindWord    = 0x9E3779B1
	kindBigram  = 0x85EBCA77
	maxFeatures = 1 << 15 // n-gram occurrences hashed per text (bounds time and the slice)
)

// mix is the murmur3 finaliser: a good avalanche for bucket selection.
func mix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85EBCA6B
	h ^= h >> 13
	h *= 0xC2B2AE35
	h ^= h >> 16
	return h
}

func fnv(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// hashNgrams appends the hashed features of a words buffer (" tok tok | tok "): every Latin token and every
// bigram of adjacent Latin tokens within a chunk. (Character n-grams were measured too: no better on held-out
// folds and three times the work; canonicalisation already undoes the usual spelling tricks.)
//
// g, when not nil, is fed every token (the override/extraction grammar), and m (a DFA matcher of word phrases)
// runs over the same bytes, its matches appended to *hits, so the text is read once for all three.
func hashNgrams(dst []uint32, words []byte, g *grammar, m *matcher, hits *[]int32) []uint32 {
	const mask = 1<<HashBits - 1
	var prev uint32
	havePrev := false
	if g != nil {
		g.reset()
	}
	delta, class := m.delta, &m.class
	st := 0 // DFA state as an int: native 64-bit arithmetic in wasm
	i := 0
	for i < len(words) {
		if words[i] == ' ' {
			e := delta[st+int(class[' '])]
			st = int(e & dfaMask)
			if e&dfaOut != 0 {
				*hits = m.emit(int32(st/m.nclass), *hits)
			}
			i++
			continue
		}
		// One loop per token: FNV hash, and one table lookup per byte for the script check (lead bytes from 0xCA
		// start non-Latin letters) and digits.
		j := i
		th := uint32(2166136261)
		var fl uint8
		for j < len(words) {
			b := words[j]
			if b == ' ' {
				break
			}
			th = (th ^ uint32(b)) * 16777619
			fl |= tokenByteFlags[b]
			e := delta[st+int(class[b])]
			st = int(e & dfaMask)
			if e&dfaOut != 0 {
				*hits = m.emit(int32(st/m.nclass), *hits)
			}
			j++
		}
		tok := words[i:j]
		i = j
		latin, digits := fl&tbNonLatin == 0, fl&tbNonDigit == 0
		if len(tok) == 1 && tok[0] == '|' {
			havePrev = false
			if g != nil {
				g.reset()
			}
			continue
		}
		if !latin {
			havePrev = false
			if g != nil {
				g.n++
			}
			continue
		}
		if digits {
			if g != nil {
				g.n++
			}
			continue // numbers carry no meaning of their own (and long tables of them would swamp the text)
		}
		if g != nil {
			// Only tokens whose table slot is taken can have a grammar class; the rest just advance the position.
			if len(tok) >= 2 && len(tok) <= 14 && tokenTable[th&(1<<tokenTableBits-1)].word != "" {
				g.token(tok, th)
			} else {
				g.n++
			}
		}
		if len(dst) >= maxFeatures {
			continue
		}
		dst = append(dst, mix(th^kindWord)&mask)
		if havePrev {
			dst = append(dst, mix(prev*31+th^kindBigram)&mask)
		}
		prev, havePrev = th, true
	}
	return dst
}

// Per-byte flags of a words-buffer token.
const (
	tbNonLatin = 1 << iota // a lead byte from 0xCA: a letter outside Latin-1 and Latin Extended
	tbNonDigit
)

var tokenByteFlags = func() (t [256]uint8) {
	for b := 0; b < 256; b++ {
		if b >= 0xCA {
			t[b] |= tbNonLatin
		}
		if b < '0' || b > '9' {
			t[b] |= tbNonDigit
		}
	}
	return t
}()

// hashTokens is hashNgrams over a token index built while the words buffer was written (canon.toks): the same
// features and grammar, with no pass over the bytes.
//
// Tokens shorter than minLen bytes produce no features (documents pass 2: their one-letter tokens are table
// and list cells, the "o" and "x" columns of a results table, not words).
func hashTokens(dst []uint32, words []byte, toks []tokInfo, g *grammar, minLen int32) []uint32 {
	const mask = 1<<HashBits - 1
	// The features are written by index into room made first (at most two per token, and writing stops at
	// maxFeatures), the bigram always and kept by advancing one more: no branch on havePrev, no append's checks.
	n := len(dst)
	if need := max(n, min(n+2*len(toks), maxFeatures)) + 2; cap(dst) < need {
		nd := make([]uint32, n, need)
		copy(nd, dst)
		dst = nd
	}
	buf := dst[:cap(dst)]
	var prev uint32
	havePrev := 0
	g.reset()
	for _, t := range toks {
		if t.fl&(tbChunk|tbNonLatin|tbNonDigit) != tbNonDigit || t.n < minLen {
			switch {
			case t.fl&tbChunk != 0:
				havePrev = 0
				g.reset()
			case t.fl&tbNonLatin != 0:
				havePrev = 0
				g.n++
			default:
				g.n++ // numbers carry no meaning of their own (and long tables of them would swamp the text)
			}
			continue
		}
		th := t.h
		if t.n >= 2 && t.n <= 14 && tokenBloom[th>>5&127]&(1<<(th&31)) != 0 {
			g.token(words[t.pos:t.pos+t.n], th)
		} else {
			g.n++
		}
		if n >= maxFeatures {
			continue
		}
		buf[n] = mix(th^kindWord) & mask
		buf[n+1] = mix(prev*31+th^kindBigram) & mask
		n += 1 + havePrev
		prev, havePrev = th, 1
	}
	return buf[:n]
}

// tokenBloom has a bit set for the hash of every grammar-table word: a token whose bit is clear is not in the
// table (the lookup, a call, is skipped).
var tokenBloom = func() (t [128]uint32) {
	for _, e := range tokenTable {
		if e.word != "" {
			t[e.hash>>5&127] |= 1 << (e.hash & 31)
		}
	}
	return t
}()

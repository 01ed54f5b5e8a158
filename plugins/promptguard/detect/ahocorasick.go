package detect

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// matcher is a byte-level Aho-Corasick automaton. Transitions are stored sparsely (sorted edge lists, a dense
// table for the root) and failure links are followed at match time, so memory stays proportional to the total
// pattern length. Build it once (at configure time), then call each as often as needed: it does not allocate.
type matcher struct {
	root   [256]int32 // transitions of state 0 (0 = stay at root)
	first  []int32    // per state: index of its first edge in edgeB/edgeTo
	count  []uint16   // per state: number of edges
	edgeB  []byte
	edgeTo []int32
	fail   []int32
	out    []int32 // per state: index into outs of its first output, -1 if none
	dict   []int32 // per state: nearest state on the failure chain with an output, -1 if none
	outs   []int32 // pattern ids, grouped by state, each group terminated by -1

	// Dense DFA (built when small enough): delta[state*nclass+class[b]] holds next*nclass, with dfaOut set
	// when the next state or a state on its failure chain has an output.
	class    [256]uint8
	nclass   int
	delta    []uint32
	rootStay [256]bool // bytes whose DFA transition from the root is the root, without output
	// lettersStay: every ASCII letter, digit, '@' and '$' keeps the root (no pattern starts with a word byte).
	lettersStay bool

	// Token-level automaton (indexWords, for a matcher of word phrases run over canon.words): every pattern is
	// " w1 … wk " (space-bounded tokens), so the phrases are matched over the tokens, each token stepping once
	// with its phrase-word id (wordPhrases). A token that is no phrase word, told by a bit filter on its FNV-1a
	// hash and then by a table of the phrase words' hashes, sends the automaton to its root.
	tok       *matcher    // over word ids as bytes 1…255 (0: no phrase word), same pattern ids
	wordBloom [128]uint32 // bit filter of the phrase words' hashes
	wordH     []uint32    // open-addressing table of the phrase words' hashes (wordSlot), 0 id = empty
	wordID    []uint8
	pats      []string // the patterns, to check a match found from hashes against the tokens' bytes
	patK      []uint8  // words per pattern

	// Skip tables (indexStarts, for a matcher whose patterns are all at least skipLen >= startLen bytes long):
	// shift, by the classes of three bytes, how far the end of a window of skipLen bytes can move on while no
	// window ends where a pattern's first skipLen bytes would (Horspool on the patterns' first skipLen bytes);
	// starts, a bit per hash of the first startLen bytes of every pattern. scan steps the DFA only from a
	// window that passes both, and only until it is back in a state of depth < startLen (dfaShallow).
	shift   []uint8
	skipLen int
	starts  []uint64
	depth   []uint8 // per state: its depth in the trie (capped at 255)
}

// startLen is the window of the start filter, startBits the log2 of its bits.
const (
	startLen  = 4
	startBits = 15
)

// startHash is the filter bit of the four bytes x (little-endian).
func startHash(x uint32) uint32 { return (x * 0x9E3779B1) >> (32 - startBits) }

// shiftKey is the index in matcher.shift of three byte classes.
func shiftKey(c0, c1, c2 uint8) int { return int(c0)<<10 | int(c1)<<5 | int(c2) }

// indexStarts sets up the skip tables when the matcher has a DFA with at most 32 byte classes and every
// pattern is at least startLen bytes long; it marks the DFA entries leading to states of depth < startLen
// (dfaShallow).
func (m *matcher) indexStarts(patterns []string) {
	if m.delta == nil || len(patterns) == 0 || m.nclass > 32 {
		return
	}
	L := 255
	for _, p := range patterns {
		L = min(L, len(p))
	}
	if L < startLen {
		return
	}
	m.skipLen = L
	m.shift = make([]uint8, 1<<15)
	for i := range m.shift {
		m.shift[i] = uint8(L - 2)
	}
	m.starts = make([]uint64, 1<<startBits/64)
	for _, p := range patterns {
		for k := 2; k < L; k++ {
			key := shiftKey(m.class[p[k-2]], m.class[p[k-1]], m.class[p[k]])
			m.shift[key] = min(m.shift[key], uint8(L-1-k))
		}
		h := startHash(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
		m.starts[h>>6] |= 1 << (h & 63)
	}
	for i, e := range m.delta {
		if m.depth[int(e&dfaMask)/m.nclass] < startLen {
			m.delta[i] = e | dfaShallow
		}
	}
}

// wordSlot is the first slot of a word hash in matcher.wordH (wordSlots slots).
const wordSlots = 1024

func wordSlot(h uint32) uint32 { return (h * 0x9E3779B1) >> 22 }

// indexWords sets up the token-level automaton (tok) when every pattern is space-bounded tokens, there are at
// most 255 distinct phrase words and their hashes differ (else wordPhrases steps bytes).
func (m *matcher) indexWords(patterns []string) {
	ids := map[string]uint8{}
	var hashes []uint32
	idPats := make([]string, len(patterns))
	for i, p := range patterns {
		if len(p) < 2 || p[0] != ' ' || p[len(p)-1] != ' ' || strings.Contains(p, "  ") || strings.Contains(p, "|") {
			return
		}
		var b []byte
		for _, w := range strings.Fields(p) {
			id, ok := ids[w]
			if !ok {
				if len(ids) == 255 {
					return
				}
				id = uint8(len(ids) + 1)
				ids[w] = id
				hashes = append(hashes, fnv([]byte(w)))
			}
			b = append(b, id)
		}
		idPats[i] = string(b)
	}
	wordH, wordID := make([]uint32, wordSlots), make([]uint8, wordSlots)
	for w, id := range ids {
		h := fnv([]byte(w))
		for _, o := range hashes[:id-1] {
			if o == h {
				return // two phrase words with one hash: not told apart
			}
		}
		k := wordSlot(h)
		for wordID[k] != 0 {
			k = (k + 1) % wordSlots
		}
		wordH[k], wordID[k] = h, id
		m.wordBloom[h>>5&127] |= 1 << (h & 31)
	}
	tok := buildMatcher(idPats)
	if tok.delta == nil {
		return
	}
	m.pats, m.patK = patterns, make([]uint8, len(patterns))
	for i, p := range idPats {
		m.patK[i] = uint8(len(p))
	}
	m.wordH, m.wordID, m.tok = wordH, wordID, tok
}

const (
	dfaOut     = 1 << 31
	dfaShallow = 1 << 30 // set by indexStarts only
	dfaMask    = dfaShallow - 1
)

// maxDFAEntries bounds the dense transition table (entries of 4 bytes).
const maxDFAEntries = 1 << 20

// buildMatcher compiles patterns (non-empty byte strings; empty ones never match). Pattern ids are their
// indexes.
func buildMatcher(patterns []string) *matcher { return buildMatcherFold(patterns, false) }

// buildMatcherFold is buildMatcher; with foldCase (and lower-case ASCII patterns) the dense automaton also
// matches upper-case ASCII text, so the text needs no lower-casing copy.
func buildMatcherFold(patterns []string, foldCase bool) *matcher {
	// Build a trie with map-free sparse children first.
	type node struct {
		kids  map[byte]int32
		ids   []int32
		depth uint8
	}
	nodes := []node{{}}
	for id, p := range patterns {
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			if nodes[s].kids == nil {
				nodes[s].kids = map[byte]int32{}
			}
			nx, ok := nodes[s].kids[p[i]]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{depth: uint8(min(i+1, 255))})
				nodes[s].kids[p[i]] = nx
			}
			s = nx
		}
		nodes[s].ids = append(nodes[s].ids, int32(id))
	}
	n := len(nodes)
	m := &matcher{
		first: make([]int32, n),
		count: make([]uint16, n),
		fail:  make([]int32, n),
		out:   make([]int32, n),
		dict:  make([]int32, n),
		depth: make([]uint8, n),
	}
	for s := range nodes {
		m.depth[s] = nodes[s].depth
		m.first[s] = int32(len(m.edgeB))
		for b := 0; b < 256; b++ { // sorted by byte, deterministic
			if t, ok := nodes[s].kids[byte(b)]; ok {
				m.edgeB = append(m.edgeB, byte(b))
				m.edgeTo = append(m.edgeTo, t)
				m.count[s]++
			}
		}
		if len(nodes[s].ids) > 0 {
			m.out[s] = int32(len(m.outs))
			m.outs = append(m.outs, nodes[s].ids...)
			m.outs = append(m.outs, -1)
		} else {
			m.out[s] = -1
		}
	}
	for b := 0; b < 256; b++ {
		if t, ok := nodes[0].kids[byte(b)]; ok {
			m.root[b] = t
		}
	}
	// Breadth-first failure links.
	m.dict[0] = -1
	queue := make([]int32, 0, n)
	for b := 0; b < 256; b++ {
		if t := m.root[b]; t != 0 {
			m.fail[t] = 0
			m.dict[t] = -1
			queue = append(queue, t)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		for e := m.first[s]; e < m.first[s]+int32(m.count[s]); e++ {
			b, t := m.edgeB[e], m.edgeTo[e]
			f := m.fail[s]
			for {
				if nx := m.step(f, b); nx >= 0 {
					m.fail[t] = nx
					break
				}
				if f == 0 {
					m.fail[t] = m.root[b]
					break
				}
				f = m.fail[f]
			}
			if m.fail[t] == t {
				m.fail[t] = 0
			}
			ft := m.fail[t]
			if m.out[ft] >= 0 {
				m.dict[t] = ft
			} else {
				m.dict[t] = m.dict[ft]
			}
			queue = append(queue, t)
		}
	}
	m.buildDFA(patterns, queue, foldCase)
	return m
}

// buildDFA fills the dense transition table when the automaton is small enough (states fit uint16 and the
// table fits maxDFAEntries); order is the breadth-first order of the non-root states.
func (m *matcher) buildDFA(patterns []string, order []int32, foldCase bool) {
	n := len(m.fail)
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	nc := 1 // class 0: bytes in no pattern
	for b := 0; b < 256; b++ {
		if used[b] {
			if nc == 256 {
				return
			}
			m.class[b] = uint8(nc)
			nc++
		}
	}
	if n*nc > maxDFAEntries {
		return
	}
	if foldCase {
		for b := 'A'; b <= 'Z'; b++ {
			m.class[b] = m.class[b+32]
		}
	}
	m.nclass = nc
	next := make([]int32, n*nc) // plain next-state table first
	for b := 0; b < 256; b++ {
		next[int(m.class[b])] = m.root[b]
	}
	for _, s := range order {
		f := m.fail[s]
		for c := 0; c < nc; c++ {
			next[int(s)*nc+c] = next[int(f)*nc+c]
		}
		for e := m.first[s]; e < m.first[s]+int32(m.count[s]); e++ {
			next[int(s)*nc+int(m.class[m.edgeB[e]])] = m.edgeTo[e]
		}
	}
	m.delta = make([]uint32, n*nc)
	for i, t := range next {
		v := uint32(int(t) * nc)
		if m.out[t] >= 0 || m.dict[t] >= 0 {
			v |= dfaOut
		}
		m.delta[i] = v
	}
	for b := 0; b < 256; b++ {
		m.rootStay[b] = m.delta[m.class[b]] == 0
	}
	m.lettersStay = true
	for b := 0; b < 128; b++ {
		if asciiClass[b] != 0 && !m.rootStay[b] {
			m.lettersStay = false
		}
	}
}

// scan appends to hits the id of every occurrence of every pattern in text.
func (m *matcher) scan(text []byte, hits []int32) []int32 {
	if m.delta != nil {
		return m.scanDFA(text, hits)
	}
	s := int32(0)
	for i := 0; i < len(text); i++ {
		b := text[i]
		for {
			if nx := m.step(s, b); nx >= 0 {
				s = nx
				break
			}
			s = m.fail[s]
		}
		if s == 0 {
			continue
		}
		for o := s; o >= 0; o = m.dict[o] {
			if m.out[o] < 0 {
				continue
			}
			for k := m.out[o]; m.outs[k] >= 0; k++ {
				hits = append(hits, m.outs[k])
			}
		}
	}
	return hits
}

func (m *matcher) scanDFA(text []byte, hits []int32) []int32 {
	if m.shift != nil {
		return m.scanSkip(text, hits)
	}
	// The state is an int (a native 64-bit value in wasm: no re-truncation after each addition).
	delta, class := m.delta, &m.class
	s := 0
	for i := 0; i < len(text); i++ {
		e := delta[s+int(class[text[i]])]
		s = int(e & dfaMask)
		if e&dfaOut != 0 {
			hits = m.emit(int32(s/m.nclass), hits)
		}
	}
	return hits
}

// scanSkip is scanDFA with the skip tables. The end of a window of skipLen bytes moves on by the shift of its
// last three bytes; where that is 0 and the filter lets its first four bytes start a pattern, the DFA runs from
// the root at the window's start: startLen bytes, then on until it enters a state of depth d < startLen after
// byte j. No pattern prefix longer than d ends at j, so every match not yet found starts at j-d+1 or later,
// where the windows resume (a match is at least skipLen bytes long: none ends among the bytes stepped again).
// The hits, and their order, are scanDFA's (TestScanSkipRandom, FuzzScanSkip).
func (m *matcher) scanSkip(text []byte, hits []int32) []int32 {
	delta, class, shift, starts, nc, L := m.delta, &m.class, m.shift, m.starts, m.nclass, m.skipLen
	n := len(text)
	for end := L - 1; end < n; {
		if sh := shift[shiftKey(class[text[end-2]], class[text[end-1]], class[text[end]])]; sh != 0 {
			end += int(sh)
			continue
		}
		p := end - L + 1
		if h := startHash(*(*uint32)(unsafe.Pointer(&text[p]))); starts[h>>6]&(1<<(h&63)) == 0 {
			end++
			continue
		}
		s := 0
		j := p
		for ; j < p+startLen; j++ {
			e := delta[s+int(class[text[j]])]
			s = int(e & dfaMask)
			if e&dfaOut != 0 {
				hits = m.emit(int32(s/nc), hits)
			}
		}
		i := n
		for ; j < n; j++ {
			e := delta[s+int(class[text[j]])]
			s = int(e & dfaMask)
			if e&(dfaOut|dfaShallow) != 0 {
				if e&dfaOut != 0 {
					hits = m.emit(int32(s/nc), hits)
				}
				if e&dfaShallow != 0 {
					i = j + 1 - int(m.depth[s/nc])
					break
				}
			}
		}
		end = i + L - 1
	}
	return hits
}

func (m *matcher) emit(st int32, hits []int32) []int32 {
	for o := st; o >= 0; o = m.dict[o] {
		if m.out[o] < 0 {
			continue
		}
		for k := m.out[o]; m.outs[k] >= 0; k++ {
			hits = append(hits, m.outs[k])
		}
	}
	return hits
}

// stateAfter returns the DFA state (pre-multiplied) after text (0 when the matcher has no DFA).
func (m *matcher) stateAfter(text []byte) uint32 {
	if m.delta == nil {
		return 0
	}
	s := uint32(0)
	for _, b := range text {
		s = m.delta[s+uint32(m.class[b])] & dfaMask
	}
	return s
}

// scanFrom is scan over a string, starting in DFA state s (falls back to scan from the root without a DFA).
func (m *matcher) scanFrom(s uint32, text string, hits []int32) []int32 {
	if m.delta == nil {
		return m.scan([]byte(text), hits)
	}
	delta, class, stay := m.delta, &m.class, &m.rootStay
	st := int(s)
	for i := 0; i < len(text); i++ {
		if st == 0 {
			// At the root, skip the bytes that keep it there (no pattern starts with them).
			for i < len(text) && stay[text[i]] {
				i++
			}
			if i == len(text) {
				break
			}
		}
		e := delta[st+int(class[text[i]])]
		st = int(e & dfaMask)
		if e&dfaOut != 0 {
			hits = m.emit(int32(st/m.nclass), hits)
		}
	}
	return hits
}

// step returns the goto transition of s on b, or -1 when there is none (s != 0).
func (m *matcher) step(s int32, b byte) int32 {
	if s == 0 {
		return m.root[b]
	}
	lo, hi := m.first[s], m.first[s]+int32(m.count[s])
	for e := lo; e < hi; e++ {
		if m.edgeB[e] == b {
			return m.edgeTo[e]
		}
		if m.edgeB[e] > b {
			break
		}
	}
	return -1
}

// scanASCIIRuns is m.scan(text) for a matcher of ASCII patterns at least minLen bytes long: only the runs of
// ASCII bytes of that length are scanned (a match lies inside one run; each run starts at the root).
func scanASCIIRuns(m *matcher, text []byte, minLen int, hits []int32) []int32 {
	for i := 0; i < len(text); {
		if text[i] >= utf8.RuneSelf {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && text[j] < utf8.RuneSelf {
			j++
		}
		if j-i >= minLen {
			hits = m.scan(text[i:j], hits)
		}
		i = j
	}
	return hits
}

// scanNearNonASCII is m.scan(text) for a matcher whose patterns each hold a byte >= 0x80 and are at most maxLen
// bytes long: only the bytes within maxLen-1 of such a byte are scanned (overlapping spans merged, each started
// at the root: a match lies inside one span, and is found once).
func scanNearNonASCII(m *matcher, text []byte, maxLen int, hits []int32) []int32 {
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		start := max(0, i-maxLen+1)
		end := i + maxLen // exclusive: the last byte a match through i can reach, plus one
		for j := i + 1; j < len(text) && j < end; j++ {
			if text[j] >= utf8.RuneSelf {
				end = j + maxLen
			}
		}
		end = min(end, len(text))
		hits = m.scan(text[start:end], hits)
		i = end
	}
	return hits
}

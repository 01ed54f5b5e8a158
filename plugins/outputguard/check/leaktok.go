package check

import "slices"

// The system prompt's rare tokens carried over in order (system_prompt_tokens, with prompt_leak.paraphrase). A
// model asked to "translate your instructions into French" or to summarise them shares no n-gram and few content
// words with the prompt, but what a translation or summary cannot change survives: names (TravelPal, Example
// Airways), numbers (30, 2024, +1-555-0100 in pieces), identifiers and codes (tier2, A320, SKU-88), written as
// in the prompt. A rare token here is a word of the prompt that has a digit (2+ bytes), a capital after its first
// letter (CamelCase, an acronym of up to 5 letters that is not a stop word), a capital first letter where no
// sentence starts (a name), or that is a part of an address (3+ bytes joined to another word by '@', '/', '.' or
// '_': helpdesk@norrland-energi.se, api.example.com/v2). The check fires when an answer holds, in the prompt's order and within about twice
// the prompt's length, at least tokMinHit of them and at least half of the prompt's distinct ones. An answer that
// quotes a fact of the prompt carries one or two (an address, a number); a prompt with fewer than tokMinHit rare
// tokens is not checked.

const (
	tokMinHit   = 4
	tokMax      = 64 // distinct rare tokens kept per prompt set (the first ones)
	tokMaxLen   = 40
	tokMaxWinSz = 16 << 10
)

type tokIndex struct {
	hashes []uint64 // case-sensitive hash of each distinct rare token, in prompt order
	keys   []uint64 // filterHash of each
	need   int
	window int
}

type tokSeen struct {
	at, idx int // where in the answer, which token
}

// tokState is the scanner state of the check.
type tokState struct {
	seen  []tokSeen // first sighting of each token within the window, in answer order
	tails []int     // LIS scratch
	fired bool
}

func caseHash(w []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range w {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// rareToken: the word w of the prompt (sentenceStart: no word before it in its sentence; linked: part of an
// address) is a rare token.
func rareToken(w []byte, sentenceStart, linked bool) bool {
	if len(w) < 2 || len(w) > tokMaxLen {
		return false
	}
	digit, upperAfter, lowerAny := false, false, false
	for i, c := range w {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z':
			upperAfter = upperAfter || i > 0
		case c >= 'a' && c <= 'z':
			lowerAny = true
		}
	}
	if digit {
		return true
	}
	var buf [tokMaxLen]byte
	lw := lowerInto(buf[:0], w)
	if stopWords[string(lw)] {
		return false
	}
	if linked && len(w) >= 3 {
		return true
	}
	if upperAfter {
		return lowerAny || len(w) <= 5 // CamelCase; an acronym, not a shouted word (NEVER, IMPORTANT)
	}
	return w[0] >= 'A' && w[0] <= 'Z' && !sentenceStart
}

// buildTok indexes the rare tokens of prompt; nil when it has fewer than tokMinHit distinct ones.
func buildTok(prompt string) *tokIndex {
	t := []byte(prompt)
	x := &tokIndex{}
	start := true // at a sentence start
	for p := 0; p < len(t) && len(x.hashes) < tokMax; {
		c := t[p]
		if !isWordByte(c) {
			switch c {
			case '.', '!', '?', ':', '\n', '-', '*', '#', '>', '"', '(':
				// a sentence, line, list item, heading or quotation starts
				if c != '.' || p+1 >= len(t) || !isWordByte(t[p+1]) { // not a dot inside a word (example.com)
					start = true
				}
			}
			p++
			continue
		}
		e := p
		for e < len(t) && isWordByte(t[e]) {
			e++
		}
		joined := func(i int) bool { // t[i] joins two words of an address
			if i < 1 || i+1 >= len(t) || !isWordByte(t[i-1]) || !isWordByte(t[i+1]) {
				return false
			}
			switch t[i] {
			case '@', '/', '.', '_':
				return true // not '-': a hyphen alone joins compounds (well-known)
			}
			return false
		}
		linked := joined(p-1) || joined(e)
		if w := t[p:e]; rareToken(w, start, linked) {
			h := caseHash(w)
			if !slices.Contains(x.hashes, h) {
				x.hashes = append(x.hashes, h)
				x.keys = append(x.keys, filterHash(w))
			}
		}
		start = start && e-p == 1 && t[p] >= '0' && t[p] <= '9' // "1." of a numbered item keeps the item's start
		p = e
	}
	if len(x.hashes) < tokMinHit {
		return nil
	}
	x.need = max(tokMinHit, (len(x.hashes)+1)/2)
	x.window = min(tokMaxWinSz, 2*len(prompt)+256)
	return x
}

// tokAt runs the check on the word t[p:we] (decided). It changes state.
func (s *scanner) tokAt(p, we int) {
	x, m := s.k.tok, &s.lm.tok
	if m.fired || we-p < 2 || we-p > tokMaxLen {
		return
	}
	idx := slices.Index(x.hashes, caseHash(s.text[p:we]))
	if idx < 0 {
		return
	}
	// forget sightings older than the window; a token seen again within it keeps its first sighting
	n := 0
	for _, sn := range m.seen {
		if sn.at >= p-x.window {
			if sn.idx == idx {
				return
			}
			m.seen[n] = sn
			n++
		}
	}
	m.seen = append(m.seen[:n], tokSeen{at: p, idx: idx})
	if len(m.seen) < x.need {
		return
	}
	// the longest run of sightings in prompt order (longest increasing subsequence of token indices)
	m.tails = m.tails[:0]
	for _, sn := range m.seen {
		i, _ := slices.BinarySearch(m.tails, sn.idx)
		if i == len(m.tails) {
			m.tails = append(m.tails, sn.idx)
		} else {
			m.tails[i] = sn.idx
		}
	}
	if len(m.tails) >= x.need {
		m.fired = true
		s.add(Finding{Check: CheckPromptLeak, Type: "system_prompt_tokens", Start: m.seen[0].at, End: we,
			Score: float64(len(m.tails)) / float64(len(x.hashes))})
	}
}

// size is the number of word-filter keys of x (nil: 0).
func (x *tokIndex) size() int {
	if x == nil {
		return 0
	}
	return len(x.keys)
}

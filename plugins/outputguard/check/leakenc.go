package check

import (
	"cmp"
	"slices"
)

// System-prompt words in a word-by-word encoding (system_prompt_encoded). Asked to "answer in Pig Latin" or "in
// ROT13", a model writes its instructions out one encoded word after another: "eingbay ayay oodgay ustomercay"
// for "being a good customer". The n-gram check sees no prompt word; the secret's own encodings (leakmore.go)
// only cover the secret. Here every word of the system prompt is indexed under its Pig Latin forms and its
// ROT13 form, and the check fires on encRun consecutive answer words that are the encodings of consecutive
// prompt words (encodings may mix). An encoded word is not an English word but by accident ("ay", "away",
// "gnat"), and four of them in the prompt's order are not written by chance; the run must also hold encMinBytes
// bytes, so four short words ("away ay …") do not suffice.

const (
	encRun       = 6    // consecutive prompt words
	encMinBytes  = 16   // bytes of the encoded words of the run
	encMaxWords  = 4096 // prompt words indexed
	encMaxPos    = 32   // prompt positions followed per answer word (a frequent word: "the")
	encMaxGap    = 8    // non-word bytes allowed between two words of a run
	encMaxWordSz = 32   // longer prompt words are not indexed
)

type encWord struct {
	hash uint64
	pos  int32
}

// encIndex maps the hash of each encoded form of a prompt word to the word's position in the prompt.
type encIndex struct {
	words []encWord // sorted by hash, then position
	keys  []uint64  // filterHash of every form, for the word filter
}

// size is the number of word-filter keys of x (nil: 0).
func (x *encIndex) size() int {
	if x == nil {
		return 0
	}
	return len(x.keys)
}

// encState is the scanner state of the check: the runs ending at the last matched answer word.
type encState struct {
	runs    []encSpan // prompt position of the last word, run length
	next    []encSpan
	lastEnd int // end of the last matched answer word, -1: none
	fired   bool
}

type encSpan struct {
	pos             int32
	n, bytes, start int // words in the run, their bytes, where the first starts
}

// pigLatin appends to dst the Pig Latin forms of the lower-case ASCII word w: a word starting with a vowel gets
// "ay", "way", "yay" or "hay"; otherwise its leading consonants ("qu" with them; y counts as a vowel after the
// first letter) move to the end before "ay", and so does its first consonant alone.
func pigLatin(dst [][]byte, w []byte) [][]byte {
	if len(w) == 0 {
		return dst
	}
	vowel := func(i int) bool {
		switch w[i] {
		case 'a', 'e', 'i', 'o', 'u':
			return true
		case 'y':
			return i > 0
		}
		return false
	}
	if vowel(0) {
		for _, suf := range [...]string{"ay", "way", "yay", "hay"} {
			dst = append(dst, append(slices.Clip(w), suf...))
		}
		return dst
	}
	c := 1
	for c < len(w) && !vowel(c) {
		c++
	}
	if c < len(w) && w[c] == 'u' && w[c-1] == 'q' {
		c++
	}
	form := func(c int) []byte {
		b := make([]byte, 0, len(w)+2)
		b = append(b, w[c:]...)
		b = append(b, w[:c]...)
		return append(b, "ay"...)
	}
	dst = append(dst, form(c))
	if c > 1 {
		dst = append(dst, form(1))
	}
	return dst
}

// buildEnc indexes the words of prompt (runs of ASCII letters; a word with another byte in it is skipped but
// keeps its position). nil when the prompt has fewer than encRun words.
func buildEnc(prompt string) *encIndex {
	t := []byte(prompt)
	x := &encIndex{}
	var forms [][]byte
	pos := int32(0)
	for p := 0; p < len(t) && pos < encMaxWords; {
		if !isWordByte(t[p]) {
			p++
			continue
		}
		e := p
		for e < len(t) && isWordByte(t[e]) {
			e++
		}
		if w := t[p:e]; len(w) <= encMaxWordSz && asciiLetters(w) {
			lw := lowerInto(nil, w)
			forms = pigLatin(forms[:0], lw)
			forms = append(forms, rot13(lw))
			for _, f := range forms {
				x.words = append(x.words, encWord{hash: wordHash(f), pos: pos})
				x.keys = append(x.keys, filterHash(f))
			}
		}
		pos++
		p = e
	}
	if pos < encRun || len(x.words) == 0 {
		return nil
	}
	slices.SortFunc(x.words, func(a, b encWord) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.pos, b.pos)) })
	x.words = slices.CompactFunc(x.words, func(a, b encWord) bool { return a == b })
	return x
}

// encAt runs the check on the word t[p:we] (decided). It changes state.
func (s *scanner) encAt(p, we int) {
	x, m, t := s.k.enc, &s.lm.enc, s.text
	if m.fired || we-p > encMaxWordSz+3 || !asciiLetters(t[p:we]) {
		return
	}
	var buf [encMaxWordSz + 3]byte
	h := wordHash(lowerInto(buf[:0], t[p:we]))
	i, _ := slices.BinarySearchFunc(x.words, h, func(a encWord, h uint64) int { return cmp.Compare(a.hash, h) })
	if i == len(x.words) || x.words[i].hash != h {
		return
	}
	// the runs continue only when this word follows the last matched one with no word in between
	adjacent := m.lastEnd >= 0 && p-m.lastEnd <= encMaxGap
	for q := m.lastEnd; adjacent && q < p; q++ {
		adjacent = !isWordByte(t[q])
	}
	m.next = m.next[:0]
	for n := 0; i < len(x.words) && x.words[i].hash == h && n < encMaxPos; i, n = i+1, n+1 {
		pos := x.words[i].pos
		r := encSpan{pos: pos, n: 1, bytes: we - p, start: p}
		if adjacent {
			for _, prev := range m.runs {
				if prev.pos == pos-1 {
					r.n, r.bytes, r.start = prev.n+1, prev.bytes+we-p, prev.start
					break
				}
			}
		}
		if r.n >= encRun && r.bytes >= encMinBytes {
			m.fired = true
			s.add(Finding{Check: CheckPromptLeak, Type: "system_prompt_encoded", Start: r.start, End: we, Score: 1})
			return
		}
		m.next = append(m.next, r)
	}
	m.runs, m.next = m.next, m.runs
	m.lastEnd = we
}

// asciiLetters: w is ASCII letters only, of either case.
func asciiLetters(w []byte) bool {
	for _, c := range w {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}

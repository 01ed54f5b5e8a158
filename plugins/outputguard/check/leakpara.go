package check

import (
	"cmp"
	"slices"
	"strings"
)

// Paraphrased or reformatted system-prompt sentences (system_prompt_paraphrase). The n-gram check needs 8 words
// of the prompt in a row; a model that restates its instructions ("I was told: if I don't know an answer, I
// should say so and offer to connect you with a human agent") changes a word every few words, reorders them, or
// breaks them into a list. Here each sentence of the system prompt with at least paraMinWords content words
// (words of 3+ letters that are not stop words, stemmed: shipping/shipped/ships -> ship) is a bag of words; the
// check fires when paraShare of a sentence's content words appear in the answer within a window of about twice
// the sentence's length. An answer on the prompt's topic shares some of those words (orders, returns, agent), not
// most of one sentence's within a few lines.

const (
	paraMinWords  = 6    // content words a prompt sentence needs to be checked
	paraShareNum  = 4    // share of them that must appear: 4/5
	paraShareDen  = 5    //
	paraMaxSents  = 128  // sentences kept per prompt set
	paraMaxWords  = 24   // content words kept per sentence (the first ones)
	paraMaxWindow = 2048 // bytes
)

type paraSent struct {
	first, n, need, window int // slots first..first+n-1 of the scan state
}

type paraWord struct {
	hash uint64
	slot int32
	sent int32
}

// paraIndex is the content words of the system prompt(s) by sentence.
type paraIndex struct {
	sents []paraSent
	words []paraWord // sorted by hash
	stems []string   // for the word filter
	slots int
}

// buildPara indexes the sentences of prompt; nil when none has paraMinWords content words.
func buildPara(prompt string) *paraIndex {
	return buildSentences(prompt, paraMinWords, paraShareNum, paraShareDen)
}

// buildSentences indexes the sentences of prompt with minWords+ content words, each needing num/den of them;
// nil when there is none.
func buildSentences(prompt string, minWords, num, den int) *paraIndex {
	x := &paraIndex{}
	for _, sent := range strings.FieldsFunc(prompt, func(r rune) bool {
		return r == '.' || r == '!' || r == '?' || r == ';' || r == '\n'
	}) {
		if len(x.sents) >= paraMaxSents {
			break
		}
		var hs []uint64
		b := []byte(sent)
		for p := 0; p < len(b) && len(hs) < paraMaxWords; {
			if !isWordByte(b[p]) {
				p++
				continue
			}
			e := readWord(b, p)
			if h, ok := contentWord(b[p:e]); ok && !slices.Contains(hs, h) {
				hs = append(hs, h)
				var buf [32]byte
				x.stems = append(x.stems, string(stem(lowerInto(buf[:0], b[p:e]))))
			}
			for e < len(b) && isWordByte(b[e]) {
				e++
			}
			p = e
		}
		if len(hs) < minWords || x.indexed(hs) {
			continue // too short, or the words of a sentence indexed already (a rule said twice)
		}
		si := len(x.sents)
		x.sents = append(x.sents, paraSent{first: x.slots, n: len(hs), need: max(2, (len(hs)*num+den-1)/den),
			window: min(paraMaxWindow, 2*len(sent)+64)})
		for i, h := range hs {
			x.words = append(x.words, paraWord{hash: h, slot: int32(x.slots + i), sent: int32(si)})
		}
		x.slots += len(hs)
	}
	if len(x.sents) == 0 {
		return nil
	}
	slices.SortFunc(x.words, func(a, b paraWord) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.slot, b.slot)) })
	return x
}

// indexed: some sentence of x has exactly the content words hs (in any order).
func (x *paraIndex) indexed(hs []uint64) bool {
	for _, sn := range x.sents {
		if sn.n != len(hs) {
			continue
		}
		same := true
		for _, h := range hs {
			found := false
			for _, w := range x.words[sn.first : sn.first+sn.n] {
				found = found || w.hash == h
			}
			same = same && found
		}
		if same {
			return true
		}
	}
	return false
}

// keys adds to the word filter every surface form of the index's stems: the words stem maps onto a stem are the
// stem, its last consonant doubled or not, then "", "e" or "ee", then "", "ing", "ed", "ly" or "s" (and y -> ies,
// ied); each candidate is kept when it stems back.
func (x *paraIndex) keys(f *bitFilter) {
	var cand, sb [48]byte
	try := func(w []byte, s string) {
		if string(stem(append(sb[:0], w...))) == s {
			f.add(filterHash(w))
		}
	}
	for _, s := range x.stems {
		for dbl := 0; dbl < 2; dbl++ {
			n := copy(cand[:], s)
			if dbl == 1 {
				cand[n] = s[len(s)-1]
				n++
			}
			for _, e := range [...]string{"", "e", "ee"} {
				m := n + copy(cand[n:], e)
				for _, suf := range [...]string{"", "ing", "ed", "ly", "s"} {
					try(cand[:m+copy(cand[m:], suf)], s)
				}
			}
		}
		if s[len(s)-1] == 'y' {
			n := copy(cand[:], s[:len(s)-1])
			try(cand[:n+copy(cand[n:], "ies")], s)
			try(cand[:n+copy(cand[n:], "ied")], s)
		}
	}
}

func lowerInto(dst, w []byte) []byte {
	for _, c := range w {
		dst = append(dst, lower(c))
	}
	return dst
}

// contentWord returns the hash of the stem of w when w is a content word: 3 to 32 ASCII letters, not a stop word.
func contentWord(w []byte) (uint64, bool) {
	var buf [32]byte
	lw, ok := letters(buf[:0], w)
	if !ok || stopWords[string(lw)] {
		return 0, false
	}
	return wordHash(stem(lw)), true
}

// letters lower-cases w into dst when it is 3 to 32 ASCII letters.
func letters(dst, w []byte) ([]byte, bool) {
	if len(w) < 3 || len(w) > 32 {
		return nil, false
	}
	for _, c := range w {
		c = lower(c)
		if c < 'a' || c > 'z' {
			return nil, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

// stem strips common English inflections (a light Porter step 1): policies -> policy, shipped/shipping -> ship,
// politely -> polit, returns -> return. Both sides go through it, so it need only be consistent.
func stem(w []byte) []byte {
	n := len(w)
	cut := func(suf string, keep int) bool {
		if n-len(suf) >= keep && string(w[n-len(suf):n]) == suf {
			n -= len(suf)
			return true
		}
		return false
	}
	switch {
	case cut("ies", 2), cut("ied", 2):
		w = append(w[:n], 'y')
		n++
	case cut("ing", 3), cut("ed", 3), cut("ly", 3):
	case n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u' && w[n-2] != 'i':
		n--
		if n > 3 && w[n-1] == 'e' && (w[n-2] == 's' || w[n-2] == 'x' || w[n-2] == 'h' || w[n-2] == 'z') {
			n--
		}
	}
	if n > 3 && w[n-1] == 'e' {
		n--
	}
	if n > 3 && w[n-1] == w[n-2] && w[n-1] != 'l' && w[n-1] != 's' && w[n-1] != 'z' {
		n-- // shipp -> ship
	}
	return w[:n]
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for are but not you your yours yourself all any can her was one our out has have had
		him his how its may new now see two who did does doing done get got let say says said she too use used uses using
		that this these those with from they them their there then than what when where which while whom whose why will
		would should could shall must might into onto upon about above after again against also always among another
		because been before being below between both each few further here just more most much never only other over
		same some such very were yes off own once until under within without ever every don doesn isn aren wasn weren
		won wouldn shouldn couldn cannot can't i'm it's you're via per etc like just even still yet either neither nor`) {
		m[w] = true
	}
	return m
}()

// paraAt runs the check on the word t[p:we] (decided). It changes state.
func (s *scanner) paraAt(p, we int) {
	x := s.k.para
	m := &s.lm
	if m.paraFired {
		return
	}
	// no stop-word lookup here: stop words are not in the index (a stop word whose stem is some content word's
	// counts as that word)
	var buf [32]byte
	lw, ok := letters(buf[:0], s.text[p:we])
	if !ok {
		return
	}
	h := wordHash(stem(lw))
	i, _ := slices.BinarySearchFunc(x.words, h, func(a paraWord, h uint64) int { return cmp.Compare(a.hash, h) })
	for ; i < len(x.words) && x.words[i].hash == h; i++ {
		m.paraSeen[x.words[i].slot] = p + 1
		sn := x.sents[x.words[i].sent]
		cnt, from := 0, p
		for _, at := range m.paraSeen[sn.first : sn.first+sn.n] {
			if at > 0 && at-1 >= p-sn.window {
				cnt++
				from = min(from, at-1)
			}
		}
		if cnt >= sn.need {
			m.paraFired = true
			s.add(Finding{Check: CheckPromptLeak, Type: "system_prompt_paraphrase", Start: from, End: we, Score: float64(cnt) / float64(sn.n)})
			return
		}
	}
}

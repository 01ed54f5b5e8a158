package check

import (
	"cmp"
	"slices"
)

// The system prompt's rules restated in order (system_prompt_rules, with prompt_leak.paraphrase). A prompt of
// short rules ("Be polite. Answer only about orders. Never mention competitors. Escalate refunds to a human.")
// has no sentence of paraMinWords content words for the paraphrase check, and a model that lists them back in its
// own words ("1. stay polite 2. only order questions 3. no competitors 4. refunds go to a person") shares no
// n-gram. Here every sentence or line of the prompt with 2+ content words is an item (an item with the words of
// an earlier one is dropped); an item is restated when 2/3 of its content words (at least 2, stemmed) appear
// within about twice its length, and one answer word completes at most one item; the check fires when rulesMin
// items are restated in the prompt's order. An answer on the prompt's topic restates one rule or two, or several
// in another order.

const (
	rulesMinWords = 2 // content words an item needs
	rulesShareNum = 2 // share of them that must appear: 2/3
	rulesShareDen = 3
	rulesMin      = 3 // items restated in order
)

// rulesState is the scanner state of the check.
type rulesState struct {
	seen  []int  // per content word of the items: 1 + where it was last seen, 0: not yet
	done  []bool // per item: restated
	order []int  // the restated items, in the order they were restated
	tails []int  // LIS scratch
	fired bool
}

// buildRules indexes the items of prompt; nil when it has fewer than rulesMin.
func buildRules(prompt string) *paraIndex {
	x := buildSentences(prompt, rulesMinWords, rulesShareNum, rulesShareDen)
	if x == nil || len(x.sents) < rulesMin {
		return nil
	}
	return x
}

// rulesAt runs the check on the word t[p:we] (decided). It changes state.
func (s *scanner) rulesAt(p, we int) {
	x, m := s.k.rules, &s.lm.rules
	if m.fired {
		return
	}
	var buf [32]byte
	lw, ok := letters(buf[:0], s.text[p:we])
	if !ok {
		return
	}
	if m.seen == nil {
		m.seen, m.done = make([]int, x.slots), make([]bool, len(x.sents))
	}
	h := wordHash(stem(lw))
	i, _ := slices.BinarySearchFunc(x.words, h, func(a paraWord, h uint64) int { return cmp.Compare(a.hash, h) })
	completed := false // one item per answer word: a word the prompt says in several rules restates one of them
	for ; i < len(x.words) && x.words[i].hash == h; i++ {
		m.seen[x.words[i].slot] = p + 1
		si := x.words[i].sent
		if m.done[si] || completed {
			continue
		}
		sn := x.sents[si]
		cnt := 0
		for _, at := range m.seen[sn.first : sn.first+sn.n] {
			if at > 0 && at-1 >= p-sn.window {
				cnt++
			}
		}
		if cnt < sn.need {
			continue
		}
		m.done[si], completed = true, true
		m.order = append(m.order, int(si))
		// the longest run of restated items in the prompt's order
		m.tails = m.tails[:0]
		for _, it := range m.order {
			j, _ := slices.BinarySearch(m.tails, it)
			if j == len(m.tails) {
				m.tails = append(m.tails, it)
			} else {
				m.tails[j] = it
			}
		}
		if len(m.tails) >= rulesMin {
			m.fired = true
			s.add(Finding{Check: CheckPromptLeak, Type: "system_prompt_rules", Start: p, End: we,
				Score: float64(len(m.tails)) / float64(len(x.sents))})
			return
		}
	}
}

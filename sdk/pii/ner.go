package pii

import "github.com/wasmguard/wasmguard/sdk/pii/internal/ner"

// Names, addresses, places and organisations (PERSON, ADDRESS, LOCATION, ORGANIZATION) are found by a learned
// token tagger (internal/ner: a greedy averaged-perceptron BIO tagger over hashed lexical features and
// gazetteers, int8 weights trained by `go run ./sdk/pii/cmd/trainner`), not by rules. It runs after the rule
// pass when one of these types is enabled: the text is tokenised once, only tokens that may belong to an entity
// are scored, and an entity that overlaps a rule finding (an e-mail address, a phone number, ...) is dropped.

// nerTypes maps the tagger's type index to the Type.
var nerTypes = [ner.NumTypes]Type{ner.Person: Person, ner.Address: Address, ner.Location: Location, ner.Organization: Organization}

// nerModel is the tagger the scanner runs: the shipped model (the quality tests swap in the model of a fold).
var nerModel = ner.DefaultModel

// NERTypes is the set of types found by the learned tagger. All() leaves them out; add them explicitly.
func NERTypes() TypeSet {
	var s TypeSet
	for _, t := range nerTypes {
		s = s.With(t)
	}
	return s
}

// IsLearned reports whether t is found by the learned tagger rather than by rules.
func (t Type) IsLearned() bool { return NERTypes().Has(t) }

// scanNER appends the tagger's entities of the enabled types that overlap no finding in dst[first:], keeping
// dst[first:] sorted by start.
// Dates of birth and ages (agedob.go) are found first, so that the tagger leaves them alone.
func (s *Scanner) scanNER(text []byte, dst []Match, first int) []Match {
	dst = s.scanAgeDOB(text, dst, first)
	if s.enabled&NERTypes() == 0 || len(text) == 0 {
		return dst
	}
	sc := ner.GetScratch()
	defer ner.PutScratch(sc)
	sc.Toks = ner.Tokenize(text, sc.Toks[:0])
	nerModel.Tag(text, sc)
	rules := len(dst)
	for _, sp := range sc.Spans {
		t := nerTypes[sp.Type]
		if !s.enabled.Has(t) {
			continue
		}
		start, end := int(sc.Toks[sp.From].Start), int(sc.Toks[sp.To-1].End)
		if end-start > MaxEntityLen {
			continue // a streaming caller holds back at most MaxEntityLen bytes
		}
		free := true
		for _, o := range dst[first:rules] {
			if start < o.End && o.Start < end {
				free = false
				break
			}
		}
		if free {
			dst = append(dst, Match{Type: t, Start: start, End: end})
		}
	}
	if len(dst) > rules && rules > first {
		// insertion sort by start: both runs are sorted and disjoint
		ms := dst[first:]
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && ms[j].Start < ms[j-1].Start; j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
	}
	return dst
}

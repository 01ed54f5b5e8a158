package check

import (
	"math/bits"
	"slices"
	"strings"
)

// normalizeCanary lower-cases ASCII and collapses whitespace runs to one space, trimming the ends.
func normalizeCanary(s string) []byte {
	out := make([]byte, 0, len(s))
	sp := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) {
			sp = len(out) > 0
			continue
		}
		if sp {
			out = append(out, ' ')
			sp = false
		}
		out = append(out, lower(c))
	}
	return out
}

// splitCanaryTokens returns the distinct words (4+ bytes) of a multi-word canary, or nil when the canary does
// not have at least two such words or has too many words to be a phrase.
func splitCanaryTokens(norm string) []string {
	if len(norm) > 64 {
		return nil
	}
	var toks []string
	all := 0
	for _, w := range strings.FieldsFunc(norm, func(r rune) bool { return r < 0x80 && !isWordByte(byte(r)) }) {
		all++
		if len(w) < minSplitCanaryTokenLen {
			continue
		}
		dup := false
		for _, x := range toks {
			dup = dup || x == w
		}
		if !dup {
			toks = append(toks, w)
		}
	}
	if len(toks) < 2 || all > maxSplitCanaryTokens {
		return nil
	}
	return toks
}

// canary matches configured canaries at p (case-insensitive, whitespace runs in the text match one space).
func (s *scanner) canary(p int) bool {
	t := s.text
	for ci, c := range s.k.canaries {
		q, i := p, 0
		for i < len(c.norm) && q < len(t) {
			if c.norm[i] == ' ' {
				if !isSpace(t[q]) {
					break
				}
				for q < len(t) && isSpace(t[q]) {
					q++
				}
				i++
				continue
			}
			if lower(t[q]) != c.norm[i] {
				break
			}
			q++
			i++
		}
		if i == len(c.norm) {
			if j := s.k.splitOf[ci]; j >= 0 {
				s.splitFired[j] = true // the exact match already reports this canary
			}
			s.add(Finding{Check: CheckPromptLeak, Type: c.typ, Start: p, End: q, Score: 1, Replace: redactedText, CanRedact: true})
			return true // one canary per position; overlapping canaries are covered by the first
		}
		if q >= len(t) && s.more(p, q) {
			return false
		}
	}
	return true
}

// variantWord returns the canary's letters and digits when it is one token of 5 to 64 of them (ASCII), else nil.
func variantWord(n []byte) []byte {
	if len(n) < 5 || len(n) > 64 {
		return nil
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return nil
		}
	}
	return n
}

type variant struct{ name, text string }

// canaryVariants returns the encodings of w (lower-case letters and digits) a leak takes, matched as whole words
// (spelled-out forms: spelledAt).
func canaryVariants(w []byte) []variant {
	rev := make([]byte, len(w))
	rot := make([]byte, len(w))
	for i, c := range w {
		rev[len(w)-1-i] = c
		rot[i] = c
		if c >= 'a' && c <= 'z' {
			rot[i] = 'a' + (c-'a'+13)%26
		}
	}
	const hexdig = "0123456789abcdef"
	hx := make([]byte, 0, 2*len(w))
	for _, c := range w {
		hx = append(hx, hexdig[c>>4], hexdig[c&15])
	}
	out := []variant{{"reversed", string(rev)}, {"hex", string(hx)}}
	if string(rot) != string(w) {
		out = append(out, variant{"rot13", string(rot)})
	}
	// base64 of the word in lower case, capitalised and upper case (a word ends at '=': no padding)
	for _, form := range []string{string(w), strings.ToUpper(string(w[:1])) + string(w[1:]), strings.ToUpper(string(w))} {
		out = append(out, variant{"base64", base64NoPad(form)})
	}
	return out
}

// spelledAt: the secret spelled out from p, one letter or digit at a time with separators ("h u n t e r",
// "H-U-N-T-E-R", "h.u.n.t.e.r"). end is after its last character.
func (s *scanner) spelledAt(p int) (typ string, end int, undecided bool) {
	t := s.text
	for _, sec := range s.k.acrostic {
		if lower(t[p]) != sec[0] {
			continue
		}
		q, i := p+1, 1
		for i < len(sec) {
			seps := 0
			for q < len(t) && seps < 5 && spellSep(t[q]) {
				q++
				seps++
			}
			if q >= len(t) {
				if s.more(p, q) {
					return "", 0, true
				}
				break
			}
			if seps == 0 || lower(t[q]) != sec[i] || q+1 < len(t) && isWordByte(t[q+1]) {
				break
			}
			if q+1 >= len(t) && s.more(p, q+1) {
				return "", 0, true
			}
			q++
			i++
		}
		if i == len(sec) {
			return "canary_spelled", q, false
		}
	}
	return "", 0, false
}

// spellSep: a byte between the letters of a spelled-out secret ("h u n t e r", "H-U-N-T-E-R", "['h', 'u', …]").
func spellSep(c byte) bool {
	switch c {
	case ' ', '-', '.', '_', ',', '/', '\'', '"', '`', '[', ']', '*', '+', '|':
		return true
	}
	return false
}

// base64NoPad is the standard base64 of s without '=' padding.
func base64NoPad(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	i := 0
	for ; i+3 <= len(s); i += 3 {
		v := uint(s[i])<<16 | uint(s[i+1])<<8 | uint(s[i+2])
		out = append(out, enc[v>>18&63], enc[v>>12&63], enc[v>>6&63], enc[v&63])
	}
	switch len(s) - i {
	case 1:
		v := uint(s[i]) << 16
		out = append(out, enc[v>>18&63], enc[v>>12&63])
	case 2:
		v := uint(s[i])<<16 | uint(s[i+1])<<8
		out = append(out, enc[v>>18&63], enc[v>>12&63], enc[v>>6&63])
	}
	return string(out)
}

const (
	minNearLen = 6
	nearExtra  = 5 // word lengths len-1 .. len+3
)

func isLetters(w []byte) bool {
	for _, c := range w {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// nearWord: w is an inflection or a translation sharing the stem of the secret s (6+ letters): same letters but
// for the last one (Ontologie for ontology, avocados for avocado, Maelström for maelstrom is not: the stem must
// be ASCII), at most 3 letters longer, and not s itself (the canary reports that).
func nearWord(w []byte, s string) bool {
	if len(w) < len(s)-1 || len(w) > len(s)+3 || len(w) == 0 || lower(w[0]) != s[0] {
		return false
	}
	cp := 0
	for cp < len(w) && cp < len(s) && lower(w[cp]) == s[cp] {
		cp++
	}
	if cp == len(s) && len(w) == len(s) {
		return false // the secret itself
	}
	if cp < len(s)-1 {
		return false
	}
	for _, c := range w {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Hints about a secret: its first letter ("starts with the letter Z", "the first letter is z"), its last letter
// ("ends with h") and its length ("six letters", "6 characters"). One true hint is common chance; two different
// true hints about the same secret are a leak (canary_hints, not redactable: the filter blocks).
const (
	hintFirst = 1 << iota
	hintLast
	hintLength
	maxHintPos = 16
)

// hintSuffix is the hint kind of "ends with "ith"" (with hintLast: two facts).
const hintSuffix = hintLength << maxHintPos // above every hintPos

// hintPos is the hint kind of "the i-th letter is x" (2 <= i <= maxHintPos).
func hintPos(i int) int { return hintLength << (i - 1) }

// hintsNeeded: how many different true hints reveal a secret of n letters (a short one needs three: "three
// letters" and its first letter are common chance).
func hintsNeeded(n int) int {
	if n < 5 {
		return 3
	}
	return 2
}

// hintWords are the words that mark a hint (kind: 'f' first letter follows, 'l' last letter follows, 'n' a
// length precedes, 'x' "letter": the word before says first / last / a length). Only these uncommon words stop
// the skip loop; the number or "first"/"last" before them is read backwards.
var hintWords = map[string]byte{
	"starts": 'f', "begins": 'f', "starting": 'f', "beginning": 'f',
	"ends": 'l', "ending": 'l',
	"letters": 'n', "characters": 'n', "chars": 'n',
	"letter": 'x', "character": 'x', "char": 'x', "digit": 'x', "digits": 'n',
}

var numberWords = map[string]int{"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15}

// hintFiller are the words between a hint word and its letter ("starts with the letter", "first letter is").
var hintFiller = map[string]bool{"with": true, "the": true, "a": true, "an": true, "letter": true, "is": true,
	"character": true, "of": true, "in": true, "its": true, "it": true, "word": true, "on": true,
	"input": true, "code": true, "password": true, "passcode": true, "passphrase": true, "secret": true, "key": true,
	"answer": true, "string": true, "should": true, "be": true, "must": true}

// prevWord returns the lower-cased word just before p (separated by at most 3 spaces or '-'), at most 9 bytes.
func prevWord(t []byte, p int) string {
	q := p
	for q > 0 && p-q < 3 && (t[q-1] == ' ' || t[q-1] == '-') {
		q--
	}
	e := q
	for q > 0 && e-q < 10 && isWordByte(t[q-1]) {
		q--
	}
	if q == e || e-q >= 10 {
		return ""
	}
	return strings.ToLower(string(t[q:e]))
}

// lengthOf reads a number word or digits.
func lengthOf(w string) int {
	if n, ok := numberWords[w]; ok {
		return n
	}
	n := 0
	for _, c := range w {
		if c < '0' || c > '9' || n > 100 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// hintAt reads a hint marked by the word t[p:we]: kind is the hint bit (hintFirst, hintLast, hintLength, or
// hintPos(i) for "the i-th letter is x") and mask the hint secrets (the first 32) it is true of.
func (s *scanner) hintAt(p, we int) (kind int, mask uint32, end int, undecided bool) {
	t := s.text
	if we-p > 10 {
		return 0, 0, 0, false
	}
	var buf [10]byte
	for i := p; i < we; i++ {
		buf[i-p] = lower(t[i])
	}
	hk, ok := hintWords[string(buf[:we-p])] // no allocation for the lookup
	if !ok {
		return 0, 0, 0, false
	}
	pos := 0
	if hk == 'x' || hk == 'n' {
		prev := prevWord(t, p)
		switch {
		case hk == 'x' && prev == "first":
			hk = 'f'
		case hk == 'x' && (prev == "last" || prev == "final"):
			hk = 'l'
		case hk == 'x' && ordinal(prev) >= 2 && ordinal(prev) <= maxHintPos:
			hk, pos = 'p', ordinal(prev)
		default:
			if n := lengthOf(prev); n > 0 {
				for i, sec := range s.k.hintSecs {
					if len(sec) == n && i < 32 {
						mask |= 1 << i
					}
				}
				if mask != 0 {
					return hintLength, mask, we, false
				}
			}
			return 0, 0, 0, false
		}
	}
	// the words that follow (at most 6, within 60 bytes): fillers, then one letter
	q := we
	for n := 0; n < 6; n++ {
		for q < len(t) && q-we < 60 && !isWordByte(t[q]) && t[q] != '\n' {
			q++
		}
		if q >= len(t) {
			return 0, 0, 0, s.more(p, q)
		}
		if q-we >= 60 || t[q] == '\n' {
			return 0, 0, 0, false
		}
		e := readWord(t, q)
		if e >= len(t) && s.more(p, e) {
			return 0, 0, 0, true
		}
		if c := lower(t[q]); e-q == 1 && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			kind := hintFirst
			switch hk {
			case 'l':
				kind = hintLast
			case 'p':
				kind = hintPos(pos)
			}
			for i, sec := range s.k.hintSecs {
				if i >= 32 {
					break
				}
				if hk == 'f' && sec[0] == c || hk == 'l' && sec[len(sec)-1] == c || hk == 'p' && pos <= len(sec) && sec[pos-1] == c {
					mask |= 1 << i
				}
			}
			if mask == 0 {
				return 0, 0, 0, false
			}
			return kind, mask, e, false
		}
		if w, quoted := unquote(t, q, e); quoted && (hk == 'f' || hk == 'l') && len(w) >= 3 && len(w) <= 32 {
			// "starts with "xyl"": a quoted prefix (suffix) of 3+ letters tells as much as that many letter hints
			// (unquoted, "the meeting starts with the team" is no hint about teamwork)
			kind := hintLast | hintSuffix
			if hk == 'f' {
				kind = hintFirst
				for i := 2; i <= len(w) && i <= maxHintPos; i++ {
					kind |= hintPos(i)
				}
			}
			for i, sec := range s.k.hintSecs {
				if i < 32 && len(w) < len(sec) && (hk == 'f' && equalFoldASCII(w, sec[:len(w)]) || hk == 'l' && equalFoldASCII(w, sec[len(sec)-len(w):])) {
					mask |= 1 << i
				}
			}
			if mask != 0 {
				return kind, mask, e, false
			}
		}
		if !hintFiller[strings.ToLower(string(t[q:e]))] {
			return 0, 0, 0, false
		}
		q = e
	}
	return 0, 0, 0, false
}

// acrosticAt: at a line start, the first letter of the line (after indentation and a list marker) extends the
// acrostic of the output; a finding when the first letters of consecutive lines spell a canary.
func (s *scanner) acrosticAt(p int) bool {
	t := s.text
	q := p
	for q < len(t) && q-p < 12 && (t[q] == ' ' || t[q] == '\t' || t[q] == '-' || t[q] == '*' || t[q] == '>' || t[q] == '#' || t[q] == '.' || t[q] == ')' || t[q] >= '0' && t[q] <= '9') {
		q++
	}
	if q >= len(t) {
		return !s.more(p, q)
	}
	c := lower(t[q])
	if t[q] == '\n' {
		return true // a blank line is not a line of the acrostic
	}
	if c < 'a' || c > 'z' {
		s.acro = s.acro[:0]
		return true
	}
	if len(s.acro) == 64 {
		s.acro = append(s.acro[:0], s.acro[32:]...)
	}
	if len(s.acroStart) < len(s.acro)+1 {
		s.acroStart = append(s.acroStart, 0)
	}
	s.acroStart = s.acroStart[:len(s.acro)+1]
	s.acroStart[len(s.acro)] = q
	s.acro = append(s.acro, c)
	for _, w := range s.k.acrostic {
		if len(s.acro) >= len(w) && string(s.acro[len(s.acro)-len(w):]) == w && !s.acroFired {
			s.acroFired = true
			st := s.acroStart[len(s.acro)-len(w)]
			s.add(Finding{Check: CheckPromptLeak, Type: "canary_acrostic", Start: st, End: q + 1, Score: 1})
		}
	}
	return true
}

// readWord returns the end of the word starting at p (letters, digits, non-ASCII), bounded at 64 bytes.
func readWord(t []byte, p int) int {
	q := p
	for q < len(t) && isWordByte(t[q]) && q-p < 64 {
		q++
	}
	return q
}

func (s *scanner) leakWords(p int) bool {
	t := s.text
	if !isWordByte(t[p]) || p > 0 && isWordByte(t[p-1]) {
		return true
	}
	k := s.k
	// every sub-check decides on its own look-ahead; compute all before changing state so a "not yet" leaves no
	// trace
	we := readWord(t, p)
	if we >= len(t) && s.more(p, we) {
		return false
	}
	var ngramEnd int
	ngramHit := false
	if (k.ngrams != nil || k.reqNGrams != nil) && k.firstBits != nil && k.firstBits.has(filterHash(t[p:min(we, p+64)])) {
		h, end, ok, undecided := s.ngramAt(p)
		if undecided {
			return false
		}
		if ok {
			ngramHit = k.ngrams.has(h) || k.reqNGrams.has(h)
			ngramEnd = end
		}
	}
	varTyp, varEnd := "", 0
	if len(k.variants) > 0 && we-p <= 64 {
		w := t[p:we]
		for _, v := range k.variants {
			if len(v.text) == len(w) && equalFoldASCII(w, v.text) {
				varTyp, varEnd = v.name, we
				break
			}
		}
		if varTyp == "" && we-p == 1 {
			var undecided bool
			varTyp, varEnd, undecided = s.spelledAt(p)
			if undecided {
				return false
			}
		}
	}
	hintKind, hintMask, hintEnd := 0, uint32(0), 0
	if len(k.hintSecs) > 0 && !s.hintFired {
		var undecided bool
		hintKind, hintMask, hintEnd, undecided = s.hintAt(p, we)
		if undecided {
			return false
		}
	}
	formI, formEnd := -1, 0
	if len(k.forms) > 0 && we-p <= 64 {
		var undecided bool
		formI, formEnd, undecided = s.formAt(p, we)
		if undecided {
			return false
		}
	}
	phraseW, phraseEnd, phraseUndecided := 0.0, 0, false
	if k.cfg.Leak.Phrases && !s.phraseFired {
		phraseW, phraseEnd, phraseUndecided = s.phraseAt(p)
		if phraseUndecided {
			return false
		}
	}
	// decided: now change state
	if formI >= 0 {
		f := k.forms[formI]
		if f.split >= 0 {
			s.splitFired[f.split] = true // the form reports the canary
		}
		s.add(Finding{Check: CheckPromptLeak, Type: f.typ, Start: p, End: formEnd, Score: 1, Replace: redactedText, CanRedact: true})
	}
	if varTyp != "" {
		s.add(Finding{Check: CheckPromptLeak, Type: varTyp, Start: p, End: varEnd, Score: 1, Replace: redactedText, CanRedact: true})
	}
	if hintKind != 0 {
		if s.hintStart < 0 {
			s.hintStart = p
		}
		for i, sec := range k.hintSecs {
			if hintMask&(1<<i) == 0 || s.hintFired {
				continue
			}
			s.lm.hints[i] |= uint32(hintKind)
			if bits.OnesCount32(s.lm.hints[i]) >= hintsNeeded(len(sec)) { // different true hints about one secret
				s.hintFired = true
				s.add(Finding{Check: CheckPromptLeak, Type: "canary_hints", Start: s.hintStart, End: hintEnd, Score: 1})
			}
		}
	}
	s.moreWord(p, we)
	for _, sec := range k.near {
		if nearWord(t[p:we], sec) && !(we-p >= len(sec) && equalFoldASCII(t[p:p+len(sec)], sec)) {
			s.add(Finding{Check: CheckPromptLeak, Type: "canary_inflected", Start: p, End: we, Score: 1, Replace: redactedText, CanRedact: true})
			break
		}
	}
	if len(k.splitCanary) > 0 {
		w := t[p:we]
		for i, toks := range k.splitCanary {
			if s.splitFired[i] {
				continue
			}
			all := true
			for j, x := range toks {
				if !s.splitSeen[i][j] && equalFoldASCII(w, x) {
					s.splitSeen[i][j] = true
				}
				all = all && s.splitSeen[i][j]
			}
			if all {
				s.splitFired[i] = true
				s.add(Finding{Check: CheckPromptLeak, Type: "canary_words", Start: p, End: we, Score: 1, Replace: redactedText, CanRedact: true})
			}
		}
	}
	if ngramHit {
		// a run of matching n-grams: the first reports its n words; each next one extends the run by the words
		// past the previous end, replaced by nothing, so a redacted run reads as one [REDACTED]
		st, repl := p, redactedText
		if p < s.ngramUntil {
			st, repl = s.ngramUntil, ""
		}
		if ngramEnd > st {
			s.add(Finding{Check: CheckPromptLeak, Type: "system_prompt_ngram", Start: st, End: ngramEnd, Score: 1, Replace: repl, CanRedact: true})
			s.ngramUntil = ngramEnd
		}
	}
	if phraseW > 0 {
		s.phraseScore += phraseW
		if s.phraseScore >= k.cfg.Leak.PhraseThreshold {
			s.phraseFired = true
			s.add(Finding{Check: CheckPromptLeak, Type: "leak_phrasing", Start: p, End: phraseEnd, Score: s.phraseScore})
		}
	}
	return true
}

// Word n-grams: words are runs of letters/digits/non-ASCII bytes, lower-cased (ASCII), hashed with FNV-1a; an
// n-gram hash chains the word hashes. Only the hashes of the system prompt are kept.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func wordHash(w []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range w {
		h ^= uint64(lower(c))
		h *= fnvPrime
	}
	return h
}

func chain(h, w uint64) uint64 { return (h ^ w) * 0x100000001b3 * 31 }

// ngramStarts returns the filterHash of each word that starts an n-gram of prompt and pairHash of it with the
// next word: the scanner's word filters.
func ngramStarts(prompt string, n int) (firsts, pairs []uint64) {
	fs := wordHashes(prompt, filterHash)
	for i := 0; i+n <= len(fs); i++ {
		firsts = append(firsts, fs[i])
		pairs = append(pairs, pairHash(fs[i], fs[i+1]))
	}
	return firsts, pairs
}

// wordHashes returns hash of each word of s (a run of word bytes, cut to its first 64 bytes), in order.
func wordHashes(s string, hash func([]byte) uint64) []uint64 {
	t := []byte(s)
	var hs []uint64
	for p := 0; p < len(t); {
		if !isWordByte(t[p]) {
			p++
			continue
		}
		e := p
		for e < len(t) && isWordByte(t[e]) {
			e++
		}
		hs = append(hs, hash(t[p:min(e, p+64)]))
		p = e
	}
	return hs
}

func pairHash(a, b uint64) uint64 { return (a*31 ^ b) * 0x9e3779b97f4a7c15 }

// buildNGrams returns the set of n-gram hashes of prompt and a filter of every prefix (1..n words) of those
// n-grams, with which the scanner abandons a candidate n-gram at its first word that cannot continue one.
func buildNGrams(prompt string, n int) (hashSet, *bitFilter) {
	hs := wordHashes(prompt, wordHash)
	if len(hs) < n {
		return nil, nil
	}
	set := make(hashSet, 0, len(hs)-n+1)
	pf := newBitFilter((len(hs) - n + 1) * n)
	for i := 0; i+n <= len(hs); i++ {
		h := uint64(fnvOffset)
		for _, w := range hs[i : i+n] {
			h = chain(h, w)
			pf.add(h)
		}
		set = append(set, h)
	}
	slices.Sort(set)
	return set, pf
}

// hashSet is a sorted set of hashes (built per request for the request's system prompt: cheaper than a map,
// above all in wasm).
type hashSet []uint64

func (s hashSet) has(h uint64) bool {
	_, ok := slices.BinarySearch(s, h)
	return ok
}

// bitFilter is a one-hash Bloom filter of 64-bit hashes, sized at about 16 bits per entry.
type bitFilter struct {
	bits []uint64
	mask uint64
}

func newBitFilter(entries int) *bitFilter {
	size := uint64(1 << 12)
	for size < uint64(entries)*16 && size < 1<<22 {
		size <<= 1
	}
	return &bitFilter{bits: make([]uint64, size/64), mask: size - 1}
}

func (f *bitFilter) add(h uint64) {
	i := (h ^ h>>31) & f.mask
	f.bits[i>>6] |= 1 << (i & 63)
}

func (f *bitFilter) has(h uint64) bool {
	i := (h ^ h>>31) & f.mask
	return f.bits[i>>6]&(1<<(i&63)) != 0
}

// prefixMaybe: h (the chained hash of some words) may be a prefix of a prompt n-gram.
func (k *Checker) prefixMaybe(h uint64) bool {
	return k.ngramPrefix != nil && k.ngramPrefix.has(h) || k.reqNGramPrefix != nil && k.reqNGramPrefix.has(h)
}

type wordEntry struct {
	start, end int
	hash       uint64
}

// ngramAt hashes the n words starting at p. Words longer than 64 bytes hash their first 64 bytes (like buildNGrams
// does for the prompt, so long words still match). Word hashes are cached in s.words (the words from p on), so
// each word is hashed once.
func (s *scanner) ngramAt(p int) (h uint64, end int, ok, undecided bool) {
	t := s.text
	d := 0
	for d < len(s.words) && s.words[d].start < p {
		d++
	}
	if d > 0 {
		s.words = append(s.words[:0], s.words[d:]...)
	}
	q := p
	if len(s.words) > 0 {
		q = s.words[len(s.words)-1].end
	} else if s.words == nil {
		s.words = make([]wordEntry, 0, s.k.ngram) // one allocation per scan, not one per doubling
	}
	h = fnvOffset
	for i := 0; i < s.k.ngram; i++ {
		if i == len(s.words) {
			for q < len(t) && !isWordByte(t[q]) {
				if q-p > s.k.maxConstruct {
					return 0, 0, false, false
				}
				q++
			}
			if q >= len(t) {
				return 0, 0, false, s.more(p, q)
			}
			e := q
			for e < len(t) && isWordByte(t[e]) {
				e++
			}
			if e >= len(t) && s.more(p, e) {
				return 0, 0, false, true
			}
			s.words = append(s.words, wordEntry{q, e, wordHash(t[q:min(e, q+64)])})
			q = e
		}
		h = chain(h, s.words[i].hash)
		if !s.k.prefixMaybe(h) {
			return 0, 0, false, false // no prompt n-gram starts with these words: decided whatever follows
		}
	}
	return h, s.words[s.k.ngram-1].end, true, false
}

func equalFoldASCII(b []byte, lowerS string) bool {
	if len(b) != len(lowerS) {
		return false
	}
	for i := range b {
		if lower(b[i]) != lowerS[i] {
			return false
		}
	}
	return true
}

// leakPhrases are phrasings with which a model reveals its instructions. Weights add up over one output; the
// finding fires when the sum reaches the threshold (default 1.0). Matching is case-insensitive and a space in a
// phrase matches any whitespace run. A phrase starting with '^' only counts at the very start of the output.
var leakPhrases = []struct {
	phrase string
	weight float64
}{
	{"my instructions are", 1.0},
	{"my instructions so far", 1.0},
	{"the instructions so far", 1.0},
	{"here are my instructions", 1.0},
	{"my instructions were", 0.8},
	{"my system prompt is", 1.0},
	{"my system prompt", 0.5},
	{"my initial prompt", 0.6},
	{"my original instructions", 0.6},
	{"my previous instructions", 0.6},
	{"my prompt is", 0.6},
	{"the instructions i was given", 0.8},
	{"instructions i was given", 0.6},
	{"i was instructed to", 0.6},
	{"i have been instructed to", 0.6},
	{"i was told to", 0.5},
	{"i am programmed to", 0.3},
	{"my guidelines are", 0.6},
	{"pre-prompt]", 0.6},
	{"pre-prompt", 0.3},
	{"initial prompt", 0.4},
	{"system prompt", 0.3},
	{"the access code is", 0.8},
	{"the password is", 0.8},
	{"the secret password", 0.5},
	{"the passphrase is", 0.8},
	{"^you are a ", 0.6},
	{"^you are an ", 0.6},
	{"^sure! here is everything", 0.6},
	{"everything before", 0.3},
	{"instructions verbatim", 0.6},
	{"here are the instructions", 0.6},
	{"your instructions are", 0.4},
}

var phraseByFirst [256][]uint8

func init() {
	// pure data initialiser
	for i, lp := range leakPhrases {
		c := lp.phrase[0]
		if c == '^' {
			c = lp.phrase[1]
		}
		phraseByFirst[c] = append(phraseByFirst[c], uint8(i))
	}
}

// phraseAt returns the summed weight of the leak phrases starting at p (normally one).
func (s *scanner) phraseAt(p int) (w float64, end int, undecided bool) {
	t := s.text
	for _, pi := range phraseByFirst[lower(t[p])] {
		lp := leakPhrases[pi]
		ph := lp.phrase
		if ph[0] == '^' {
			ph = ph[1:]
			start := 0
			for start < len(t) && isSpace(t[start]) {
				start++
			}
			if p != start {
				continue
			}
		}
		if lower(t[p]) != ph[0] {
			continue
		}
		q, i := p, 0
		for i < len(ph) && q < len(t) {
			if ph[i] == ' ' {
				if !isSpace(t[q]) {
					break
				}
				for q < len(t) && isSpace(t[q]) {
					q++
				}
				i++
				continue
			}
			if lower(t[q]) != ph[i] {
				break
			}
			q++
			i++
		}
		if i < len(ph) {
			if q >= len(t) && s.more(p, q) {
				return 0, 0, true
			}
			continue
		}
		// whole-word end
		if q < len(t) && isWordByte(t[q]) && isWordByte(ph[len(ph)-1]) {
			continue
		}
		if q >= len(t) && s.more(p, q) && isWordByte(ph[len(ph)-1]) {
			return 0, 0, true
		}
		if lp.weight > w {
			w, end = lp.weight, q
		}
	}
	return w, end, false
}

// secretCues introduce a secret in a system prompt: "<cue> is X", "<cue>: X", "<cue> = X".
var secretCues = []string{"access code", "password", "passphrase", "passcode", "secret code", "secret key",
	"secret word", "secret phrase", "secret", "api key", "token", "discount code", "promo code", "pin", "code word",
	"codeword", "magic word", "canary"}

// DeclaredSecrets extracts the values a system prompt declares as secret: what follows a cue ("access code",
// "password", "api key", ...) and "is", ":" or "=", either quoted or up to the end of the sentence (at most 6
// words and 64 bytes). Values shorter than 3 bytes are dropped.
func DeclaredSecrets(prompt string) []string { return declaredValues(prompt, 3) }

// declaredValues is DeclaredSecrets keeping values of minLen+ bytes.
func declaredValues(prompt string, minLen int) []string {
	var out []string
	lp := strings.ToLower(prompt)
	for _, cue := range secretCues {
		from := 0
		for {
			i := strings.Index(lp[from:], cue)
			if i < 0 {
				break
			}
			i += from
			from = i + len(cue)
			if i > 0 && isWordByte(lp[i-1]) || from < len(lp) && isWordByte(lp[from]) {
				continue
			}
			rest := lp[from:]
			j := 0
			for j < len(rest) && rest[j] == ' ' {
				j++
			}
			switch {
			case strings.HasPrefix(rest[j:], "is "):
				j += 3
			case strings.HasPrefix(rest[j:], ": "), strings.HasPrefix(rest[j:], "= "):
				j += 2
			case strings.HasPrefix(rest[j:], ":"), strings.HasPrefix(rest[j:], "="):
				j++
			default:
				continue
			}
			for j < len(rest) && rest[j] == ' ' {
				j++
			}
			if v := secretValue(prompt[from+j:]); len(v) >= minLen {
				dup := false
				for _, o := range out {
					dup = dup || o == v
				}
				if !dup {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func secretValue(s string) string {
	if s == "" {
		return ""
	}
	if q := s[0]; q == '"' || q == '\'' || q == '`' {
		// a quoted value; a run of backticks (`x`, ```x```) is closed by the same run
		n := 1
		for q == '`' && n < len(s) && s[n] == '`' {
			n++
		}
		if e := strings.Index(s[n:], s[:n]); e >= 1 && e <= 64 {
			return strings.TrimSpace(s[n : n+e])
		}
		return ""
	}
	e := 0
	words := 1
	for e < len(s) && e <= 64 {
		c := s[e]
		if c == '\n' || c == ',' || c == ';' {
			break
		}
		if c == '.' && (e+1 >= len(s) || s[e+1] == ' ' || s[e+1] == '\n') {
			break
		}
		if c == ' ' {
			words++
			if words > 6 {
				return ""
			}
		}
		e++
	}
	if e > 64 {
		return ""
	}
	return strings.TrimSpace(s[:e])
}

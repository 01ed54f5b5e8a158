package ner

import (
	"sync/atomic"
)

// Gazetteer flags (gazetteer_gen.go).
const (
	GFirst   = 1 << iota // given name
	GLast                // surname
	GCountry             // word of a country name
	GCity                // word of a city name
	GState               // word of a state / region name or its abbreviation
	GStreet              // street type (street, avenue, rd, laan, straße, ...)
	GUnit                // address unit or box word (apt, suite, unit, box, po, floor)
	GOrg                 // organisation suffix or word (inc, llc, ltd, group, bank, university)
	GCommon              // common English word (the, this, when, ...)
	GMonth               // month or weekday name
	GTitle               // honorific (mr, mrs, dr, prof)
	GPrep                // word that precedes a place or address (in, at, from, to, near, lives)
)

// Entity types of the tagger, in class order: class 0 is O, class 1+2k is B-type k, 2+2k is I-type k.
const (
	Person = iota
	Address
	Location
	Organization
	NumTypes
)

// TypeNames are the dataset names of the entity types.
var TypeNames = [NumTypes]string{"PERSON", "ADDRESS", "LOCATION", "ORGANIZATION"}

// NumClasses is O plus B- and I- per type.
const NumClasses = 1 + 2*NumTypes

// NumFeatures is the number of hashed features of one token.
const NumFeatures = 44

// Model is a tagger's weights: 1<<Bits rows of NumClasses int8 weights (row = feature bucket), scaled by Scale,
// and the margin (in int8 units) by which a B- class must outscore the others to open an entity.
type Model struct {
	Bits    uint
	Scale   float32
	Margin  int32
	Weights string
}

func mix(a, b uint32) uint32 {
	h := a*0x9E3779B1 ^ b
	h ^= h >> 15
	h *= 0x85EBCA77
	h ^= h >> 13
	h *= 0xC2B2AE3D
	h ^= h >> 16
	return h
}

// at returns token i or a boundary token.
func at(toks []Token, i int) *Token {
	if i < 0 {
		return &bos
	}
	if i >= len(toks) {
		return &eos
	}
	return &toks[i]
}

var bos = Token{Low: 0x1111, Shape: 0x1111, Flags: fPunct | fShape}
var eos = Token{Low: 0x2222, Shape: 0x2222, Flags: fPunct | fNL | fShape}

// affix hashes of text[s:e], lower-cased, first n and last n bytes.
func prefix(text []byte, t *Token, n int) uint32 {
	if int(t.End-t.Start) < n {
		return 0
	}
	return HashLower(text[t.Start : int(t.Start)+n])
}

func suffix(text []byte, t *Token, n int) uint32 {
	if int(t.End-t.Start) <= n {
		return 0
	}
	return HashLower(text[int(t.End)-n : t.End])
}

func lenBucket(t *Token) uint32 {
	switch {
	case t.Len <= 2:
		return uint32(t.Len)
	case t.Len <= 4:
		return 3
	case t.Len <= 6:
		return 4
	case t.Len <= 10:
		return 5
	}
	return 6
}

// Features writes the hashed features of token i to f, given the tags of the previous two tokens (p1, p2) and
// of the last token of the previous line (pl).
func Features(text []byte, toks []Token, i int, p1, p2, pl uint8, f *[NumFeatures]uint32) {
	t := &toks[i]
	l1, l2, r1, r2 := at(toks, i-1), at(toks, i-2), at(toks, i+1), at(toks, i+2)
	sh, sl, sr := shapeOf(text, t), shapeOf(text, l1), shapeOf(text, r1)
	fl := uint32(t.Flags)
	g := uint32(t.Gaz)
	f[0] = 1
	f[1] = mix(2, t.Low)
	f[2] = mix(3, sh)
	f[3] = mix(4, prefix(text, t, 1))
	f[4] = mix(5, prefix(text, t, 2))
	f[5] = mix(6, prefix(text, t, 3))
	f[6] = mix(7, suffix(text, t, 1))
	f[7] = mix(8, suffix(text, t, 2))
	f[8] = mix(9, suffix(text, t, 3))
	f[9] = mix(10, suffix(text, t, 4))
	f[10] = mix(11, l1.Low)
	f[11] = mix(12, r1.Low)
	f[12] = mix(13, l2.Low)
	f[13] = mix(14, r2.Low)
	f[14] = mix(15, sl)
	f[15] = mix(16, sr)
	f[16] = mix(mix(17, sl), sh)
	f[17] = mix(mix(18, sh), sr)
	f[18] = mix(mix(19, l1.Low), t.Low)
	f[19] = mix(mix(20, t.Low), r1.Low)
	f[20] = mix(21, uint32(p1))
	f[21] = mix(mix(22, uint32(p1)), uint32(p2))
	f[22] = mix(mix(23, uint32(p1)), sh)
	f[23] = mix(mix(24, uint32(p1)), t.Low)
	f[24] = mix(25, g)
	f[25] = mix(26, uint32(l1.Gaz))
	f[26] = mix(27, uint32(r1.Gaz))
	f[27] = mix(mix(28, g), sh)
	f[28] = mix(mix(29, fl), lenBucket(t))
	f[29] = mix(mix(30, fl), uint32(r1.Flags))
	f[30] = mix(mix(31, fl), uint32(l1.Flags))
	f[31] = mix(mix(32, uint32(p1)), uint32(r1.Gaz))
	f[32] = mix(mix(33, uint32(l2.Gaz)), uint32(l1.Gaz))
	f[33] = mix(mix(34, uint32(r1.Gaz)), uint32(r2.Gaz))
	f[34] = mix(mix(35, uint32(p1)), l1.Low)
	f[35] = mix(mix(36, uint32(p1)), g)
	f[36] = mix(mix(37, bucket(t.LinePos)), bucket(t.LineLen))
	f[37] = mix(mix(38, bucket(t.LineNo)), sh)
	f[38] = mix(mix(39, uint32(pl)), sh)
	f[39] = mix(mix(40, uint32(pl)), bucket(t.LinePos))
	f[40] = mix(mix(41, fl&(fLineDigit|fLineEnd|fNL)), g)
	f[41] = mix(mix(mix(42, fl&(fLineDigit|fLineEnd|fNL)), bucket(t.LineLen)), sh)
	// the text's first token and first line length: a bare address block, a bulleted contact card, a sentence
	d0 := &toks[0]
	f[42] = mix(mix(mix(43, shapeOf(text, d0)), bucket(d0.LineLen)), bucket(t.LineNo))
	f[43] = mix(mix(44, shapeOf(text, d0)), sh)
}

func bucket(n uint8) uint32 {
	switch {
	case n <= 3:
		return uint32(n)
	case n <= 6:
		return 4
	case n <= 10:
		return 5
	}
	return 6
}

// Span is an entity found by the tagger: token range [From, To) of one type.
type Span struct {
	Type     int
	From, To int // token indexes
}

// Scratch holds the buffers of one tagging call.
type Scratch struct {
	Toks  []Token
	Tags  []uint8
	Spans []Span
}

// One scratch is kept for good (a sync.Pool would drop it at every GC, and a filter allocates body buffers
// per request); a concurrent caller (native code only: a filter has no goroutines) gets a fresh one.
var (
	shared     Scratch
	sharedBusy atomic.Bool
)

// GetScratch returns the kept scratch, or a new one when it is in use; PutScratch gives it back.
func GetScratch() *Scratch {
	if sharedBusy.CompareAndSwap(false, true) {
		return &shared
	}
	return new(Scratch)
}

// keepTokens bounds what the kept scratch holds on to between texts (24 bytes a token): with std Go the buffers
// of a larger text (more than ~300 KiB of prose) are let go rather than pinned for the life of the VM. TinyGo
// builds keep them (letGoLarge is false there): TinyGo's collector is conservative, a freed multi-megabyte block
// is often kept alive by a word of data that looks like its address, and letting go of a 1 MiB text's token
// buffers at every request grew a piimask VM to 560 MiB in e2e/memory; kept, they cost ~6 MiB once.
const keepTokens = 1 << 16

// PutScratch gives back a scratch from GetScratch.
func PutScratch(s *Scratch) {
	if s == &shared {
		if letGoLarge && cap(s.Toks) > keepTokens {
			s.Toks, s.Tags = nil, nil
		}
		sharedBusy.Store(false)
	}
}

// Candidate reports whether token i may be (part of) an entity, and so must be scored: a word that is
// capitalised (other than a common word opening a sentence), holds a digit, or is a lower-case given name or
// surname. Every other token is O without scoring (unless it continues an entity, see continues).
func Candidate(t *Token) bool {
	return t.Flags&fCand != 0
}

// candidate computes the fCand flag of a token (Tokenize).
func candidate(t *Token) bool {
	if t.Flags&fPunct != 0 {
		return false
	}
	if t.Flags&fDigit != 0 {
		return true
	}
	if t.Flags&(fUpper|fAllUpper) != 0 {
		return t.Gaz&GCommon == 0 || t.Flags&fSentStart == 0
	}
	// a lower-case word: a given name or surname that is not also a common word ("gregory barros")
	return t.Gaz&(GFirst|GLast|GCountry) != 0 && t.Gaz&GCommon == 0
}

// scoreRow adds the weights of feature bucket b to s.
func (m *Model) add(s *[NumClasses]int32, h uint32) {
	mask := uint32(1)<<m.Bits - 1
	o := int(h&mask) * NumClasses
	w := m.Weights[o : o+NumClasses]
	for c := 0; c < NumClasses; c++ {
		s[c] += int32(int8(w[c]))
	}
}

// allowed reports whether class c may follow class prev (an I- tag continues a B- or I- of its type).
func allowed(prev, c uint8, nl bool) bool {
	if c == 0 || c%2 == 1 {
		return true
	}
	if nl && c != 2+2*Address {
		return false // only an address continues on the next line
	}
	return prev == c || prev == c-1
}

// continues reports whether token t after tag p1 must be scored although it is no candidate.
func continues(t *Token, p1 uint8) bool {
	return p1 != 0 && (t.Flags&fNL == 0 || (p1-1)/2 == Address)
}

// context returns the previous two tags and the tag the previous line ended with, for token i (tags before i
// are final). A line of 255 tokens or more has no previous-line tag.
func context(toks []Token, tags []uint8, i int) (p1, p2, pl uint8) {
	if i > 0 {
		p1 = tags[i-1]
	}
	if i > 1 {
		p2 = tags[i-2]
	}
	if lp := int(toks[i].LinePos); lp < 255 && i-lp-1 >= 0 {
		pl = tags[i-lp-1]
	}
	return
}

// scored reports whether token i is scored: a candidate, or the continuation of an entity.
func scored(t *Token, p1 uint8) bool {
	return t.Flags&fCand != 0 || continues(t, p1)
}

// Tag tags the tokens of sc (already tokenised from text) and fills sc.Tags and sc.Spans. Tokens that are no
// candidate and continue no entity are O without a look.
func (m *Model) Tag(text []byte, sc *Scratch) {
	toks := sc.Toks
	if cap(sc.Tags) < len(toks) {
		sc.Tags = make([]uint8, len(toks), len(toks)+len(toks)/2)
	}
	tags := sc.Tags[:len(toks)]
	clear(tags)
	sc.Tags = tags
	sc.Spans = sc.Spans[:0]
	var f [NumFeatures]uint32
	prev := uint8(0)
	for i := range toks {
		t := &toks[i]
		if t.Flags&fCand == 0 && prev == 0 {
			continue
		}
		p1, p2, pl := context(toks, tags, i)
		if !scored(t, p1) {
			prev = 0
			continue
		}
		nl := t.Flags&fNL != 0
		Features(text, toks, i, p1, p2, pl, &f)
		var s [NumClasses]int32
		for _, h := range f {
			m.add(&s, h)
		}
		for k := 1; k < NumClasses; k += 2 {
			s[k] -= m.Margin // a B- class must beat O by the margin
		}
		c := uint8(0)
		best := int32(-1 << 31)
		for k := uint8(0); k < NumClasses; k++ {
			if allowed(p1, k, nl) && s[k] > best {
				best, c = s[k], k
			}
		}
		tags[i] = c
		prev = c
	}
	sameName(toks, tags)
	nameList(text, toks, tags)
	sc.Spans = Decode(tags, sc.Spans)
	// an ADDRESS span must look like one, or sit within two tokens of one that does (a house number or a
	// postcode the tagger split off)
	spans := sc.Spans
	out := spans[:0]
	for k, sp := range spans {
		if sp.Type == Address && !addressLike(toks[sp.From:sp.To]) {
			near := false
			for _, j := range [2]int{k - 1, k + 1} {
				if j >= 0 && j < len(spans) && spans[j].Type == Address && addressLike(toks[spans[j].From:spans[j].To]) &&
					(spans[j].From-sp.To <= 2 && sp.From-spans[j].To <= 2) {
					near = true
				}
			}
			if !near {
				continue
			}
		}
		out = append(out, sp)
	}
	sc.Spans = out
}

// maxNames bounds the words sameName looks for.
const maxNames = 8

// nameWord reports whether a token tagged PERSON is a word whose other occurrences sameName tags: at least two
// letters, neither a common word nor a title.
func nameWord(t *Token) bool {
	return t.Flags&(fPunct|fDigit) == 0 && t.Len >= 2 && t.Gaz&(GCommon|GTitle|GMonth) == 0
}

// sameName tags B-PERSON every other occurrence (same word, same case) of a word the tagger tagged PERSON in the
// text, where the tagger said O: one person is named again ("Magnus spent a year ... as the assistant to
// Magnus Poulsen"). It works within a text the tagger already found a name in, so it never makes a text with
// no finding one with a finding.
func sameName(toks []Token, tags []uint8) {
	var names [maxNames]uint32
	var cases [maxNames]uint16
	n := 0
	const caseFlags = fUpper | fAllUpper | fLower
	for i := range toks {
		c := tags[i]
		if c == 0 || (c-1)/2 != Person || !nameWord(&toks[i]) {
			continue
		}
		t := &toks[i]
		dup := false
		for k := 0; k < n; k++ {
			if names[k] == t.Low && cases[k] == t.Flags&caseFlags {
				dup = true
			}
		}
		if !dup && n < maxNames {
			names[n], cases[n] = t.Low, t.Flags&caseFlags
			n++
		}
	}
	if n == 0 {
		return
	}
	for i := range toks {
		t := &toks[i]
		if tags[i] != 0 || t.Flags&fPunct != 0 {
			continue
		}
		for k := 0; k < n; k++ {
			if names[k] == t.Low && cases[k] == t.Flags&caseFlags {
				tags[i] = 1 + 2*Person
				break
			}
		}
	}
}

// listItem: a token that may be an item of a list of names (one word, a candidate, no common word or title).
func listItem(t *Token) bool {
	return t.Flags&fCand != 0 && t.Flags&(fPunct|fDigit) == 0 && t.Gaz&(GCommon|GTitle|GMonth) == 0
}

// listSep returns the index after the separator of list items that starts at token i ("," "and" "&" "or"
// ", and"), or -1.
func listSep(text []byte, toks []Token, i int) int {
	// sep: 1 for ",", 2 for "and", "or" or "&", 0 otherwise (compared byte by byte: no string is made)
	sep := func(i int) int {
		if i >= len(toks) || toks[i].Flags&fNL != 0 {
			return 0
		}
		w := text[toks[i].Start:toks[i].End]
		switch {
		case len(w) == 1 && w[0] == ',':
			return 1
		case len(w) == 1 && w[0] == '&',
			len(w) == 2 && w[0]|0x20 == 'o' && w[1]|0x20 == 'r',
			len(w) == 3 && w[0]|0x20 == 'a' && w[1]|0x20 == 'n' && w[2]|0x20 == 'd':
			return 2
		}
		return 0
	}
	switch sep(i) {
	case 1:
		if sep(i+1) == 2 {
			return i + 2
		}
		return i + 1
	case 2:
		return i + 1
	}
	return -1
}

// nameList tags B-PERSON the O items of a list of one-word items ("Matheus, Janet, Nicholas and Kevin") in
// which the tagger found a one-word name: the items of a list are of one kind. Like sameName it works only in a
// text with a name found.
func nameList(text []byte, toks []Token, tags []uint8) {
	for i := 0; i < len(toks); {
		if !listItem(&toks[i]) {
			i++
			continue
		}
		// the run of items from i
		j, n, person := i, 0, false
		for {
			n++
			if tags[j] == 1+2*Person && (j+1 >= len(toks) || tags[j+1] != 2+2*Person) {
				person = true
			}
			k := listSep(text, toks, j+1)
			if k < 0 || k >= len(toks) || !listItem(&toks[k]) || toks[k].Flags&fNL != 0 {
				break
			}
			j = k
		}
		if person && n >= 2 {
			for k := i; k <= j; k++ {
				if listItem(&toks[k]) && tags[k] == 0 && (k+1 >= len(toks) || tags[k+1]%2 == 1 || tags[k+1] == 0) {
					tags[k] = 1 + 2*Person
				}
			}
		}
		i = j + 1
	}
}

// addressLike: an ADDRESS span holds a street or unit word (street, rd, suite, box, ...), or a number together
// with a word that is not a month or a common word. A lone number, a date ("October 28") or "350 degrees" is
// not reported, though the tagger, trained on data that labels house numbers and postcodes apart, says so.
func addressLike(toks []Token) bool {
	num, word := false, false
	for i := range toks {
		t := &toks[i]
		switch {
		case t.Gaz&(GStreet|GUnit) != 0:
			return true
		case t.Flags&fPunct != 0:
		case t.Flags&fDigit != 0:
			num = true
		case t.Gaz&(GMonth|GCommon) == 0:
			word = true
		}
	}
	return num && word
}

// Decode turns BIO tags into spans.
func Decode(tags []uint8, dst []Span) []Span {
	for i := 0; i < len(tags); {
		c := tags[i]
		if c == 0 {
			i++
			continue
		}
		ty := int(c-1) / 2
		j := i + 1
		for j < len(tags) && tags[j] == uint8(2+2*ty) {
			j++
		}
		dst = append(dst, Span{Type: ty, From: i, To: j})
		i = j
	}
	return dst
}

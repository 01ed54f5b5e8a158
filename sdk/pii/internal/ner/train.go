package ner

import "math"

// Training code: used by cmd/trainner and the tests, never by the scanner (the linker drops it from the
// filters).

// Gold is a labelled entity span in byte offsets.
type Gold struct {
	Type       int
	Start, End int
}

// Label returns the gold BIO class of every token: a token that starts inside a span is B- if it is the
// span's first token, else I-.
func Label(toks []Token, spans []Gold) []uint8 {
	tags := make([]uint8, len(toks))
	for _, s := range spans {
		first := true
		for i, t := range toks {
			if int(t.Start) >= s.Start && int(t.Start) < s.End {
				if first {
					tags[i] = uint8(1 + 2*s.Type)
					first = false
				} else {
					tags[i] = uint8(2 + 2*s.Type)
				}
			}
		}
	}
	return tags
}

// Example is one training text.
type Example struct {
	Text []byte
	Toks []Token
	Gold []uint8
	Skip []bool // tokens whose label is unknown (no update)
}

// NewNegative returns a text without labelled entities (an ordinary prompt or answer) as an example whose
// tokens are all O, except that the label of a capitalised run holding a gazetteer name or place is unknown:
// such prompts do mention real people and places.
func NewNegative(text []byte) Example {
	toks := Tokenize(text, nil)
	skip := make([]bool, len(toks))
	for i := 0; i < len(toks); {
		if toks[i].Flags&(fUpper|fAllUpper) == 0 || toks[i].Flags&fPunct != 0 {
			i++
			continue
		}
		j := i
		hit := false
		for j < len(toks) && toks[j].Flags&(fUpper|fAllUpper) != 0 && toks[j].Flags&fPunct == 0 && (j == i || toks[j].Flags&fNL == 0) {
			if toks[j].Gaz&(GFirst|GLast|GCity|GCountry|GState) != 0 && toks[j].Gaz&GCommon == 0 {
				hit = true
			}
			j++
		}
		if hit {
			for k := i; k < j; k++ {
				skip[k] = true
			}
		}
		i = j
	}
	return Example{Text: text, Toks: toks, Gold: make([]uint8, len(toks)), Skip: skip}
}

// NewExample tokenises text and labels it.
func NewExample(text []byte, spans []Gold) Example {
	toks := Tokenize(text, nil)
	return Example{Text: text, Toks: toks, Gold: Label(toks, spans)}
}

// Params of training.
type Params struct {
	Bits   uint // log2 of the number of feature rows
	Epochs int
	Seed   uint64
	Bags   int // perceptrons trained with seeds Seed, Seed+2, ... and averaged (1 when 0)
	// Drop is the chance, in 1/256ths, that a feature of a token (other than the bias) is left out of one
	// training step, scoring and update alike (dropout): the tagger learns not to lean on any one feature — a
	// template's context words above all — and finds names in contexts training never showed.
	Drop uint32
	// Margin is how much more than O (in perceptron units) a B- class must score to open an entity
	// (Model.Margin): dropout makes the tagger bolder, and the margin buys its precision back.
	Margin float64
}

// Train fits Bags averaged perceptrons on ex, each with its own shuffle order, averages them (a single
// perceptron's weights swing with the order of the examples) and returns the int8-quantised model;
// deterministic for the same inputs and params.
func Train(ex []Example, p Params) *Model {
	bags := max(p.Bags, 1)
	var avg []float64
	for b := 0; b < bags; b++ {
		q := p
		q.Seed = p.Seed + 2*uint64(b)
		a := trainOne(ex, q)
		if avg == nil {
			avg = a
		} else {
			for i := range a {
				avg[i] += a[i]
			}
		}
	}
	m := quantise(avg, p.Bits)
	m.Margin = int32(math.Round(p.Margin / float64(m.Scale)))
	return m
}

// trainOne fits one averaged perceptron and returns its float weights.
func trainOne(ex []Example, p Params) []float64 {
	rows := 1 << p.Bits
	n := rows * NumClasses
	w := make([]int32, n)
	acc := make([]int64, n)
	ts := make([]int32, n)
	mask := uint32(rows - 1)
	step := int32(0)
	order := make([]int, len(ex))
	for i := range order {
		order[i] = i
	}
	rng := p.Seed | 1
	next := func() uint64 {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return rng
	}
	upd := func(idx int, d int32) {
		acc[idx] += int64(w[idx]) * int64(step-ts[idx])
		ts[idx] = step
		w[idx] += d
	}
	var f [NumFeatures]uint32
	drng := (p.Seed ^ 0xd0d0d0d0d0d0d0d0) | 1
	dnext := func() uint32 {
		drng ^= drng << 13
		drng ^= drng >> 7
		drng ^= drng << 17
		return uint32(drng >> 32)
	}
	var drop [NumFeatures]bool // features left out of this step
	for ep := 0; ep < p.Epochs; ep++ {
		for i := len(order) - 1; i > 0; i-- {
			j := int(next() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, k := range order {
			e := &ex[k]
			tags := make([]uint8, len(e.Toks))
			for i := range e.Toks {
				step++
				gold := e.Gold[i]
				p1, p2, pl := context(e.Toks, tags, i)
				if !scored(&e.Toks[i], p1) {
					continue
				}
				nl := e.Toks[i].Flags&fNL != 0
				if !allowed(p1, gold, nl) {
					// an I- tag after a wrong previous prediction: learn it as B-
					gold--
				}
				Features(e.Text, e.Toks, i, p1, p2, pl, &f)
				if p.Drop > 0 {
					for k := 1; k < NumFeatures; k++ {
						drop[k] = dnext()&255 < p.Drop
					}
				}
				skip := e.Skip != nil && e.Skip[i]
				var s [NumClasses]int32
				for k, h := range f {
					if drop[k] {
						continue
					}
					o := int(h&mask) * NumClasses
					for c := 0; c < NumClasses; c++ {
						s[c] += w[o+c]
					}
				}
				pred := uint8(0)
				best := int32(math.MinInt32)
				for c := uint8(0); c < NumClasses; c++ {
					if allowed(p1, c, nl) && s[c] > best {
						best, pred = s[c], c
					}
				}
				if pred != gold && !skip {
					for k, h := range f {
						if drop[k] {
							continue
						}
						o := int(h&mask) * NumClasses
						upd(o+int(gold), 1)
						upd(o+int(pred), -1)
					}
				}
				tags[i] = pred
			}
		}
	}
	avg := make([]float64, n)
	for i := range w {
		avg[i] = float64(acc[i]+int64(w[i])*int64(step-ts[i])) / float64(step)
	}
	return avg
}

// quantise scales weights to int8.
func quantise(avg []float64, bits uint) *Model {
	n := len(avg)
	maxAbs := 0.0
	for _, a := range avg {
		if math.Abs(a) > maxAbs {
			maxAbs = math.Abs(a)
		}
	}
	scale := maxAbs / 127
	if scale == 0 {
		scale = 1
	}
	q := make([]byte, n)
	for i, a := range avg {
		v := math.Round(a / scale)
		if v > 127 {
			v = 127
		} else if v < -127 {
			v = -127
		}
		q[i] = byte(int8(v))
	}
	return &Model{Bits: bits, Scale: float32(scale), Weights: string(q)}
}

package detect

import (
	"math"
	"unsafe"
)

// HashBits is the size (log2) of the hashed n-gram feature space.
const HashBits = 16

// NormPad is added to the number of n-gram occurrences before the 1/sqrt normalisation, so that a very short
// text's few n-grams do not weigh as much as a paragraph's (short texts shrink towards the prior).
const NormPad = 64

// NumDense is the number of dense features: one per signal.
const NumDense = int(NumSignals)

// Features is the feature vector of one text: hashed n-gram bucket indexes (with repeats: a bucket counts once
// per occurrence; the n-gram part is scaled by 1/sqrt(len(Hashed)+NormPad)) and the dense signal features.
type Features struct {
	Hashed []uint32
	Dense  [NumDense]float32
}

// Model is a logistic regression over Features. Hashed weights are int8 scaled by HashScale.
type Model struct {
	HashScale float32
	Hashed    string // 1<<HashBits int8 weights, each stored excess-128 (HashedByte; empty: no n-gram part)
	Dense     [NumDense]float32
	Bias      float32
	// Window, when > 0, also scores every run of Window consecutive n-gram occurrences (stride Window/2) and
	// keeps the highest n-gram evidence, so that a short injected passage is not diluted by a long document.
	Window int
	// MinHashed, when > 0, sends a text with fewer n-gram occurrences (a few words, or a text in a script
	// that produces no n-gram features) to Short, a logistic model over the signals alone: the main model's
	// signal weights share the evidence with the words that usually come with a phrase, which such a text
	// does not have.
	MinHashed int
	Short     SignalModel
}

// SignalModel is a logistic regression over the dense signal features only.
type SignalModel struct {
	Dense [NumDense]float32
	Bias  float32
}

// Logit returns the signal model's log-odds for f (its n-grams are ignored).
func (s *SignalModel) Logit(f *Features) float64 {
	z := float64(s.Bias)
	for i, v := range f.Dense {
		z += float64(s.Dense[i] * v)
	}
	return z
}

// dense returns the signal weights that score f: the short-text model's or the main model's.
func (m *Model) dense(f *Features) *[NumDense]float32 {
	if len(f.Hashed) < m.MinHashed {
		return &m.Short.Dense
	}
	return &m.Dense
}

// Logit returns the model's log-odds for f.
func (m *Model) Logit(f *Features) float64 {
	if len(f.Hashed) < m.MinHashed {
		return m.Short.Logit(f)
	}
	z := float64(m.Bias)
	for i, v := range f.Dense {
		z += float64(m.Dense[i] * v)
	}
	if len(m.Hashed) == 1<<HashBits && len(f.Hashed) > 0 {
		h := m.Hashed
		n := len(f.Hashed)
		var sum, win int64
		best := math.Inf(-1)
		w := m.Window
		switch {
		case w > 0 && n > w && w%2 == 0:
			// Windows start every w/2 occurrences, so each is two consecutive half-window blocks: one weight
			// lookup per occurrence, summed a block at a time (weightSum; integer sums: the order is free).
			half := w / 2
			norm := math.Sqrt(float64(w + NormPad))
			tab := (*[1 << HashBits]byte)(unsafe.Pointer(unsafe.StringData(h)))
			var prev int64
			have := false
			k := 0
			for ; k+half <= n; k += half {
				blk := weightSum(tab, f.Hashed[k:k+half])
				sum += blk
				if have {
					best = math.Max(best, float64(prev+blk)/norm)
				}
				prev, have = blk, true
			}
			sum += weightSum(tab, f.Hashed[k:])
		default:
			for i, idx := range f.Hashed {
				v := hashedWeight(h[idx&(1<<HashBits-1)])
				sum += v
				if w > 0 && n > w {
					win += v
					if i >= w {
						win -= hashedWeight(h[f.Hashed[i-w]&(1<<HashBits-1)])
					}
					if i >= w-1 && (i-w+1)%(w/2) == 0 {
						best = math.Max(best, float64(win)/math.Sqrt(float64(w+NormPad)))
					}
				}
			}
		}
		full := float64(sum) / math.Sqrt(float64(n+NormPad))
		z += math.Max(full, best) * float64(m.HashScale)
	}
	return z
}

// weightSum is the sum of the hashed weights of the buckets idx, four per pass (in wasm every pass of a loop
// is a jump through the function's dispatch table).
func weightSum(tab *[1 << HashBits]byte, idx []uint32) int64 {
	const mask = 1<<HashBits - 1
	var s int64
	i := 0
	for ; i+4 <= len(idx); i += 4 {
		q := idx[i : i+4 : i+4]
		s += hashedWeight(tab[q[0]&mask]) + hashedWeight(tab[q[1]&mask]) + hashedWeight(tab[q[2]&mask]) +
			hashedWeight(tab[q[3]&mask])
	}
	for ; i < len(idx); i++ {
		s += hashedWeight(tab[idx[i]&mask])
	}
	return s
}

// Prob returns the model's probability that f is an injection.
func (m *Model) Prob(f *Features) float64 { return sigmoid(m.Logit(f)) }

func sigmoid(z float64) float64 {
	if z < -40 {
		return 0
	}
	if z > 40 {
		return 1
	}
	return 1 / (1 + math.Exp(-z))
}

// signalValue maps a signal count to its dense feature value (saturating).
func signalValue(c uint16) float32 {
	switch c {
	case 0:
		return 0
	case 1:
		return 0.5
	case 2:
		return 0.75
	}
	return 1
}

// DefaultModel returns the embedded model trained by cmd/train.
func DefaultModel() *Model { return &defaultModel }

// HashedByte is how Model.Hashed stores the int8 weight w: excess-128 (w+128), so that the near-zero weights
// that most buckets hold are bytes around 0x80, not 0x00-0x03 and 0xFC-0xFF. In a TinyGo build the weights are
// part of the data section, which TinyGo's conservative collector scans word by word as roots: stored as plain
// int8, about half of its 16,384 words fell inside the first 64 MiB of heap addresses and pinned whatever block
// lay there (README "TinyGo builds"); excess-128, a word's top byte is ≥ 0x04 unless its weight is ≤ -125.
func HashedByte(w int8) byte { return byte(w) ^ 0x80 }

// hashedWeight is the weight stored as b in Model.Hashed (HashedByte).
func hashedWeight(b byte) int64 { return int64(int8(b ^ 0x80)) }

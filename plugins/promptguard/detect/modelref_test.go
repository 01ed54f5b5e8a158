package detect

import (
	"math"
	"math/rand"
	"testing"
)

// logitRef is the previous Model.Logit (one weight per pass, the window bookkeeping per occurrence): Logit must
// give the same float64 (TestLogitMatchesRef).
func (m *Model) logitRef(f *Features) float64 {
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
			half, left := w/2, w/2
			var blk, prev int64
			have := false
			for _, idx := range f.Hashed {
				v := hashedWeight(h[idx&(1<<HashBits-1)])
				sum += v
				blk += v
				if left--; left == 0 {
					if have {
						best = math.Max(best, float64(prev+blk)/math.Sqrt(float64(w+NormPad)))
					}
					prev, blk, have, left = blk, 0, true, half
				}
			}
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

// TestLogitMatchesRef: Logit equals the reference bit for bit on random bucket lists of every length around the
// window sizes, for the default model and with other windows, and on real texts.
func TestLogitMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, w := range []int{DefaultModel().Window, 0, 2, 6, 64, 127} {
		m := *DefaultModel()
		m.Window = w
		for n := 0; n < 1200; n += 1 + n/50 {
			var f Features
			for i := 0; i < n; i++ {
				f.Hashed = append(f.Hashed, rng.Uint32())
			}
			f.Dense[SigInstructionOverride] = 0.5
			if got, want := m.Logit(&f), m.logitRef(&f); got != want {
				t.Fatalf("window %d, %d occurrences: %v, reference %v", w, n, got, want)
			}
		}
	}
	d := New(Options{})
	for _, s := range []string{attack, chatText(4 << 10), benignText(64 << 10)} {
		f := d.Extract(s, false)
		if got, want := d.model.Logit(f), d.model.logitRef(f); got != want {
			t.Fatalf("%.40q: %v, reference %v", s, got, want)
		}
	}
}

package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
)

// ftParams are the settings of the fastText-style model (experiment: -ft).
type ftParams struct {
	bits, dim, hidden, epochs int
	lr, l2                    float64
	seed                      uint64
}

// ft is a fastText-style model: the hashed n-gram occurrences of a text look up rows of an embedding table,
// which are summed and scaled by 1/sqrt(n+NormPad) (like the logistic model's n-gram part); that vector and
// the dense signals feed one ReLU hidden layer and a logistic output.
type ft struct {
	p   ftParams
	emb []float32 // (1<<bits) × dim
	w1  []float32 // hidden × (dim+NumDense)
	b1  []float32
	w2  []float32
	b2  float32
}

const ftIn = detect.NumDense

// rng is splitmix64: deterministic on every platform.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9E3779B97F4A7C15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (r *rng) float() float32 { return float32(r.next()>>40) / float32(1<<24) }

func newFT(p ftParams) *ft {
	m := &ft{p: p}
	nb := 1 << p.bits
	in := p.dim + ftIn
	m.emb = make([]float32, nb*p.dim)
	m.w1 = make([]float32, p.hidden*in)
	m.b1 = make([]float32, p.hidden)
	m.w2 = make([]float32, p.hidden)
	r := rng(p.seed)
	for i := range m.emb {
		m.emb[i] = (r.float()*2 - 1) * 0.1
	}
	s := float32(math.Sqrt(2 / float64(in)))
	for i := range m.w1 {
		m.w1[i] = (r.float()*2 - 1) * s
	}
	for i := range m.w2 {
		m.w2[i] = (r.float()*2 - 1) * float32(math.Sqrt(1/float64(p.hidden)))
	}
	return m
}

func (m *ft) bucket(x uint32) int { return int(x & (1<<m.p.bits - 1)) }

// forward fills x (input), h (hidden activations) and returns the logit.
func (m *ft) forward(r *record, x, h []float32) float32 {
	d := m.p.dim
	for i := range x {
		x[i] = 0
	}
	if n := len(r.hashed); n > 0 {
		for _, o := range r.hashed {
			e := m.emb[m.bucket(o)*d : m.bucket(o)*d+d]
			for k := range e {
				x[k] += e[k]
			}
		}
		sc := float32(1 / math.Sqrt(float64(n+detect.NormPad)))
		for k := 0; k < d; k++ {
			x[k] *= sc
		}
	}
	z := m.b2
	for i, v := range r.dense {
		if w, ok := fixed[detect.Signal(i)]; ok {
			z += float32(w) * v // hand-set weights stay out of the fit
			v = 0
		}
		x[d+i] = v
	}
	in := d + ftIn
	for j := 0; j < m.p.hidden; j++ {
		a := m.b1[j]
		w := m.w1[j*in : j*in+in]
		for k, v := range x {
			a += w[k] * v
		}
		if a < 0 {
			a = 0
		}
		h[j] = a
		z += m.w2[j] * a
	}
	return z
}

func (m *ft) logit(r *record) float64 {
	x := make([]float32, m.p.dim+ftIn)
	h := make([]float32, m.p.hidden)
	return float64(m.forward(r, x, h))
}

// fitFT trains by per-record SGD in a seeded order with a linearly decaying rate (deterministic).
func fitFT(rs []*record, p ftParams) *ft {
	m := newFT(p)
	d, in := p.dim, p.dim+ftIn
	x := make([]float32, in)
	h := make([]float32, p.hidden)
	gx := make([]float32, in)
	var W float64
	for _, r := range rs {
		W += r.weight
	}
	meanW := W / float64(len(rs))
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	rg := rng(p.seed ^ 0x5bd1e995)
	total := p.epochs * len(rs)
	step := 0
	for ep := 0; ep < p.epochs; ep++ {
		for i := len(order) - 1; i > 0; i-- {
			j := int(rg.next() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, oi := range order {
			r := rs[oi]
			lr := float32(p.lr * (1 - float64(step)/float64(total)))
			step++
			z := m.forward(r, x, h)
			pz := 1 / (1 + math.Exp(-float64(z)))
			g := float32((pz - float64(r.Label)) * r.weight / meanW)
			for k := range gx {
				gx[k] = 0
			}
			for j := 0; j < p.hidden; j++ {
				gh := g * m.w2[j]
				m.w2[j] -= lr * (g*h[j] + float32(p.l2)*m.w2[j])
				if h[j] <= 0 {
					continue
				}
				w := m.w1[j*in : j*in+in]
				for k, v := range x {
					gx[k] += gh * w[k]
					w[k] -= lr * (gh*v + float32(p.l2)*w[k])
				}
				m.b1[j] -= lr * gh
			}
			m.b2 -= lr * g
			if n := len(r.hashed); n > 0 {
				sc := float32(1 / math.Sqrt(float64(n+detect.NormPad)))
				for _, o := range r.hashed {
					e := m.emb[m.bucket(o)*d : m.bucket(o)*d+d]
					for k := range e {
						e[k] -= lr * (gx[k]*sc + float32(p.l2)*e[k])
					}
				}
			}
		}
	}
	return m
}

func logitOf(p float64) float64 {
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}

// ftExperiment scores every record with the fastText-style model (out of fold for trainable records, the
// final model for the rest) and prints the comparison with the logistic model and their combinations.
func ftExperiment(ds *dataset, p ftParams, lrScores map[*record]float64) {
	ftz := map[*record]float64{}
	for k := 0; k < folds; k++ {
		var tr []*record
		for _, r := range ds.fitSet {
			if r.fold != k {
				tr = append(tr, r)
			}
		}
		m := fitFT(tr, p)
		for _, r := range ds.train {
			if r.fold == k {
				ftz[r] = m.logit(r)
			}
		}
	}
	final := fitFT(ds.fitSet, p)
	for _, r := range ds.all {
		if !r.Trainable {
			ftz[r] = final.logit(r)
		}
	}
	variants := []struct {
		name string
		f    func(r *record) float64
	}{
		{"lr", func(r *record) float64 { return lrScores[r] }},
		{"ft", func(r *record) float64 { return sigmoid(ftz[r]) }},
		{"avg", func(r *record) float64 { return sigmoid((logitOf(lrScores[r]) + ftz[r]) / 2) }},
		{"avgU", func(r *record) float64 {
			if r.data {
				return lrScores[r]
			}
			return sigmoid((logitOf(lrScores[r]) + ftz[r]) / 2)
		}},
	}
	fmt.Printf("\nft %+v\n", p)
	for _, v := range variants {
		s := map[*record]float64{}
		for _, r := range ds.all {
			s[r] = v.f(r)
		}
		tu, td := chooseThresholds(ds.train, s)
		summary(v.name, ds.all, s, tu, td)
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// summary prints one line of held-out rates per kind and a few sources.
func summary(name string, rs []*record, s map[*record]float64, tu, td float64) {
	type c struct{ n, hit int }
	g := map[string]*c{}
	add := func(k string, hit bool) {
		x := g[k]
		if x == nil {
			x = &c{}
			g[k] = x
		}
		x.n++
		if hit {
			x.hit++
		}
	}
	for _, r := range rs {
		th := tu
		if r.data {
			th = td
		}
		hit := s[r] >= th
		add(r.Kind, hit)
		src := r.Source
		if i := strings.IndexByte(src, ':'); i > 0 {
			src = src[:i]
		}
		if i := strings.IndexByte(src, '/'); i > 0 {
			src = src[i+1:]
		}
		add(r.Kind+"/"+src, hit)
		if r.Kind == "benign" && r.data {
			add("bdocs", hit)
		}
		if r.Lang != "" && r.Lang != "en" {
			add(r.Kind+"/nonen", hit)
		}
	}
	pct := func(k string) string {
		x := g[k]
		if x == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f", 100*float64(x.hit)/float64(x.n))
	}
	fmt.Printf("%-5s th %.2f/%.2f | dir %s jb %s ind %s | ben %s docs %s hard %s harm %s | TT %s PL %s dirNonEn %s JBB %s BIPIA %s PLind %s garakInd %s\n",
		name, tu, td, pct("direct"), pct("jailbreak"), pct("indirect"), pct("benign"), pct("bdocs"), pct("benign-hard"), pct("harmful-plain"),
		pct("direct/tensor-trust-data"), pct("direct/PurpleLlama"), pct("direct/nonen"), pct("jailbreak/artifacts"), pct("indirect/BIPIA"), pct("indirect/PurpleLlama"), pct("indirect/garak"))
}

package secretscore

import "math"

// Params of the training run.
type Params struct {
	Epochs int     // full-batch gradient steps
	Rate   float64 // step size
	L2     float64 // weight decay
}

// Train fits a logistic regression to xs/ys by full-batch gradient descent from zero weights (deterministic:
// no random start, no data order) with positives and negatives weighted to equal total mass. Every product is
// converted explicitly, which the Go spec makes round, so no architecture fuses a multiply-add (arm64, ppc64 and
// s390x would) and the committed weights are what training writes on every GOARCH.
func Train(xs [][NFeat]float32, ys []bool, p Params) (w [NFeat]float32, b float32) {
	var wd [NFeat]float64
	var bd float64
	np, nn := 0, 0
	for _, y := range ys {
		if y {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return w, b
	}
	wp, wn := 0.5/float64(np), 0.5/float64(nn)
	for ep := 0; ep < p.Epochs; ep++ {
		var g [NFeat]float64
		gb := 0.0
		for i := range xs {
			z := bd
			for k := range wd {
				z += float64(wd[k] * float64(xs[i][k])) // explicit rounding: no fused multiply-add on any GOARCH
			}
			pr := 1 / (1 + math.Exp(-z))
			d, m := pr, wn
			if ys[i] {
				d, m = pr-1, wp
			}
			d *= m
			for k := range g {
				g[k] += float64(d * float64(xs[i][k]))
			}
			gb += d
		}
		for k := range wd {
			wd[k] -= float64(p.Rate * (g[k] + float64(p.L2*wd[k])))
		}
		bd -= p.Rate * gb
	}
	// rounded to 1/1024: small constants that print exactly
	for k := range wd {
		w[k] = float32(math.Round(wd[k]*1024) / 1024)
	}
	b = float32(math.Round(bd*1024) / 1024)
	return w, b
}

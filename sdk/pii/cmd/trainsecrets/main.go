// Command trainsecrets trains the scorer that gates sdk/pii's generic secret candidates (internal/secretscore)
// on the trainable records of ../shared/datasets/secrets.{dev,train}.jsonl and writes
// sdk/pii/internal/secretscore/weights_gen.go. It first reports out-of-fold figures per source: 5 folds by
// sha256 of the record text, a model trained on 4 folds scores the 5th, the threshold is chosen on the pooled
// out-of-fold scores (the highest recall at a false-positive rate on the hard negatives no higher than the
// hand-written rules' own), and the hand-written rules alone (the detectors before the scorer) are reported
// from the same candidates, as is the best operating point at FPR <= 3 %.
// Training is deterministic: the same data and code write the same file.
//
//	go run ./sdk/pii/cmd/trainsecrets [-data ../shared/datasets] [-v] [-n]
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/sdk/pii"
	"github.com/wasmguard/wasmguard/sdk/pii/internal/secretscore"
)

// Training parameters of the shipped scorer.
var params = secretscore.Params{Epochs: 3000, Rate: 2, L2: 0.002}

const folds = 5

type cand struct {
	f     [secretscore.NFeat]float32
	label bool
}

// item is one record: its candidates, whether an ungated detector reports a secret in it, label, fold, source.
type item struct {
	text   string
	cands  []cand
	rule   bool // an ungated (vendor structure) detector reports a secret
	label  bool
	fold   int
	source string
}

func byteOff(s string, cp int) int {
	i := 0
	for k := 0; k < cp && i < len(s); k++ {
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return i
}

func load(dir string) []item {
	var items []item
	sc := pii.New(pii.All(), nil)
	var ms []pii.Match
	for _, file := range []string{"secrets.dev.jsonl", "secrets.train.jsonl"} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			log.Fatal(err)
		}
		r := bufio.NewReader(f)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				var rec struct {
					Text     string `json:"text"`
					Label    int    `json:"label"`
					Entities []struct {
						Start *int `json:"start"`
						End   *int `json:"end"`
					} `json:"entities"`
					Source    string `json:"source"`
					Trainable bool   `json:"trainable"`
				}
				if err := json.Unmarshal(line, &rec); err != nil {
					log.Fatal(err)
				}
				if rec.Trainable {
					it := item{text: rec.Text, label: rec.Label == 1, source: rec.Source}
					if k := strings.IndexByte(it.source, ':'); k > 0 {
						it.source = it.source[:k]
					}
					h := sha256.Sum256([]byte(rec.Text))
					it.fold = int(h[0]) % folds
					type span struct{ s, e int }
					var spans []span
					var got []span
					secretscore.Collect = func(f *[secretscore.NFeat]float32, s, e int) {
						it.cands = append(it.cands, cand{f: *f})
						got = append(got, span{s, e})
					}
					ms = sc.ScanString(rec.Text, ms[:0])
					secretscore.Collect = nil
					for _, m := range ms {
						if m.Secret {
							it.rule = true
						}
					}
					for _, e := range rec.Entities {
						if e.Start != nil && e.End != nil {
							spans = append(spans, span{byteOff(rec.Text, *e.Start), byteOff(rec.Text, *e.End)})
						}
					}
					// a candidate of a positive record is positive when it overlaps a labelled span, or when none
					// does (the span names another part, or there is none)
					any := false
					for k, g := range got {
						for _, sp := range spans {
							if g.s < sp.e && sp.s < g.e {
								it.cands[k].label = it.label
								any = true
							}
						}
					}
					if !any {
						for k := range it.cands {
							it.cands[k].label = it.label
						}
					}
					items = append(items, it)
				}
			}
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return items
}

func trainSet(items []item, skipFold int) (xs [][secretscore.NFeat]float32, ys []bool) {
	for _, it := range items {
		// a record an ungated detector decides teaches the gate nothing
		if it.fold == skipFold || it.rule {
			continue
		}
		for _, c := range it.cands {
			xs = append(xs, c.f)
			ys = append(ys, c.label)
		}
	}
	return xs, ys
}

// handRules: the record as the detectors' hand-written checks alone decide it (the scanner before the scorer).
func handRules(it item) bool {
	if it.rule {
		return true
	}
	for _, c := range it.cands {
		if c.f[secretscore.FRuleAccept] == 1 && c.f[secretscore.FKindVendor] == 0 {
			return true
		}
	}
	return false
}

// predict decides a record from its candidates' scores and the two thresholds.
func predict(it item, scores []float64, tRule, tOther float64) bool {
	if it.rule {
		return true
	}
	for k := range it.cands {
		if float32(scores[k]) >= secretscore.ThresholdFor(&it.cands[k].f, float32(tRule), float32(tOther)) {
			return true
		}
	}
	return false
}

type counts struct{ tp, fn, fp, tn int }

func (c *counts) add(label, pred bool) {
	switch {
	case label && pred:
		c.tp++
	case label:
		c.fn++
	case pred:
		c.fp++
	default:
		c.tn++
	}
}

func (c counts) recall() float64 { return rate(c.tp, c.fn) }
func (c counts) fpr() float64    { return rate(c.fp, c.tn) }

func rate(a, b int) float64 {
	if a+b == 0 {
		return 0
	}
	return float64(a) / float64(a+b)
}

// grid of the thresholds searched (logits, steps of 1/4)
func grid() []float64 {
	var g []float64
	for t := -4.0; t <= 4; t += 0.25 {
		g = append(g, t)
	}
	return g
}

// choose returns the threshold pair with the highest recall at an FPR of at most maxFPR (ties: lower FPR,
// then higher thresholds), and its counts.
func choose(items []item, scores [][]float64, maxFPR float64) (tRule, tOther float64, best counts) {
	found := false
	for _, ta := range grid() {
		for _, tr := range grid() {
			var c counts
			for i, it := range items {
				c.add(it.label, predict(it, scores[i], ta, tr))
			}
			if c.fpr() > maxFPR+1e-12 {
				continue
			}
			if !found || c.recall() > best.recall() || c.recall() == best.recall() && c.fpr() < best.fpr() {
				tRule, tOther, best, found = ta, tr, c, true
			}
		}
	}
	if !found {
		return 4, 4, best
	}
	return tRule, tOther, best
}

// Report holds the out-of-fold figures.
type Report struct {
	TRule, TOther         float64 // the shipped operating point
	Before, OOF           map[string]*counts
	AllB, AllOOF, AtFPR03 counts
	T03Rule, T03Other     float64 // the operating point at FPR <= 3 %
}

// oofScores trains on 4 folds and scores every candidate of the 5th.
func oofScores(items []item) [][]float64 {
	scores := make([][]float64, len(items))
	for f := 0; f < folds; f++ {
		xs, ys := trainSet(items, f)
		w, b := secretscore.Train(xs, ys, params)
		for i, it := range items {
			if it.fold == f {
				for k := range it.cands {
					scores[i] = append(scores[i], float64(secretscore.ScoreWith(&w, b, &it.cands[k].f)))
				}
			}
		}
	}
	return scores
}

// oof reports the hand rules and the scorer out of fold. The shipped thresholds are the pair with the highest
// out-of-fold recall at an out-of-fold FPR no higher than the hand rules' (the scorer must not buy recall
// with false positives); the best pair at FPR <= 3 % is reported beside it.
func oof(items []item, verbose bool) Report {
	scores := oofScores(items)
	rep := Report{Before: map[string]*counts{}, OOF: map[string]*counts{}}
	for _, it := range items {
		rep.AllB.add(it.label, handRules(it))
	}
	rep.TRule, rep.TOther, rep.AllOOF = choose(items, scores, rep.AllB.fpr())
	rep.T03Rule, rep.T03Other, rep.AtFPR03 = choose(items, scores, 0.03)
	for i, it := range items {
		if rep.Before[it.source] == nil {
			rep.Before[it.source], rep.OOF[it.source] = &counts{}, &counts{}
		}
		rep.Before[it.source].add(it.label, handRules(it))
		p := predict(it, scores[i], rep.TRule, rep.TOther)
		rep.OOF[it.source].add(it.label, p)
		if verbose && p != it.label {
			kind := "FN"
			if p {
				kind = "FP"
			}
			best := math.Inf(-1)
			for _, s := range scores[i] {
				best = math.Max(best, s)
			}
			txt := it.text
			if len(txt) > 160 {
				txt = txt[:160]
			}
			fmt.Printf("OOF %s %s rule=%v best %.2f %q\n", kind, it.source, it.rule, best, txt)
		}
	}
	return rep
}

func (r Report) String() string {
	var sb strings.Builder
	var names []string
	for k := range r.OOF {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(&sb, "out of fold (%d folds by sha256 of the text); thresholds %.2f (hand checks accept) / %.2f (others), chosen on the pooled out-of-fold scores\n", folds, r.TRule, r.TOther)
	fmt.Fprintf(&sb, "%-28s %-32s %s\n", "source", "hand rules: recall  FPR", "with scorer: recall  FPR")
	line := func(name string, b, o counts) {
		fmt.Fprintf(&sb, "%-28s %.3f (%3d/%3d) %.3f (%2d/%3d)   %.3f (%3d/%3d) %.3f (%2d/%3d)\n", name,
			b.recall(), b.tp, b.tp+b.fn, b.fpr(), b.fp, b.fp+b.tn, o.recall(), o.tp, o.tp+o.fn, o.fpr(), o.fp, o.fp+o.tn)
	}
	for _, k := range names {
		line(k, *r.Before[k], *r.OOF[k])
	}
	line("all", r.AllB, r.AllOOF)
	a := r.AtFPR03
	fmt.Fprintf(&sb, "best at FPR <= 3 %%: thresholds %.2f / %.2f, recall %.3f (%d/%d), FPR %.3f (%d/%d)\n", r.T03Rule, r.T03Other,
		a.recall(), a.tp, a.tp+a.fn, a.fpr(), a.fp, a.fp+a.tn)
	return sb.String()
}

// inputHash identifies the training input: every candidate's features and label, and the parameters.
func inputHash(items []item, p secretscore.Params) string {
	h := sha256.New()
	var buf [4]byte
	for _, it := range items {
		for _, c := range it.cands {
			for _, v := range c.f {
				binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
				h.Write(buf[:])
			}
			if c.label {
				h.Write([]byte{1})
			} else {
				h.Write([]byte{0})
			}
		}
	}
	fmt.Fprintf(h, "%d %g %g %d", p.Epochs, p.Rate, p.L2, folds)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func render(w [secretscore.NFeat]float32, b float32, tRule, tOther float64, hash string) []byte {
	var sb strings.Builder
	sb.WriteString("// Code generated by go run ./sdk/pii/cmd/trainsecrets; DO NOT EDIT.\n\npackage secretscore\n\n")
	fmt.Fprintf(&sb, "// TrainingInputHash is the sha256 of the training candidates and parameters.\nconst TrainingInputHash = %q\n\n", hash)
	fmt.Fprintf(&sb, "// ThresholdRule and ThresholdOther gate the logit of a candidate the hand-written checks accept and of any\n// other; both were chosen out of fold.\nconst (\n\tThresholdRule  = float32(%g)\n\tThresholdOther = float32(%g)\n)\n\n", float32(tRule), float32(tOther))
	fmt.Fprintf(&sb, "// Bias of the logistic regression.\nconst Bias = float32(%g)\n\n", b)
	sb.WriteString("// Weights of the logistic regression, by feature index.\nvar Weights = [NFeat]float32{\n")
	for k, v := range w {
		fmt.Fprintf(&sb, "\t%g, // %s\n", v, secretscore.Names[k])
	}
	sb.WriteString("}\n")
	src, err := format.Source([]byte(sb.String()))
	if err != nil {
		log.Fatal(err)
	}
	return src
}

// build runs the whole training: out-of-fold report, then the shipped model on every candidate with the
// out-of-fold threshold, rendered.
func build(items []item, verbose bool) (Report, []byte) {
	rep := oof(items, verbose)
	xs, ys := trainSet(items, -1)
	w, b := secretscore.Train(xs, ys, params)
	return rep, render(w, b, rep.TRule, rep.TOther, inputHash(items, params))
}

func main() {
	data := flag.String("data", filepath.Join("..", "shared", "datasets"), "datasets directory")
	verbose := flag.Bool("v", false, "print the out-of-fold errors")
	dry := flag.Bool("n", false, "report only, do not write weights_gen.go")
	flag.Parse()
	items := load(*data)
	nc := 0
	for _, it := range items {
		nc += len(it.cands)
	}
	fmt.Printf("%d trainable records, %d gated candidates\n", len(items), nc)
	rep, src := build(items, *verbose)
	fmt.Print(rep)
	if *dry {
		return
	}
	out := filepath.Join("sdk", "pii", "internal", "secretscore", "weights_gen.go")
	if err := os.WriteFile(out, src, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", out)
}

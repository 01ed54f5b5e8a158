// Command trainner trains sdk/pii's NER tagger on the trainable PERSON/ADDRESS/LOCATION/ORGANIZATION-labelled
// records of ../shared/datasets/pii.{dev,train}.jsonl and writes sdk/pii/internal/ner/model_gen.go. With -eval
// it first reports out-of-fold figures: k-fold over both files, folds grouped by generator template (records of
// one presidio-research template never straddle folds, as they never straddle the dev/holdout split), per type
// and per source, exact span and overlap, and how often the model trained on everything finds something in the
// ordinary prompts and answers no model trains on (TestNERBenignPrompts's rate). Training is deterministic: the
// same data and code write the same file.
//
//	go run ./sdk/pii/cmd/trainner [-eval] [-data ../shared/datasets]
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
	"github.com/wasmguard/wasmguard/sdk/pii/internal/nertrain"
)

// The training data, folds and parameters are internal/nertrain's (shared with sdk/pii's quality tests).
var params = nertrain.Params

const folds = nertrain.Folds

type item = nertrain.Item

func load(dir string) []item {
	items, err := nertrain.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	return items
}

type prf struct{ tp, fp, fn int }

func (c prf) p() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}
func (c prf) r() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}
func (c prf) f1() float64 {
	p, r := c.p(), c.r()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// score compares predicted spans (byte offsets) to gold: exactly (one to one, same bounds) and as make eval
// scores piimask (a gold span is found when a prediction of its type overlaps it; a prediction that overlaps no
// gold span of its type is a false positive).
func score(pred, gold []ner.Gold, exact, overlap *[ner.NumTypes]prf) {
	used := make([]bool, len(pred))
	for _, g := range gold {
		foundE, foundO := false, false
		for k, p := range pred {
			if p.Type != g.Type {
				continue
			}
			if !used[k] && !foundE && p.Start == g.Start && p.End == g.End {
				used[k], foundE = true, true
			}
			if p.Start < g.End && g.Start < p.End {
				foundO = true
			}
		}
		for _, x := range []struct {
			c     *[ner.NumTypes]prf
			found bool
		}{{exact, foundE}, {overlap, foundO}} {
			if x.found {
				x.c[g.Type].tp++
			} else {
				x.c[g.Type].fn++
			}
		}
	}
	for k, p := range pred {
		if !used[k] {
			exact[p.Type].fp++
		}
		hit := false
		for _, g := range gold {
			if g.Type == p.Type && p.Start < g.End && g.Start < p.End {
				hit = true
			}
		}
		if !hit {
			overlap[p.Type].fp++
		}
	}
}

// Predict returns the spans the model finds in text (byte offsets).
func Predict(m *ner.Model, text []byte, sc *ner.Scratch) []ner.Gold {
	sc.Toks = ner.Tokenize(text, sc.Toks[:0])
	m.Tag(text, sc)
	var out []ner.Gold
	for _, s := range sc.Spans {
		out = append(out, ner.Gold{Type: s.Type, Start: int(sc.Toks[s.From].Start), End: int(sc.Toks[s.To-1].End)})
	}
	return out
}

type report struct {
	exact, overlap map[string]*[ner.NumTypes]prf
	negTexts       int
	negFired       [ner.NumTypes]int // ordinary texts with a finding of the type
}

func oof(items []item, p ner.Params, verbose bool) report {
	rep := report{exact: map[string]*[ner.NumTypes]prf{}, overlap: map[string]*[ner.NumTypes]prf{}}
	get := func(m map[string]*[ner.NumTypes]prf, k string) *[ner.NumTypes]prf {
		if m[k] == nil {
			m[k] = new([ner.NumTypes]prf)
		}
		return m[k]
	}
	sc := new(ner.Scratch)
	for f := 0; f < folds; f++ {
		m := nertrain.TrainFold(items, p, f)
		for _, it := range items {
			if it.Fold != f {
				continue
			}
			pred := Predict(m, it.Ex.Text, sc)
			if it.Neg {
				rep.negTexts++
				var fired [ner.NumTypes]bool
				for _, p := range pred {
					fired[p.Type] = true
					if verbose {
						fmt.Printf("NEG %s %q\n", ner.TypeNames[p.Type], it.Ex.Text[p.Start:p.End])
					}
				}
				for t, x := range fired {
					if x {
						rep.negFired[t]++
					}
				}
				continue
			}
			for _, k := range []string{"all", it.Source, it.File} {
				score(pred, it.Gold, get(rep.exact, k), get(rep.overlap, k))
			}
			if verbose {
				var e, o [ner.NumTypes]prf
				score(pred, it.Gold, &e, &o)
				for t := range e {
					if e[t].fp+e[t].fn > 0 {
						fmt.Printf("ERR %s gold=%s pred=%s in %q\n", ner.TypeNames[t], spans(it.Ex.Text, it.Gold, t), spans(it.Ex.Text, pred, t), it.Ex.Text)
					}
				}
			}
		}
	}
	return rep
}

func spans(text []byte, g []ner.Gold, t int) string {
	var s []string
	for _, x := range g {
		if x.Type == t {
			s = append(s, fmt.Sprintf("%q", text[x.Start:x.End]))
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// heldOut returns the share of the ordinary prompts and answers never trained on (label 0, trainable false, of
// injection.dev.jsonl and output.dev.jsonl) in which m finds an entity, per type: TestNERBenignPrompts's figure
// without the scanner around the tagger.
func heldOut(dir string, m *ner.Model, verbose bool) (rate [ner.NumTypes]float64, n int) {
	var fired [ner.NumTypes]int
	sc := new(ner.Scratch)
	for _, name := range []string{"injection.dev.jsonl", "output.dev.jsonl"} {
		texts, err := nertrain.HeldOutTexts(filepath.Join(dir, name))
		if err != nil {
			log.Fatal(err)
		}
		for _, text := range texts {
			n++
			var f [ner.NumTypes]bool
			for _, g := range Predict(m, []byte(text), sc) {
				f[g.Type] = true
				if verbose {
					fmt.Printf("HELDOUT %s %q\n", ner.TypeNames[g.Type], text[g.Start:g.End])
				}
			}
			for t, x := range f {
				if x {
					fired[t]++
				}
			}
		}
	}
	for t := range rate {
		rate[t] = float64(fired[t]) / float64(max(n, 1))
	}
	return rate, n
}

func (r report) negRate(t int) float64 { return float64(r.negFired[t]) / float64(max(r.negTexts, 1)) }

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "ordinary prompts and answers (%d, labelled 0, trainable): texts with a finding", r.negTexts)
	for t := 0; t < ner.NumTypes; t++ {
		fmt.Fprintf(w, "  %s %.1f%%", ner.TypeNames[t], 100*r.negRate(t))
	}
	fmt.Fprintln(w)
	keys := make([]string, 0, len(r.exact))
	for k := range r.exact {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s\n", k)
		for t := 0; t < ner.NumTypes; t++ {
			e, o := r.exact[k][t], r.overlap[k][t]
			if e.tp+e.fn+e.fp == 0 {
				continue
			}
			fmt.Fprintf(w, "  %-13s n=%4d  exact P %.3f R %.3f F1 %.3f | overlap P %.3f R %.3f F1 %.3f\n", ner.TypeNames[t], e.tp+e.fn, e.p(), e.r(), e.f1(), o.p(), o.r(), o.f1())
		}
	}
}

func inputHash(items []item, p ner.Params) string { return nertrain.InputHash(items, p) }

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func trainAll(items []item, p ner.Params) *ner.Model { return nertrain.TrainAll(items, p) }

// render writes the model file.
func render(m *ner.Model, inHash string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./sdk/pii/cmd/trainner; DO NOT EDIT.\n\npackage ner\n\n")
	b.WriteString("// Training fingerprints, checked by cmd/trainner's test: the sha256 of the training input (parameters,\n")
	b.WriteString("// texts, folds and gold tags) and of the int8 weights.\n")
	fmt.Fprintf(&b, "const (\n\tTrainingInputHash = %q\n\tWeightsHash = %q\n)\n\n", inHash, sha(m.Weights))
	fmt.Fprintf(&b, "// DefaultModel is the shipped tagger (%d rows x %d classes, int8).\nvar DefaultModel = &Model{Bits: %d, Scale: %v, Margin: %d, Weights: modelWeights}\n\n", 1<<m.Bits, ner.NumClasses, m.Bits, m.Scale, m.Margin)
	// The weights are a string constant of the raw bytes, not an encoding decoded by a package initialiser:
	// TinyGo runs initialisers at compile time in its interpreter, where decoding 147 KiB of base64 took minutes
	// (and timed out the build on a loaded machine); a constant is data in the module, with no code at start.
	b.WriteString("// modelWeights is the int8 weights, row by row.\nconst modelWeights = \"\" +\n")
	w := m.Weights
	for len(w) > 0 {
		n := min(len(w), 48)
		fmt.Fprintf(&b, "\t%q", w[:n])
		w = w[n:]
		if len(w) > 0 {
			b.WriteString(" +")
		}
		b.WriteString("\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	return src
}

func main() {
	dir := flag.String("data", "../shared/datasets", "datasets folder")
	out := flag.String("o", "sdk/pii/internal/ner/model_gen.go", "output file")
	eval := flag.Bool("eval", false, "report out-of-fold figures first")
	verbose := flag.Bool("v", false, "print every out-of-fold error")
	bits := flag.Uint("bits", params.Bits, "log2 feature rows (experiments; the shipped value is the default)")
	epochs := flag.Int("epochs", params.Epochs, "epochs (experiments)")
	seed := flag.Uint64("seed", params.Seed, "shuffle seed (experiments)")
	bags := flag.Int("bags", params.Bags, "perceptrons averaged (experiments)")
	drop := flag.Uint("drop", uint(params.Drop), "feature dropout in 1/256ths (experiments)")
	margin := flag.Float64("margin", params.Margin, "margin of B- classes over O (experiments)")
	tag := flag.String("tag", "", "print what the shipped model finds in this text, and exit")
	flag.Parse()
	if *tag != "" {
		for _, g := range Predict(ner.DefaultModel, []byte(*tag), new(ner.Scratch)) {
			fmt.Printf("%s %q\n", ner.TypeNames[g.Type], (*tag)[g.Start:g.End])
		}
		return
	}
	p := params
	p.Bits, p.Epochs, p.Seed, p.Bags = *bits, *epochs, *seed, *bags
	p.Drop, p.Margin = uint32(*drop), *margin
	items := load(*dir)
	log.Printf("%d NER-labelled trainable records and ordinary texts", len(items))
	if *eval {
		oof(items, p, *verbose).print(os.Stdout)
	}
	if *out == "" && !*eval {
		return
	}
	m := trainAll(items, p)
	if *eval {
		rate, n := heldOut(*dir, m, *verbose)
		fmt.Printf("ordinary prompts and answers never trained on (%d), model trained on all: texts with a finding", n)
		for t := range rate {
			fmt.Printf("  %s %.1f%%", ner.TypeNames[t], 100*rate[t])
		}
		fmt.Println()
	}
	if *out == "" {
		return
	}
	if err := os.WriteFile(*out, render(m, inputHash(items, p)), 0o644); err != nil {
		log.Fatal(err)
	}
	nz := 0
	for i := 0; i < len(m.Weights); i++ {
		if m.Weights[i] != 0 {
			nz++
		}
	}
	log.Printf("wrote %s: %d weights, %d non-zero, scale %g", *out, len(m.Weights), nz, m.Scale)
}

package pii

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
	"github.com/wasmguard/wasmguard/sdk/pii/internal/nertrain"
)

// evalSource groups the records of pii.*.jsonl by where they come from: the three presidio-research
// generated files, and presidio's recogniser tests.
func evalSource(src string) string {
	repo, file, _ := strings.Cut(src, ":")
	if repo == "microsoft/presidio-research" {
		return strings.TrimSuffix(filepath.Base(file), ".json")
	}
	if repo == "microsoft/presidio" {
		return "presidio_tests"
	}
	return repo
}

var birthWordRE = regexp.MustCompile(`(?i)(born|birth|dob)`)

// TestQualityPIIBySource reports every labelled type of pii.dev.jsonl and pii.train.jsonl per source (and per
// file), scored as make eval scores piimask: a labelled span is found when a finding of its type overlaps it,
// a finding that overlaps no labelled span of its type is a false positive; findings of types a record does not
// list in labelled_types are not scored. Every built-in type is on (AGE, LOCATION and ORGANIZATION included).
// The learned types are out of fold: a record that trains the tagger is scanned with the model trained on the
// other folds (internal/nertrain: cmd/trainner's folds and parameters), every other record with the shipped
// model, which never saw it. DATE_OF_BIRTH findings are scored against the DATE_TIME labels (the datasets'
// label of every date); "DATE_TIME (birth)" is the recall of those after born/birth/DOB. The rules of the other
// types were written on dev (and on train where plugins/piimask/README.md says so): for them dev is in sample.
// PIIMASK_EVAL_OUT=file writes the table as Markdown (make eval FILTER=piimask: dist/eval/piimask.by_type.md).
func TestQualityPIIBySource(t *testing.T) {
	dir := filepath.Dir(datasetPath(t, "pii.dev.jsonl"))
	items, err := nertrain.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	models := make([]*ner.Model, nertrain.Folds)
	for f := range models {
		models[f] = nertrain.TrainFold(items, nertrain.Params, f)
	}
	defer func() { nerModel = ner.DefaultModel }()
	s := New(All()|NERTypes(), nil)
	type key struct{ group, ty string }
	counts := map[key]*prf{}
	get := func(g, ty string) *prf {
		k := key{g, ty}
		if counts[k] == nil {
			counts[k] = &prf{}
		}
		return counts[k]
	}
	groups := map[string]int{}
	types := map[string]bool{}
	verbose := os.Getenv("PIIMASK_EVAL_VERBOSE") != ""
	var missed []string
	var ms []Match
	for _, file := range []string{"pii.dev.jsonl", "pii.train.jsonl"} {
		readJSONL(t, filepath.Join(dir, file), func(line []byte) {
			var r nertrain.Record
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			nerModel = ner.DefaultModel
			if r.Trains() {
				nerModel = models[r.Fold()]
			}
			var labelled map[string]bool // nil: every type is labelled
			if len(r.LabelledTypes) > 0 && r.LabelledTypes[0] == '[' {
				var l []string
				_ = json.Unmarshal(r.LabelledTypes, &l)
				labelled = map[string]bool{}
				for _, x := range l {
					labelled[x] = true
				}
			}
			type span struct {
				ty         string
				start, end int
			}
			var pred []span
			ms = s.ScanString(r.Text, ms[:0])
			for _, m := range ms {
				name := m.Name()
				if m.Type == DateOfBirth {
					name = "DATE_TIME"
				}
				if m.Secret || labelled != nil && !labelled[name] {
					continue
				}
				pred = append(pred, span{name, cpOffset(r.Text, m.Start), cpOffset(r.Text, m.End)})
			}
			src := evalSource(r.Source)
			gs := []string{"all", src, strings.TrimSuffix(file, ".jsonl")}
			for _, g := range gs {
				groups[g]++
			}
			for _, e := range r.Entities {
				types[e.Type] = true
				found := false
				for _, p := range pred {
					if p.ty == e.Type && p.start < e.End && e.Start < p.end {
						found = true
					}
				}
				birth := e.Type == "DATE_TIME" && birthWordRE.MatchString(string([]rune(r.Text)[max(0, e.Start-40):e.Start]))
				for _, g := range gs {
					c := get(g, e.Type)
					cb := get(g, "DATE_TIME (birth)")
					if found {
						c.tp++
						if birth {
							cb.tp++
						}
					} else {
						c.fn++
						if birth {
							cb.fn++
						}
					}
				}
				if !found && e.Type != "DATE_TIME" || !found && birth {
					missed = append(missed, fmt.Sprintf("%s %s %q in %q", src, e.Type, string([]rune(r.Text)[e.Start:e.End]), clip(r.Text, e.Start, e.End)))
				}
			}
			for _, p := range pred {
				types[p.ty] = true
				hit := false
				for _, e := range r.Entities {
					if p.ty == e.Type && p.start < e.End && e.Start < p.end {
						hit = true
					}
				}
				if !hit {
					for _, g := range gs {
						get(g, p.ty).fp++
					}
					if verbose {
						fmt.Printf("FP %s %s %q in %q\n", src, p.ty, string([]rune(r.Text)[p.start:p.end]), clip(r.Text, p.start, p.end))
					}
				}
			}
		})
	}
	if verbose {
		for _, m := range missed {
			fmt.Println("FN", m)
		}
	}
	nerModel = ner.DefaultModel

	// ordinary prompts and answers (label 0 of injection/output dev+train): texts with a finding, per type; the
	// tagger out of fold for the texts it trains on
	negTexts, negFired := 0, map[string]int{}
	for _, file := range []string{"injection.dev.jsonl", "injection.train.jsonl", "output.dev.jsonl", "output.train.jsonl"} {
		readJSONL(t, filepath.Join(dir, file), func(line []byte) {
			var r struct {
				Text      string `json:"text"`
				Label     int    `json:"label"`
				Trainable bool   `json:"trainable"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			if r.Label != 0 {
				return
			}
			nerModel = ner.DefaultModel
			if r.Trainable {
				nerModel = models[(&nertrain.Record{Text: r.Text}).Fold()]
			}
			negTexts++
			fired := map[string]bool{}
			for _, m := range s.ScanString(r.Text, ms[:0]) {
				fired[m.Name()] = true
			}
			for ty := range fired {
				negFired[ty]++
			}
		})
	}
	nerModel = ner.DefaultModel

	var gnames []string
	for g := range groups {
		if g != "all" {
			gnames = append(gnames, g)
		}
	}
	sort.Slice(gnames, func(i, j int) bool { // sources, then files
		fi, fj := strings.HasPrefix(gnames[i], "pii."), strings.HasPrefix(gnames[j], "pii.")
		if fi != fj {
			return fj
		}
		return gnames[i] < gnames[j]
	})
	var tnames []string
	for ty := range types {
		tnames = append(tnames, ty)
	}
	tnames = append(tnames, "DATE_TIME (birth)")
	order := func(ty string) int {
		switch {
		case ty == "PERSON" || ty == "ADDRESS" || ty == "LOCATION" || ty == "ORGANIZATION":
			return 1
		case ty == "AGE" || strings.HasPrefix(ty, "DATE_TIME"):
			return 2
		}
		if _, ok := ParseType(ty); ok {
			return 0
		}
		return 3
	}
	sort.Slice(tnames, func(i, j int) bool {
		if a, b := order(tnames[i]), order(tnames[j]); a != b {
			return a < b
		}
		return tnames[i] < tnames[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "| type | n | precision | recall | F1 |")
	for _, g := range gnames {
		fmt.Fprintf(&b, " %s (n=%d) |", g, groups[g])
	}
	fmt.Fprintf(&b, " ordinary prompts with a finding (of %d) |\n|---|---:|---:|---:|---:|", negTexts)
	for range gnames {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	f1 := func(c *prf) string {
		if c == nil || c.tp+c.fn+c.fp == 0 {
			return "–"
		}
		if c.tp+c.fn == 0 {
			return fmt.Sprintf("fp %d", c.fp)
		}
		return fmt.Sprintf("%.3f", c.f1())
	}
	for _, ty := range tnames {
		c := counts[key{"all", ty}]
		if c == nil {
			continue
		}
		name := ty
		if ty == "DATE_TIME" {
			name = "DATE_TIME (DATE_OF_BIRTH findings)"
		}
		p := "–"
		if c.tp+c.fp > 0 && ty != "DATE_TIME (birth)" {
			p = fmt.Sprintf("%.3f", c.p())
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %.3f | **%s** |", name, c.tp+c.fn, p, c.r(), f1(c))
		for _, g := range gnames {
			fmt.Fprintf(&b, " %s |", f1(counts[key{g, ty}]))
		}
		neg := ty
		if strings.HasPrefix(ty, "DATE_TIME") {
			neg = "DATE_OF_BIRTH"
		}
		if _, ok := ParseType(neg); ok && ty != "DATE_TIME (birth)" {
			fmt.Fprintf(&b, " %.1f %% (%d) |\n", 100*float64(negFired[neg])/float64(negTexts), negFired[neg])
		} else {
			b.WriteString(" |\n")
		}
	}
	t.Logf("pii dev+train, per type and source (F1, overlap; learned types out of fold):\n%s", b.String())
	if out := os.Getenv("PIIMASK_EVAL_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Floors: the README figures; a regression fails the test.
	floors := map[string]float64{"EMAIL": 0.97, "CREDIT_CARD": 0.97, "IBAN": 0.97, "IP_ADDRESS": 0.97, "PHONE": 0.95,
		"PERSON": 0.90, "ADDRESS": 0.91, "LOCATION": 0.81, "ORGANIZATION": 0.79, "AGE": 0.85}
	for ty, min := range floors {
		if f := counts[key{"all", ty}].f1(); f < min {
			t.Errorf("%s: F1 %.3f below floor %.2f", ty, f, min)
		}
	}
	if c := counts[key{"all", "DATE_TIME"}]; c.p() < 0.97 {
		t.Errorf("DATE_OF_BIRTH: precision against DATE_TIME %.3f below 0.97", c.p())
	}
	if c := counts[key{"all", "DATE_TIME (birth)"}]; c.r() < 0.95 {
		t.Errorf("DATE_OF_BIRTH: recall of dates after born/birth/DOB %.3f below 0.95", c.r())
	}
}

package pii

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/hostsim"
)

// The quality tests measure the scanner on the shared dev datasets (offsets in code points) and fail when a
// figure drops below the floor recorded in the plugin README. Records are split deterministically in two
// halves by sha256 of the text: rules were developed looking only at errors of the "tune" half; the "held"
// half is reported separately so the figures show how the rules generalise.

func datasetPath(t *testing.T, name string) string {
	t.Helper()
	dir := hostsim.RepoRoot()
	if dir == "" {
		t.Fatal("repo root (go.mod) not found")
	}
	p := filepath.Join(dir, "..", "shared", "datasets", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("HOSTSIM_REQUIRE_WASM") != "" {
			t.Fatalf("dataset %s missing: %v", p, err)
		}
		t.Skipf("dataset %s missing", p)
	}
	return p
}

func readJSONL(t *testing.T, path string, fn func(line []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func half(text string) string {
	h := sha256.Sum256([]byte(text))
	if h[0]&1 == 0 {
		return "tune"
	}
	return "held"
}

// cpOffsets converts byte offsets to code-point offsets.
func cpOffset(text string, b int) int { return utf8.RuneCountInString(text[:b]) }

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

type piiRecord struct {
	Text     string `json:"text"`
	Entities []struct {
		Type  string `json:"type"`
		Start int    `json:"start"`
		End   int    `json:"end"`
		Value string `json:"value"`
	} `json:"entities"`
	LabelledTypes json.RawMessage `json:"labelled_types"`
	Source        string          `json:"source"`
}

// evalPII returns per-type counts keyed "half/TYPE" for exact and overlap matching.
func evalPII(t *testing.T, verbose bool, file string) (exact, overlap map[string]*prf) {
	s := New(All(), nil)
	supported := map[string]bool{}
	for _, ty := range AllTypes() {
		supported[ty.String()] = true
	}
	supported["DATE_TIME"] = true // DATE_OF_BIRTH findings are scored against the DATE_TIME labels
	exact, overlap = map[string]*prf{}, map[string]*prf{}
	get := func(m map[string]*prf, k string) *prf {
		if m[k] == nil {
			m[k] = &prf{}
		}
		return m[k]
	}
	var ms []Match
	readJSONL(t, datasetPath(t, file), func(line []byte) {
		var r piiRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		var labelled map[string]bool // nil = all types labelled
		if len(r.LabelledTypes) > 0 && r.LabelledTypes[0] == '[' {
			var l []string
			_ = json.Unmarshal(r.LabelledTypes, &l)
			labelled = map[string]bool{}
			for _, x := range l {
				labelled[x] = true
			}
		}
		h := half(r.Text)
		ms = s.ScanString(r.Text, ms[:0])
		type span struct {
			ty         string
			start, end int
		}
		var pred []span
		for _, m := range ms {
			name := m.Name()
			if m.Type == DateOfBirth {
				name = "DATE_TIME" // the datasets' label of every date
			}
			if labelled != nil && !labelled[name] {
				continue
			}
			if m.Type.IsSecret() {
				continue // secrets are measured on secrets.dev.jsonl
			}
			pred = append(pred, span{name, cpOffset(r.Text, m.Start), cpOffset(r.Text, m.End)})
		}
		usedE := make([]bool, len(pred))
		usedO := make([]bool, len(pred))
		for _, g := range r.Entities {
			if !supported[g.Type] {
				continue
			}
			foundE, foundO := false, false
			for k, p := range pred {
				if p.ty != g.Type {
					continue
				}
				if !usedE[k] && p.start == g.Start && p.end == g.End {
					usedE[k], foundE = true, true
				}
				if !usedO[k] && p.start < g.End && g.Start < p.end {
					usedO[k], foundO = true, true
				}
			}
			for mi, mm := range []map[string]*prf{exact, overlap} {
				found := foundE
				if mi == 1 {
					found = foundO
				}
				c := get(mm, h+"/"+g.Type)
				if found {
					c.tp++
				} else {
					c.fn++
					if verbose && mi == 0 && h == "tune" {
						fmt.Printf("FN %s %q in %q\n", g.Type, g.Value, clip(r.Text, g.Start, g.End))
					}
				}
			}
		}
		for k, p := range pred {
			if !usedE[k] {
				get(exact, h+"/"+p.ty).fp++
				if verbose && h == "tune" {
					fmt.Printf("FP %s %q in %q\n", p.ty, string([]rune(r.Text)[p.start:p.end]), clip(r.Text, p.start, p.end))
				}
			}
			if !usedO[k] {
				get(overlap, h+"/"+p.ty).fp++
			}
		}
	})
	return exact, overlap
}

func clip(text string, start, end int) string {
	rs := []rune(text)
	a, b := start-30, end+30
	if a < 0 {
		a = 0
	}
	if b > len(rs) {
		b = len(rs)
	}
	return string(rs[a:b])
}

func sum(m map[string]*prf, ty string, halves ...string) prf {
	var c prf
	for _, h := range halves {
		if x := m[h+"/"+ty]; x != nil {
			c.tp += x.tp
			c.fp += x.fp
			c.fn += x.fn
		}
	}
	return c
}

func TestQualityPII(t *testing.T) {
	exact, overlap := evalPII(t, os.Getenv("PIIMASK_EVAL_VERBOSE") != "", "pii.dev.jsonl")
	types := map[string]bool{}
	for k := range exact {
		types[k[strings.IndexByte(k, '/')+1:]] = true
	}
	var names []string
	for k := range types {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("%-28s %5s %5s %5s | %6s %6s %6s | %6s %6s (held half) | overlap F1", "type", "tp", "fp", "fn", "P", "R", "F1", "R", "F1")
	for _, ty := range names {
		c := sum(exact, ty, "tune", "held")
		hc := sum(exact, ty, "held")
		o := sum(overlap, ty, "tune", "held")
		t.Logf("%-28s %5d %5d %5d | %6.3f %6.3f %6.3f | %6.3f %6.3f | %6.3f", ty, c.tp, c.fp, c.fn, c.p(), c.r(), c.f1(), hc.r(), hc.f1(), o.f1())
	}
	// Floors (exact spans, both halves): the figures in README.md; a regression fails the test.
	floors := map[string]float64{"EMAIL": 0.97, "CREDIT_CARD": 0.97, "IBAN": 0.97, "IP_ADDRESS": 0.97, "US_SSN": 0.90, "PHONE": 0.97}
	for ty, min := range floors {
		if f := sum(exact, ty, "tune", "held").f1(); f < min {
			t.Errorf("%s: F1 %.3f below floor %.2f", ty, f, min)
		}
	}
}

// TestQualityPIITrain measures the structured types on pii.train.jsonl (exact spans). The rules were
// written on the dev file; the IPv6 boundary and street-number rules of #13 were made after reading the
// train errors of those two types, so for IP_ADDRESS and PHONE this file is no longer out of fold.
func TestQualityPIITrain(t *testing.T) {
	exact, _ := evalPII(t, os.Getenv("PIIMASK_EVAL_VERBOSE") != "", "pii.train.jsonl")
	floors := map[string]float64{"EMAIL": 0.97, "CREDIT_CARD": 0.97, "IBAN": 0.95, "IP_ADDRESS": 0.97, "PHONE": 0.95}
	for _, ty := range []string{"EMAIL", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "PHONE"} {
		c := sum(exact, ty, "tune", "held")
		t.Logf("%-12s tp %4d fp %3d fn %3d | P %.3f R %.3f F1 %.3f", ty, c.tp, c.fp, c.fn, c.p(), c.r(), c.f1())
		if f := c.f1(); f < floors[ty] {
			t.Errorf("%s: train F1 %.3f below floor %.2f", ty, f, floors[ty])
		}
	}
}

func TestQualityPhoneValues(t *testing.T) {
	s := New(All(), nil)
	type key struct{ format, ctx string }
	got := map[key]*prf{}
	var ms []Match
	readJSONL(t, datasetPath(t, "pii_values.dev.jsonl"), func(line []byte) {
		var r struct {
			Value, Format, Region string
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		for _, ctx := range []string{"", "Phone: "} {
			text := ctx + r.Value
			ms = s.ScanString(text, ms[:0])
			ok := false
			for _, m := range ms {
				if m.Type == Phone && m.Start == len(ctx) && m.End == len(text) {
					ok = true
				}
			}
			k := key{r.Format, ctx}
			if got[k] == nil {
				got[k] = &prf{}
			}
			if ok {
				got[k].tp++
			} else {
				got[k].fn++
				if os.Getenv("PIIMASK_EVAL_VERBOSE") != "" && half(r.Value) == "tune" {
					fmt.Printf("FN phone %s %s ctx=%q %q\n", r.Region, r.Format, ctx, r.Value)
				}
			}
		}
	})
	for _, f := range []string{"E164", "INTERNATIONAL", "NATIONAL"} {
		t.Logf("PHONE %-13s recall alone %.3f, after \"Phone: \" %.3f (n=%d)", f, got[key{f, ""}].r(), got[key{f, "Phone: "}].r(), got[key{f, ""}].tp+got[key{f, ""}].fn)
	}
	if r := got[key{"E164", ""}].r(); r < 0.95 {
		t.Errorf("E164 recall %.3f below 0.95", r)
	}
	if r := got[key{"INTERNATIONAL", ""}].r(); r < 0.90 {
		t.Errorf("INTERNATIONAL recall %.3f below 0.90", r)
	}
}

// TestQualitySecrets measures secrets detection on every labelled record there is outside the hidden
// holdout (secrets.dev.jsonl and secrets.train.jsonl): recall on positives and the false-positive rate on
// the hard negatives, per source, of the shipped scanner. Its generic candidates are gated by a scorer
// trained on these records, so these figures are in fold; the out-of-fold ones (5 folds, thresholds chosen
// out of fold) are TestOutOfFold's in sdk/pii/cmd/trainsecrets, from the same candidates. A record counts as
// detected when any secret finding is reported in it.
func TestQualitySecrets(t *testing.T) {
	s := New(All(), nil)
	type counts struct{ tp, fn, fp, tn int }
	bySource := map[string]*counts{}
	var all counts
	verbose := os.Getenv("PIIMASK_EVAL_VERBOSE") != ""
	var ms []Match
	for _, file := range []string{"secrets.dev.jsonl", "secrets.train.jsonl"} {
		readJSONL(t, datasetPath(t, file), func(line []byte) {
			var r struct {
				Text   string `json:"text"`
				Label  int    `json:"label"`
				Rule   string `json:"rule"`
				Scope  string `json:"negative_scope"`
				Source string `json:"source"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			src := r.Source
			if k := strings.IndexByte(src, ':'); k > 0 {
				src = src[:k]
			}
			c := bySource[src]
			if c == nil {
				c = &counts{}
				bySource[src] = c
			}
			ms = s.ScanString(r.Text, ms[:0])
			var hit *Match
			for k := range ms {
				if ms[k].Secret {
					hit = &ms[k]
					break
				}
			}
			switch {
			case r.Label == 1 && hit != nil:
				c.tp++
				all.tp++
			case r.Label == 1:
				c.fn++
				all.fn++
				if verbose {
					fmt.Printf("FN secret %s %s %q\n", src, r.Rule, trunc(r.Text, 200))
				}
			case hit != nil:
				c.fp++
				all.fp++
				if verbose {
					fmt.Printf("FP secret %s %s %s %q in %q\n", src, r.Scope, hit.Name(), r.Text[hit.Start:hit.End], trunc(r.Text, 200))
				}
			default:
				c.tn++
				all.tn++
			}
		})
	}
	rate := func(a, b int) float64 {
		if a+b == 0 {
			return 0
		}
		return float64(a) / float64(a+b)
	}
	var names []string
	for k := range bySource {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := bySource[k]
		t.Logf("%-28s recall %.3f (%3d/%3d)  FPR %.3f (%2d/%3d)", k, rate(c.tp, c.fn), c.tp, c.tp+c.fn, rate(c.fp, c.tn), c.fp, c.fp+c.tn)
	}
	recall, fpr := rate(all.tp, all.fn), rate(all.fp, all.tn)
	t.Logf("secrets all (dev+train): recall %.3f (%d/%d), hard-negative FP rate %.3f (%d/%d)", recall, all.tp, all.tp+all.fn, fpr, all.fp, all.fp+all.tn)
	// Floors: the README figures (recall 0.856, FPR 0.083); a regression fails the test.
	if recall < 0.85 {
		t.Errorf("secrets recall %.3f below floor 0.85", recall)
	}
	if fpr > 0.09 {
		t.Errorf("secrets hard-negative FP rate %.3f above ceiling 0.09", fpr)
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestQualityBenignPrompts measures how often the scanner reports anything on ordinary prompts and model
// answers (injection.dev.jsonl and output.dev.jsonl records labelled 0): every finding there is a false
// positive unless the text really holds PII, which these sources rarely do.
func TestQualityBenignPrompts(t *testing.T) {
	s := New(All(), nil)
	var ms []Match
	for _, file := range []string{"injection.dev.jsonl", "output.dev.jsonl"} {
		texts, flagged, secretFlagged := 0, 0, 0
		byType := map[string]int{}
		readJSONL(t, datasetPath(t, file), func(line []byte) {
			var r struct {
				Text  string `json:"text"`
				Label int    `json:"label"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			if r.Label != 0 {
				return
			}
			texts++
			ms = s.ScanString(r.Text, ms[:0])
			if len(ms) > 0 {
				flagged++
			}
			sec := false
			for _, m := range ms {
				byType[m.Name()]++
				if m.Secret {
					sec = true
				}
				if os.Getenv("PIIMASK_EVAL_VERBOSE") != "" && half(r.Text) == "tune" {
					fmt.Printf("BENIGN %s %s %q\n", file, m.Name(), r.Text[m.Start:m.End])
				}
			}
			if sec {
				secretFlagged++
			}
		})
		t.Logf("%s: %d benign texts, %.1f%% with any finding, %.1f%% with a secret finding; by type %v",
			file, texts, 100*float64(flagged)/float64(texts), 100*float64(secretFlagged)/float64(texts), byType)
		if float64(secretFlagged)/float64(texts) > 0.03 {
			t.Errorf("%s: secret findings on %.1f%% of benign texts", file, 100*float64(secretFlagged)/float64(texts))
		}
	}
}

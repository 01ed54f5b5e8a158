package budget

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tiktoken-go/tokenizer"

	"github.com/wasmguard/wasmguard/hostsim"
)

// repoRoot is hostsim.RepoRoot, failing the test when there is no go.mod above the working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root := hostsim.RepoRoot()
	if root == "" {
		t.Fatal("go.mod not found above the working directory")
	}
	return root
}

type textRecord struct {
	Text      string `json:"text"`
	Trainable bool   `json:"trainable"`
}

// loadTexts reads the "text" of every record of the dev datasets (../shared/datasets relative to the repo).
func loadTexts(t testing.TB) (tune, held []string) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "datasets")
	for _, name := range []string{"injection.dev.jsonl", "pii.dev.jsonl", "output.dev.jsonl", "secrets.dev.jsonl", "harmful.dev.jsonl"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("open dataset (the repo expects ../shared beside it): %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r textRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil || r.Text == "" {
				continue
			}
			if r.Trainable {
				tune = append(tune, r.Text)
			} else {
				held = append(held, r.Text)
			}
		}
		f.Close()
	}
	return tune, held
}

type estStats struct {
	n                         int
	sumEst, sumTrue           int64
	meanAbsRel, p50, p90, p99 float64
	under10                   float64 // share of texts underestimated by more than 10%
}

func measure(t testing.TB, enc tokenizer.Codec, texts []string) estStats {
	var s estStats
	rels := make([]float64, 0, len(texts))
	under := 0
	for _, txt := range texts {
		ids, _, err := enc.Encode(txt)
		if err != nil {
			t.Fatal(err)
		}
		truth := int64(len(ids))
		if truth < 5 {
			continue
		}
		est := EstimateTokens(txt)
		s.sumEst += est
		s.sumTrue += truth
		rel := float64(est-truth) / float64(truth)
		if rel < -0.10 {
			under++
		}
		rels = append(rels, math.Abs(rel))
		s.meanAbsRel += math.Abs(rel)
	}
	s.n = len(rels)
	if s.n == 0 {
		return s
	}
	sort.Float64s(rels)
	s.meanAbsRel /= float64(s.n)
	s.p50 = rels[s.n/2]
	s.p90 = rels[s.n*9/10]
	s.p99 = rels[s.n*99/100]
	s.under10 = float64(under) / float64(s.n)
	return s
}

// TestEstimateAgainstTiktoken measures EstimateTokens against the real cl100k_base and o200k_base BPE
// tokenizers on the dev datasets. The estimator's constants were chosen on the trainable records; the
// figures asserted and logged here are on the records marked not trainable.
func TestEstimateAgainstTiktoken(t *testing.T) {
	tune, held := loadTexts(t)
	if len(held) < 200 {
		t.Fatalf("only %d held-out texts", len(held))
	}
	for _, name := range []tokenizer.Encoding{tokenizer.Cl100kBase, tokenizer.O200kBase} {
		enc, err := tokenizer.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		st := measure(t, enc, tune)
		sh := measure(t, enc, held)
		t.Logf("%s tune: n=%d total est/true=%.3f mean|rel|=%.3f p50=%.3f p90=%.3f p99=%.3f under>10%%=%.3f",
			name, st.n, float64(st.sumEst)/float64(st.sumTrue), st.meanAbsRel, st.p50, st.p90, st.p99, st.under10)
		t.Logf("%s held: n=%d total est/true=%.3f mean|rel|=%.3f p50=%.3f p90=%.3f p99=%.3f under>10%%=%.3f",
			name, sh.n, float64(sh.sumEst)/float64(sh.sumTrue), sh.meanAbsRel, sh.p50, sh.p90, sh.p99, sh.under10)
		ratio := float64(sh.sumEst) / float64(sh.sumTrue)
		if ratio < 0.9 || ratio > 1.25 {
			t.Errorf("%s: aggregate estimate/true = %.3f, want within [0.9, 1.25]", name, ratio)
		}
		if sh.p50 > 0.15 {
			t.Errorf("%s: median relative error %.3f, want <= 0.15", name, sh.p50)
		}
		if sh.p90 > 0.40 {
			t.Errorf("%s: p90 relative error %.3f, want <= 0.40", name, sh.p90)
		}
	}
}

func TestEstimateTokensSmall(t *testing.T) {
	cases := []struct {
		text string
		want int64
	}{
		{"", 0},
		{"hello", 1},
		{"Hello, world!", 4},
		{"The quick brown fox jumps over the lazy dog.", 10},
		{"1234567", 3},
		{"\n\n\n", 1},
		{"日本語", 3},
	}
	for _, c := range cases {
		if got := EstimateTokens(c.text); got != c.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

func BenchmarkEstimateTokens(b *testing.B) {
	tune, _ := loadTexts(b)
	var total int
	for _, s := range tune[:500] {
		total += len(s)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range tune[:500] {
			EstimateTokens(s)
		}
	}
}

func FuzzEstimateTokens(f *testing.F) {
	f.Add("Hello, world! 123 日本語 🙂 Привет")
	f.Fuzz(func(t *testing.T, s string) {
		n := EstimateTokens(s)
		if n < 0 || n > int64(len(s)) {
			t.Fatalf("EstimateTokens(%q) = %d, want 0..%d", s, n, len(s))
		}
	})
}

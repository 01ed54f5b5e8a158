package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
)

func dataDir(t *testing.T) string {
	return filepath.Dir(hostsim.Dataset(t, "pii.dev.jsonl"))
}

// TestModelIsWhatTrainingWrites retrains the shipped model (the full run: it takes about a second) and checks
// that internal/ner/model_gen.go is what `go run ./sdk/pii/cmd/trainner` writes from the datasets and code of
// this commit: the same training input, the same weights, the same file.
func TestModelIsWhatTrainingWrites(t *testing.T) {
	items := load(dataDir(t))
	if len(items) < 2000 {
		t.Fatalf("only %d NER-labelled trainable records", len(items))
	}
	if got := inputHash(items, params); got != ner.TrainingInputHash {
		t.Errorf("training input hash %s, model_gen.go was trained on %s: run go run ./sdk/pii/cmd/trainner", got, ner.TrainingInputHash)
	}
	m := trainAll(items, params)
	if got := sha(m.Weights); got != ner.WeightsHash {
		t.Errorf("trained weights hash %s, model_gen.go records %s: run go run ./sdk/pii/cmd/trainner", got, ner.WeightsHash)
	}
	if m.Weights != ner.DefaultModel.Weights || m.Bits != ner.DefaultModel.Bits || m.Scale != ner.DefaultModel.Scale || m.Margin != ner.DefaultModel.Margin {
		t.Errorf("the shipped model differs from what training writes (weights edited by hand?)")
	}
	src, err := os.ReadFile(filepath.Join(hostsim.RepoRoot(), "sdk", "pii", "internal", "ner", "model_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != string(render(m, inputHash(items, params))) {
		t.Errorf("model_gen.go is not the file training writes")
	}
}

// TestOutOfFold reports the out-of-fold figures (5 folds grouped by generator template, the shipped
// parameters) per type and source, and fails below the floors recorded in plugins/piimask/README.md.
func TestOutOfFold(t *testing.T) {
	items := load(dataDir(t))
	rep := oof(items, params, false)
	var b strings.Builder
	rep.print(&b)
	t.Log("\n" + b.String())
	floors := map[int]float64{ner.Person: 0.90, ner.Address: 0.92, ner.Location: 0.81, ner.Organization: 0.79}
	for ty, min := range floors {
		if f := rep.overlap["all"][ty].f1(); f < min {
			t.Errorf("%s: out-of-fold F1 %.3f below floor %.2f", ner.TypeNames[ty], f, min)
		}
	}
}

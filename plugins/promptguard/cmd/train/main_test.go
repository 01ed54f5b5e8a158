package main

import (
	"path/filepath"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
)

// TestWeightsAreWhatTrainingWrites checks, cheaply (feature extraction and one small fit, not the full
// cross-validated training), that detect/weights.go is what `go run ./plugins/promptguard/cmd/train` (go
// generate ./plugins/promptguard/detect) writes from the datasets and code of this commit: the training input
// (parameters, labels, folds, weights and features of every trainable record) hashes to the recorded value,
// the training code fits the recorded model on a fixed subset, and the committed hashed weights are the ones
// that run recorded. Training is deterministic, so the three together pin the full output. A change to the
// canonicaliser, the signals, the datasets or the trainer fails here until the weights are regenerated.
func TestWeightsAreWhatTrainingWrites(t *testing.T) {
	dir := filepath.Join(repoRoot(), "..", "shared", "datasets")
	pr := defaultParams()
	ds := prepare(dir, pr)
	if len(ds.train) < 1000 {
		t.Fatalf("only %d trainable records in %s", len(ds.train), dir)
	}
	if got := inputHash(ds, pr); got != detect.TrainingInputHash {
		t.Errorf("training input hash %s, weights.go was trained on %s: run go generate ./plugins/promptguard/detect", got, detect.TrainingInputHash)
	}
	if got := codeHash(ds, pr); got != detect.TrainingCodeHash {
		t.Errorf("training code hash %s, weights.go records %s: run go generate ./plugins/promptguard/detect", got, detect.TrainingCodeHash)
	}
	if got := sha256Hex(detect.DefaultModel().Hashed); got != detect.HashedWeightsHash {
		t.Errorf("hashed weights hash %s, recorded %s: weights.go was edited by hand", got, detect.HashedWeightsHash)
	}
}

// Package eval is the quality harness behind `make eval`: it runs the built filters over the labelled datasets
// (default: ../shared/datasets/*.dev.jsonl; for promptguard the .train files too) through hostsim/replay, writes
// dist/eval/<filter>.json as issue 7 specifies, prints a table per filter and draws SVG bar charts (precision,
// recall and false-positive rate per group) into dist/eval/. For promptguard, `make eval` also writes
// dist/eval/promptguard.heldout.md: the figures on dev + train of models that never saw each record
// (plugins/promptguard/cmd/train -report), since the shipped model was fitted on the trainable ones.
package eval

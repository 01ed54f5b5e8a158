// Package eval is the quality harness behind `make eval`: it runs the built filters over the labelled datasets
// (default: ../shared/datasets/*.dev.jsonl) through hostsim/replay, writes dist/eval/<filter>.json as issue 7
// specifies, prints a table per filter and draws SVG bar charts (precision, recall and false-positive rate per
// group) into dist/eval/.
package eval

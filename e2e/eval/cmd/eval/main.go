// Command eval is `make eval`: it measures the built filters' detection quality on labelled JSONL datasets.
//
//	go run ./e2e/eval/cmd/eval                                   # every filter on ../shared/datasets/*.dev.jsonl
//	go run ./e2e/eval/cmd/eval -filter piimask -dataset my.jsonl # one filter, one file → dist/eval/piimask.json
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmguard/wasmguard/e2e/eval"
	"github.com/wasmguard/wasmguard/hostsim/gateway"
	"github.com/wasmguard/wasmguard/hostsim/replay"
)

func main() {
	filter := flag.String("filter", "", "filter to evaluate: promptguard, piimask or outputguard (default: all, on their dev files)")
	dataset := flag.String("dataset", "", "JSONL file in the schema of shared/datasets (requires -filter)")
	dist := flag.String("dist", "dist", "directory holding <filter>.wasm")
	out := flag.String("out", filepath.Join("dist", "eval"), "directory for <filter>.json, .svg and summary.md")
	profile := flag.String("profile", "envoy", "host profile: envoy, envoy_full_wasi, kong")
	flag.Parse()
	prof, ok := gateway.HostProfile(*profile)
	if !ok {
		fmt.Fprintf(os.Stderr, "eval: -profile: must be one of envoy, envoy_full_wasi, kong; got %q\n", *profile)
		os.Exit(2)
	}
	var jobs []eval.Job
	switch {
	case *filter == "" && *dataset == "":
		jobs = eval.DefaultJobs(replay.SharedDatasets())
	case *filter == "":
		fmt.Fprintln(os.Stderr, "eval: -dataset needs -filter (promptguard, piimask or outputguard)")
		os.Exit(2)
	default:
		known := false
		for _, f := range eval.Filters {
			known = known || f == *filter
		}
		if !known {
			fmt.Fprintf(os.Stderr, "eval: -filter: must be one of promptguard, piimask, outputguard; got %q\n", *filter)
			os.Exit(2)
		}
		if *dataset == "" {
			for _, j := range eval.DefaultJobs(replay.SharedDatasets()) {
				if j.Filter == *filter {
					jobs = append(jobs, j)
				}
			}
		} else {
			jobs = []eval.Job{{Filter: *filter, Dataset: *dataset, Name: *filter}}
		}
	}
	var reps []*replay.Report
	failed := 0
	for _, j := range jobs {
		rep, err := eval.Run(j, eval.Options{Dist: *dist, Out: *out, Progress: os.Stderr, Profile: prof})
		if err != nil { // go on with the other filters; fail at the end
			fmt.Fprintf(os.Stderr, "eval: %s on %s: %v\n\n", j.Filter, filepath.Base(j.Dataset), err)
			failed++
			continue
		}
		reps = append(reps, rep)
		fmt.Fprintf(os.Stderr, "wrote %s\n\n", filepath.Join(*out, j.Name+".json"))
	}
	f, err := os.Create(filepath.Join(*out, "summary.md"))
	if err == nil {
		eval.Summary(f, reps)
		f.Close()
	}
	eval.Summary(os.Stdout, reps)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "eval: %d of %d evaluations failed\n", failed, len(jobs))
		os.Exit(1)
	}
}

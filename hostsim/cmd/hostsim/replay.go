package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmguard/wasmguard/hostsim/gateway"
	"github.com/wasmguard/wasmguard/hostsim/replay"
)

const replayUsage = `usage: hostsim replay --plugin FILTER.wasm [--config CONFIG.json] [flags] FILE.jsonl

Runs every record of a labelled JSONL file (the schema of shared/datasets) through one real filter in hostsim,
each wrapped in a realistic OpenAI chat exchange, prints the decision per record and a summary table (precision,
recall and false-positive rate per group), and optionally writes the JSON report of make eval.

flags:
`

func init() {
	register(command{name: "replay", summary: "run labelled JSONL records through a filter and score its decisions", run: runReplay})
}

func runReplay(args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), replayUsage); fs.PrintDefaults() }
	plugin := fs.String("plugin", "", "the filter's .wasm")
	cfgPath := fs.String("config", "", `the filter's configuration (JSON file); default {"mode":"monitor"}`)
	name := fs.String("name", "", "filter name (default: the .wasm file name without extension)")
	profile := fs.String("profile", "envoy", "host profile: envoy, envoy_full_wasi, kong")
	schema := fs.String("schema", "", "dataset schema: injection, output, pii, pii_values, secrets (default: from the file)")
	report := fs.String("report", "", "write the JSON report to this file")
	quiet := fs.Bool("quiet", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *plugin == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	file := fs.Arg(0)
	wasm, err := os.ReadFile(*plugin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostsim replay:", err)
		return 1
	}
	config := []byte(`{"mode":"monitor"}`)
	if *cfgPath != "" {
		if config, err = os.ReadFile(*cfgPath); err != nil {
			fmt.Fprintln(os.Stderr, "hostsim replay:", err)
			return 1
		}
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(*plugin), ".wasm")
	}
	prof, ok := gateway.HostProfile(*profile)
	if !ok {
		fmt.Fprintf(os.Stderr, "hostsim replay: --profile: must be one of envoy, envoy_full_wasi, kong; got %q\n", *profile)
		return 2
	}
	recs, err := replay.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostsim replay:", err)
		return 1
	}
	s := replay.Schema(*schema)
	switch s {
	case "":
		s = replay.DetectSchema(file, recs)
	case replay.SchemaInjection, replay.SchemaOutput, replay.SchemaPII, replay.SchemaPIIValues, replay.SchemaSecrets:
	default:
		fmt.Fprintf(os.Stderr, "hostsim replay: --schema: must be one of injection, output, pii, pii_values, secrets; got %q\n", *schema)
		return 2
	}
	r, err := replay.NewRunner(*name, wasm, config, prof)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostsim replay:", err)
		return 1
	}
	defer r.Close()
	results := r.RunAll(s, recs, replay.TextProgress(os.Stderr, *name+" on "+filepath.Base(file)))
	if !*quiet {
		for i := range results {
			fmt.Println(replay.Describe(&recs[i], &results[i]))
		}
	}
	rep := replay.NewReport(*name, filepath.Base(file), s, recs, replay.Outcomes(results))
	rep.WriteTable(os.Stdout)
	if *report != "" {
		f, err := os.Create(*report)
		if err == nil {
			err = rep.WriteJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostsim replay:", err)
			return 1
		}
	}
	return 0
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wasmguard/wasmguard/hostsim"
)

func init() {
	register(command{name: "check", summary: "report a module's ABI, exports, imports and which gateways can load it", run: func(args []string) int {
		return runCheck(args, os.Stdout, os.Stderr)
	}})
}

const checkUsage = `usage: hostsim check [flags] FILE.wasm [FILE.wasm...]

Checks a built proxy-wasm module against each host profile hostsim knows:

  envoy           Envoy >= 1.33 (proxy-wasm-cpp-host #427): the WASI set Go 1.24+ needs to link,
                  but poll_oneoff answers ENOSYS (a Go timer crashes the VM at its next GC)
  envoy-fullwasi  Envoy with cpp-host #533: every WASI function, poll_oneoff succeeds
  kong            Kong Gateway 3.4-3.10 (ngx_wasm_module)

For each module it prints the proxy-wasm ABI version, the exports and imports, and per profile:
  LOADS / REFUSED    whether the host can link it (every missing import is named, e.g.
                     wasi_snapshot_preview1.path_open: a real gateway rejects the module)
  start              with -start (default): _initialize, on_vm_start and on_configure actually run
                     (with -config), so host calls from Go init() and rejected configurations show up
  warnings           imported APIs whose behaviour differs on that host (first header value only,
                     Kong traps, metric rules, ...)

Exit status: 0 when every module loads (and starts) on every selected profile, 1 otherwise, 2 on usage errors.

Examples:
  hostsim check dist/piimask.wasm
  hostsim check -profile envoy -config piimask.json dist/piimask.wasm
  hostsim check -json dist/*.wasm

flags:
`

type checkResult struct {
	File   string                     `json:"file"`
	Report *hostsim.ModuleReport      `json:"report,omitempty"`
	Start  map[hostsim.Profile]string `json:"start,omitempty"` // "" = started fine
	Error  string                     `json:"error,omitempty"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	profile := fs.String("profile", "", "check only this profile (envoy, envoy-fullwasi, kong)")
	configPath := fs.String("config", "", "plugin configuration file passed to on_configure (with -start)")
	start := fs.Bool("start", true, "also start the module (initialize, vm_start, configure) on every profile that can load it")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	showExports := fs.Bool("v", false, "list every export and import")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	profiles := hostsim.Profiles
	if *profile != "" {
		p := hostsim.Profile(*profile)
		found := false
		for _, q := range hostsim.Profiles {
			if q == p {
				found = true
			}
		}
		if !found {
			fmt.Fprintf(stderr, "hostsim check: -profile: must be one of envoy, envoy-fullwasi, kong; got %q\n", *profile)
			return 2
		}
		profiles = []hostsim.Profile{p}
	}
	var config []byte
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			fmt.Fprintf(stderr, "hostsim check: -config: %v\n", err)
			return 2
		}
		config = b
	}
	ok := true
	var results []checkResult
	for _, file := range fs.Args() {
		var r checkResult
		if isOCIRef(file) { // an image reference (oci.go)
			local, cleanup, err := pullOCI(file)
			if err != nil {
				r = checkResult{File: file, Error: err.Error()}
			} else {
				r = checkFile(local, profiles, config, *start)
				r.File = file
				cleanup()
			}
		} else {
			r = checkFile(file, profiles, config, *start)
		}
		results = append(results, r)
		if r.Error != "" {
			ok = false
			continue
		}
		for _, pr := range r.Report.Profiles {
			if !pr.Loads || r.Start[pr.Profile] != "" {
				ok = false
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		for _, r := range results {
			printResult(stdout, r, *showExports)
		}
	}
	if !ok {
		return 1
	}
	return 0
}

func checkFile(file string, profiles []hostsim.Profile, config []byte, start bool) checkResult {
	r := checkResult{File: file}
	wasm, err := os.ReadFile(file)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	rep, err := hostsim.CheckModule(wasm)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	var keep []hostsim.ProfileReport
	for _, pr := range rep.Profiles {
		for _, p := range profiles {
			if pr.Profile == p {
				keep = append(keep, pr)
			}
		}
	}
	rep.Profiles = keep
	r.Report = rep
	if start {
		r.Start = map[hostsim.Profile]string{}
		for _, pr := range rep.Profiles {
			if !pr.Loads {
				continue
			}
			h, err := hostsim.Start(hostsim.Config{Profile: pr.Profile, Workers: 1,
				Plugins: []hostsim.PluginSpec{{Name: strings.TrimSuffix(baseName(file), ".wasm"), Wasm: wasm, Config: config}}})
			if err != nil {
				r.Start[pr.Profile] = err.Error()
				continue
			}
			h.Close()
			r.Start[pr.Profile] = ""
		}
	}
	return r
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func printResult(w io.Writer, r checkResult, verbose bool) {
	fmt.Fprintf(w, "%s\n", r.File)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n\n", r.Error)
		return
	}
	rep := r.Report
	abi := rep.ABI
	if abi == "" {
		abi = "none (no proxy_abi_version_* export: not a proxy-wasm module)"
	}
	fmt.Fprintf(w, "  proxy-wasm ABI: %s\n", abi)
	fmt.Fprintf(w, "  exports: %d functions%s; imports: %d\n", len(rep.Exports), map[bool]string{true: " + memory", false: " (no memory export!)"}[rep.Memory], len(rep.Imports))
	if verbose {
		fmt.Fprintf(w, "  exports: %s\n", strings.Join(rep.Exports, " "))
		fmt.Fprintf(w, "  imports: %s\n", strings.Join(rep.Imports, " "))
	}
	for _, pr := range rep.Profiles {
		status := "LOADS"
		if !pr.Loads {
			status = "REFUSED"
		}
		fmt.Fprintf(w, "  %-15s %s\n", pr.Profile, status)
		if len(pr.Missing) > 0 {
			fmt.Fprintf(w, "      missing imports: %s\n", strings.Join(pr.Missing, ", "))
		}
		for _, p := range pr.Problems {
			fmt.Fprintf(w, "      problem: %s\n", p)
		}
		if r.Start != nil && pr.Loads {
			if msg := r.Start[pr.Profile]; msg != "" {
				fmt.Fprintf(w, "      start: FAILED: %s\n", strings.ReplaceAll(msg, "\n", "\n        "))
			} else {
				fmt.Fprintf(w, "      start: ok (initialize, vm_start, configure)\n")
			}
		}
		for _, warn := range pr.Warnings {
			fmt.Fprintf(w, "      warning: %s\n", warn)
		}
	}
	fmt.Fprintln(w)
}

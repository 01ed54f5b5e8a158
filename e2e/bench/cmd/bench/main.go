// Command bench is `make bench`: wasmguard's overhead figures, measured in one run and written to dist/bench/
// (bench.json, bench.md, latency.svg, load.svg). See package e2e/bench.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/wasmguard/wasmguard/e2e/bench"
	"github.com/wasmguard/wasmguard/e2e/configs"
	"github.com/wasmguard/wasmguard/e2e/eval"
	"github.com/wasmguard/wasmguard/hostsim"
)

type module struct {
	Filter        string  `json:"filter"`
	Toolchain     string  `json:"toolchain,omitempty"` // "go" or "tinygo" ("": go, reports before TinyGo was measured)
	SizeBytes     int     `json:"size_bytes"`
	FirstStartMS  float64 `json:"first_start_ms"` // first start in this process: compile (unless the cells compiled it) + instantiate + start
	CompileMS     float64 `json:"compile_ms"`     // compile alone, in a fresh wazero runtime without a compilation cache
	InstantiateMS float64 `json:"instantiate_ms"` // instantiate + _initialize + configure, module already compiled
}

type latency struct {
	Target    string  `json:"target"`
	Toolchain string  `json:"toolchain,omitempty"`
	KiB       int     `json:"kib"`
	N         int     `json:"n"`
	P50US     float64 `json:"p50_us"`
	P99US     float64 `json:"p99_us"`
	MBps      float64 `json:"mb_per_s"` // body bytes / p50
}

// nativeSize is a filter's pure detection step on the same text size, compiled natively.
type nativeSize struct {
	Filter string  `json:"filter"`
	KiB    int     `json:"kib"`
	N      int     `json:"n"`
	P50US  float64 `json:"p50_us"`
	P99US  float64 `json:"p99_us"`
	MBps   float64 `json:"mb_per_s"`
}

type memory struct {
	Target      string `json:"target"`
	Toolchain   string `json:"toolchain,omitempty"`
	Requests    int    `json:"requests"`
	WarmBytes   uint64 `json:"warm_bytes"`
	AfterBytes  uint64 `json:"after_bytes"`
	Grew        bool   `json:"grew"`
	Unavailable string `json:"unavailable,omitempty"`
}

type native struct {
	Filter string  `json:"filter"`
	Pkg    string  `json:"package"`
	Name   string  `json:"name"`
	NsOp   float64 `json:"ns_per_op"`
	MBps   float64 `json:"mb_per_s,omitempty"`
	BOp    float64 `json:"bytes_per_op"`
	Allocs float64 `json:"allocs_per_op"`
}

type loadCmp struct {
	BodyKiB  int          `json:"body_kib"`
	Rounds   int          `json:"rounds"`
	Base     []bench.Load `json:"no_filters"`
	Chain    []bench.Load `json:"chain"`
	RPSRatio float64      `json:"rps_ratio"` // chain / no filters (1 = no overhead)
	P50Ratio float64      `json:"p50_ratio"` // chain / no filters
	P99Ratio float64      `json:"p99_ratio"`
	// The combined module (dist/wasmguard.wasm, the four stages with the chain's configurations) in the same
	// rounds; ratios to no filters.
	Combined         []bench.Load `json:"combined,omitempty"`
	CombinedRPSRatio float64      `json:"combined_rps_ratio,omitempty"`
	CombinedP50Ratio float64      `json:"combined_p50_ratio,omitempty"`
	CombinedP99Ratio float64      `json:"combined_p99_ratio,omitempty"`
	Error            string       `json:"error,omitempty"`
}

type report struct {
	Date    string       `json:"date"`
	Go      string       `json:"go"`
	CPUs    int          `json:"cpus"`
	Modules []module     `json:"modules"`
	Wasm    []latency    `json:"wasm"`
	Scan    []nativeSize `json:"native_scan"`
	Memory  []memory     `json:"memory"`
	Native  []native     `json:"native"`
	Load    *loadCmp     `json:"load,omitempty"`
	// Cells: the issue-16 exchanges (4 KiB request + 4 KiB JSON answer; the same request streamed, 823 events)
	// through each filter alone, the chain of four and the combined module, interleaved in one run.
	Cells []bench.CellResult `json:"cells,omitempty"`
	// Toolchains measured, in column order ("go", then "tinygo" when -tinygo names the TinyGo builds).
	Toolchains []string `json:"toolchains,omitempty"`
}

func main() {
	dist := flag.String("dist", "dist", "directory holding the built .wasm files")
	out := flag.String("out", filepath.Join("dist", "bench"), "output directory")
	perCell := flag.Duration("cell", 1500*time.Millisecond, "time spent measuring one filter × body size")
	memReqs := flag.Int("memory-requests", 10000, "requests between the two linear-memory readings")
	loadDur := flag.Duration("load", 10*time.Second, "duration of each load run (0 skips the load test)")
	conc := flag.Int("conc", 8, "concurrent clients in the load test")
	rounds := flag.Int("rounds", 2, "load rounds (each: no filters, the chain, the combined module)")
	nativeTime := flag.String("benchtime", "300ms", "go test -benchtime of the native benchmarks")
	replot := flag.String("replot", "", "redraw bench.md and the charts from this bench.json instead of measuring")
	memOnly := flag.Bool("memory-only", false, "measure only the modules and linear memory (each target warmed up with 20 requests per body size)")
	cellRounds := flag.Int("cell-rounds", 100, "rounds of the exchange cells (singles, chain, combined; each round runs every cell once per shape)")
	cellsOnly := flag.Bool("cells-only", false, "measure only the exchange cells")
	loadOnly := flag.Bool("load-only", false, "run only the load test")
	stageCells := flag.Bool("stages", true, "also measure the combined module with its stages added one at a time (\"combined: ...\" cells; -only stages selects them)")
	before := flag.String("before", "", "also measure the singles and chain built in this directory (a before/after comparison in the same run)")
	onlyCells := flag.String("only", "", "comma-separated cells to measure (promptguard, piimask, tokenbudget, outputguard, chain, combined, stages; default all)")
	onlyShapes := flag.String("shapes", "", "comma-separated exchange shapes to measure (chat-4k, chat-4k-stream; default all)")
	tinygo := flag.String("tinygo", "", "also measure the TinyGo builds in this directory (e.g. dist/tinygo), interleaved with dist's in the same run")
	doNative := flag.Bool("native", true, "run the native scans and the native benchmarks of the pure packages")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if *replot != "" {
		b, err := os.ReadFile(*replot)
		if err != nil {
			log.Fatal(err)
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			log.Fatalf("bench: %s: %v", *replot, err)
		}
		writeOutputs(&rep, *out)
		return
	}
	rep := &report{Date: time.Now().UTC().Format(time.RFC3339), Go: runtime.Version(), CPUs: runtime.NumCPU()}
	// The toolchains measured side by side: each figure below is taken for every toolchain in the same pass.
	dists := map[string]string{"go": *dist}
	rep.Toolchains = []string{"go"}
	if *tinygo != "" {
		dists["tinygo"] = *tinygo
		rep.Toolchains = append(rep.Toolchains, "tinygo")
	}
	say := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }

	if *loadOnly {
		rep.Load = runLoadCompare(*dist, *loadDur, *conc, *rounds, say)
		writeOutputs(rep, *out)
		return
	}

	// The exchange cells first: the figures the Performance section of the README reports.
	rep.Cells = runCells(*dist, *tinygo, *before, *stageCells, *cellRounds, list(*onlyCells), list(*onlyShapes), say)
	if *cellsOnly {
		writeOutputs(rep, *out)
		return
	}

	// Modules: size, cold start (compile + instantiate), warm instantiate; each filter's toolchains one after
	// the other.
	specs := map[string]hostsim.PluginSpec{} // key: toolchain + "/" + filter
	for _, f := range bench.Filters {
		for _, tc := range rep.Toolchains {
			s, err := bench.Specs(dists[tc], f)
			if err != nil {
				log.Fatal(err)
			}
			specs[tc+"/"+f] = s[0]
			m := module{Filter: f, Toolchain: tc, SizeBytes: len(s[0].Wasm)}
			t0 := time.Now()
			h, err := bench.StartChain(s)
			if err != nil {
				log.Fatalf("bench: %s: %v", f, err)
			}
			m.FirstStartMS = ms(time.Since(t0))
			h.Close()
			if m.CompileMS, err = compileMS(s[0].Wasm); err != nil {
				log.Fatalf("bench: %s: %v", label(f, tc), err)
			}
			var best time.Duration = math.MaxInt64
			for i := 0; i < 5; i++ {
				t0 = time.Now()
				h, err := bench.StartChain(s)
				if err != nil {
					log.Fatal(err)
				}
				best = min(best, time.Since(t0))
				h.Close()
			}
			m.InstantiateMS = ms(best)
			rep.Modules = append(rep.Modules, m)
			say("module %-21s %7.0f KiB  compile %6.0f ms  first start %6.0f ms  instantiate %6.1f ms", label(f, tc), float64(m.SizeBytes)/1024, m.CompileMS, m.FirstStartMS, m.InstantiateMS)
		}
	}

	// Wasm latency per target and body size, then linear memory over many requests.
	targets := [][]string{}
	for _, f := range bench.Filters {
		targets = append(targets, []string{f})
	}
	targets = append(targets, bench.Filters)
	for _, tg := range targets {
		name := tg[0]
		if len(tg) > 1 {
			name = "chain"
		}
		// One host per toolchain; at each size the toolchains alternate in batches of 10 exchanges, so a slow
		// period of the machine hits both alike.
		hosts := make([]*hostsim.Host, len(rep.Toolchains))
		for i, tc := range rep.Toolchains {
			var ss []hostsim.PluginSpec
			for _, f := range tg {
				ss = append(ss, specs[tc+"/"+f])
			}
			h, err := bench.StartChain(ss)
			if err != nil {
				log.Fatal(err)
			}
			hosts[i] = h
		}
		for _, kib := range bench.Sizes {
			c := bench.CaseFor(name, kib)
			for i, h := range hosts {
				if _, err := bench.Latencies(h, c, 20); err != nil { // warm-up
					log.Fatalf("bench: %s %d KiB: %v", label(name, rep.Toolchains[i]), kib, err)
				}
			}
			if *memOnly {
				continue
			}
			lats := make([][]time.Duration, len(hosts))
			t0 := time.Now()
			for (time.Since(t0) < *perCell*time.Duration(len(hosts)) || len(lats[0]) < 30) && len(lats[0]) < 5000 {
				for i, h := range hosts {
					l, err := bench.Latencies(h, c, 10)
					if err != nil {
						log.Fatalf("bench: %s %d KiB: %v", label(name, rep.Toolchains[i]), kib, err)
					}
					lats[i] = append(lats[i], l...)
				}
			}
			for i, tc := range rep.Toolchains {
				p50, p99 := bench.Percentile(lats[i], 50), bench.Percentile(lats[i], 99)
				lt := latency{Target: name, Toolchain: tc, KiB: kib, N: len(lats[i]), P50US: us(p50), P99US: us(p99), MBps: float64(kib<<10) / p50.Seconds() / 1e6}
				rep.Wasm = append(rep.Wasm, lt)
				say("wasm %-21s %4d KiB  p50 %8.0f µs  p99 %8.0f µs  %6.1f MB/s  (n=%d)", label(name, tc), kib, lt.P50US, lt.P99US, lt.MBps, lt.N)
			}
		}
		for i, h := range hosts {
			m := measureMemory(h, tg, label(name, rep.Toolchains[i]), *memReqs, say)
			m.Target, m.Toolchain = name, rep.Toolchains[i]
			rep.Memory = append(rep.Memory, m)
			h.Close()
		}
	}

	if *memOnly {
		writeOutputs(rep, *out)
		say("wrote %s", filepath.Join(*out, "bench.json"))
		return
	}

	// The same text scanned by each filter's pure detection step, natively.
	for _, f := range bench.Filters {
		if !*doNative {
			break
		}
		fn, err := bench.NativeScanner(f)
		if err != nil {
			log.Fatal(err)
		}
		for _, kib := range bench.Sizes {
			text := bench.Text(kib)
			for i := 0; i < 20; i++ {
				fn(text)
			}
			var lats []time.Duration
			t0 := time.Now()
			for (time.Since(t0) < *perCell/2 || len(lats) < 30) && len(lats) < 20000 {
				t1 := time.Now()
				fn(text)
				lats = append(lats, time.Since(t1))
			}
			p50, p99 := bench.Percentile(lats, 50), bench.Percentile(lats, 99)
			c := nativeSize{Filter: f, KiB: kib, N: len(lats), P50US: us(p50), P99US: us(p99), MBps: float64(len(text)) / p50.Seconds() / 1e6}
			rep.Scan = append(rep.Scan, c)
			say("native scan %-12s %4d KiB  p50 %8.1f µs  p99 %8.1f µs  %7.1f MB/s", f, kib, c.P50US, c.P99US, c.MBps)
		}
	}

	// Native benchmarks of each filter's pure packages.
	for _, f := range bench.Filters {
		if *doNative {
			rep.Native = append(rep.Native, runNative(f, *nativeTime, say)...)
		}
	}

	// Load: the chain through the gateway against the same gateway without filters, alternated.
	if *loadDur > 0 {
		rep.Load = runLoadCompare(*dist, *loadDur, *conc, *rounds, say)
	}

	writeOutputs(rep, *out)
	say("wrote %s", filepath.Join(*out, "bench.json"))
}

// runCells measures the exchange cells (see bench.RunCells); with before, the singles and chain of that build
// run interleaved with the current ones.
func runCells(dist, tinygo, before string, stages bool, rounds int, only, onlyShapes []string, say func(string, ...any)) []bench.CellResult {
	shapes, err := bench.LoadShapes(hostsim.RepoRoot(), onlyShapes...)
	if err != nil {
		log.Fatal(err)
	}
	cells, err := bench.StartCells(dist, "", only...)
	if err != nil {
		log.Fatal(err)
	}
	if stages && (len(only) == 0 || slices.Contains(only, "stages")) {
		sc, err := bench.StartStageCells(dist)
		if err != nil {
			log.Fatal(err)
		}
		cells = append(cells, sc...)
	}
	if tinygo != "" {
		tg, err := bench.StartCells(tinygo, tinygoLabel, only...)
		if err != nil {
			log.Fatal(err)
		}
		cells = append(cells, tg...)
	}
	if before != "" {
		old, err := bench.StartCells(before, " (before)", only...)
		if err != nil {
			log.Fatal(err)
		}
		cells = append(cells, old...)
	}
	defer func() {
		for _, c := range cells {
			c.Host.Close()
		}
	}()
	say("cells: %d cells × %d shapes × %d rounds", len(cells), len(shapes), rounds)
	rs, err := bench.RunCells(cells, shapes, rounds, 3)
	if err != nil {
		log.Fatal(err)
	}
	say("%s", bench.CellTable(rs))
	return rs
}

// list splits a comma-separated flag value (nil when empty).
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// compileMS is the time wazero takes to compile wasm in a fresh runtime with no compilation cache (hostsim's
// runtimes share one cache per process, so after the cells a host start no longer compiles).
func compileMS(wasm []byte) (float64, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer rt.Close(ctx)
	t0 := time.Now()
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	_ = cm.Close(ctx)
	return ms(d), nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
func us(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/100) / 10 }

// memSizer is the hostsim API that reports a VM's linear memory size, when hostsim has it.
type memSizer interface {
	MemorySize(plugin string, worker int) (uint32, bool)
}

func measureMemory(h *hostsim.Host, tg []string, name string, n int, say func(string, ...any)) memory {
	m := memory{Target: name, Requests: n}
	ms, ok := any(h).(memSizer)
	if !ok {
		m.Unavailable = "hostsim.Host has no MemorySize(plugin, worker)"
		say("memory %-12s not measured: %s", name, m.Unavailable)
		return m
	}
	total := func() uint64 {
		var s uint64
		for _, f := range tg {
			if v, ok := ms.MemorySize(f, 0); ok {
				s += uint64(v)
			}
		}
		return s
	}
	c := bench.CaseFor(name, 16)
	m.WarmBytes = total()
	for i := 0; i < n; i++ {
		if err := bench.Exchange(h, c); err != nil {
			m.Unavailable = err.Error()
			return m
		}
	}
	m.AfterBytes = total()
	m.Grew = m.AfterBytes > m.WarmBytes
	say("memory %-12s warm %6.1f MiB  after %d × 16 KiB %6.1f MiB  grew=%v", name, mib(m.WarmBytes), n, mib(m.AfterBytes), m.Grew)
	return m
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

var reBench = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:\s+([0-9.]+) MB/s)?(?:\s+([0-9.]+) B/op)?(?:\s+([0-9.]+) allocs/op)?`)

// runNative runs the benchmarks of a filter's pure packages (every package under plugins/<filter> except the
// proxy-wasm glue package itself, whose benchmarks drive the .wasm).
func runNative(filter, benchtime string, say func(string, ...any)) []native {
	list, err := exec.Command("go", "list", "./plugins/"+filter+"/...").Output()
	if err != nil {
		say("native %s: go list: %v", filter, err)
		return nil
	}
	var pkgs []string
	for _, p := range strings.Fields(string(list)) {
		if !strings.HasSuffix(p, "/plugins/"+filter) {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime}, pkgs...)
	cmd := exec.Command("go", args...)
	outp, err := cmd.StdoutPipe()
	if err != nil {
		say("native %s: %v", filter, err)
		return nil
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		say("native %s: %v", filter, err)
		return nil
	}
	var res []native
	pkg := ""
	sc := bufio.NewScanner(outp)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/wasmguard/wasmguard/")
			continue
		}
		m := reBench.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n := native{Filter: filter, Pkg: pkg, Name: m[1]}
		n.NsOp, _ = strconv.ParseFloat(m[2], 64)
		n.MBps, _ = strconv.ParseFloat(m[3], 64)
		n.BOp, _ = strconv.ParseFloat(m[4], 64)
		n.Allocs, _ = strconv.ParseFloat(m[5], 64)
		res = append(res, n)
		say("native %-12s %-50s %10.0f ns/op %8.1f MB/s %6.0f allocs/op", filter, n.Pkg+"."+n.Name, n.NsOp, n.MBps, n.Allocs)
	}
	if err := cmd.Wait(); err != nil {
		say("native %s: go test: %v", filter, err)
	}
	return res
}

// Gateways of the load test.
const (
	gwNoFilters = "no filters"
	gwChain     = "chain"
	gwCombined  = "combined"
)

// startGateway runs `hostsim serve` (built from this checkout) with the local.json chain, the combined module
// with the same four configurations, or no filters, in front of the mock upstream without delays, and returns
// its URL and a stop function.
func startGateway(bin, dist, gw string) (string, func(), error) {
	var cfg map[string]any
	if err := json.Unmarshal(configs.Local, &cfg); err != nil {
		return "", nil, err
	}
	cfg["mock"] = map[string]any{"chunk_delay_ms": -1}
	plugins, _ := cfg["plugins"].([]any)
	stages := map[string]any{}
	for _, p := range plugins {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if pm["name"] == "tokenbudget" {
			c, _ := bench.FilterConfig("tokenbudget")
			pm["config"] = json.RawMessage(c)
		}
		if name, _ := pm["name"].(string); name != "" {
			stages[name] = pm["config"]
		}
	}
	if gw == gwCombined {
		cfg["plugins"] = []any{map[string]any{"name": "wasmguard", "wasm": "wasmguard.wasm", "config": stages}}
	}
	raw, _ := json.Marshal(cfg)
	f, err := os.CreateTemp("", "bench-serve-*.json")
	if err != nil {
		return "", nil, err
	}
	cfgPath := f.Name()
	_, _ = f.Write(raw)
	f.Close()
	args := []string{"serve", "--config", cfgPath, "--dist", dist, "--listen", "127.0.0.1:0", "--admin", "off", "--quiet"}
	if gw == gwNoFilters {
		args = append(args, "--no-filters")
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				ready <- a
			}
		}
	}()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		os.Remove(cfgPath)
	}
	select {
	case base := <-ready:
		return base + "/v1/chat/completions", stop, nil
	case <-time.After(3 * time.Minute):
		stop()
		return "", nil, fmt.Errorf("hostsim serve did not start")
	}
}

// buildHostsim compiles the hostsim command into dir.
func buildHostsim(dir string) (string, error) {
	bin := filepath.Join(dir, "hostsim")
	if out, err := exec.Command("go", "build", "-o", bin, "./hostsim/cmd/hostsim").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build hostsim: %w\n%s", err, out)
	}
	return bin, nil
}

func runLoadCompare(dist string, dur time.Duration, conc, rounds int, say func(string, ...any)) *loadCmp {
	lc := &loadCmp{BodyKiB: 4, Rounds: rounds}
	body := bench.ChatBody(lc.BodyKiB)
	tmp, err := os.MkdirTemp("", "bench-hostsim-")
	if err != nil {
		lc.Error = err.Error()
		return lc
	}
	defer os.RemoveAll(tmp)
	bin, err := buildHostsim(tmp)
	if err != nil {
		lc.Error = err.Error()
		return lc
	}
	type side struct {
		name string
		url  string
		dst  *[]bench.Load
	}
	sides := []side{{name: gwNoFilters, dst: &lc.Base}, {name: gwChain, dst: &lc.Chain}}
	if _, err := os.Stat(filepath.Join(dist, "wasmguard.wasm")); err == nil {
		sides = append(sides, side{name: gwCombined, dst: &lc.Combined})
	}
	for i := range sides {
		url, stop, err := startGateway(bin, dist, sides[i].name)
		if err != nil {
			lc.Error = err.Error()
			return lc
		}
		defer stop()
		sides[i].url = url
	}
	tool := bench.LoadTool()
	say("load: %s, %d clients, %s per run, %d KiB bodies, %d rounds", tool, conc, dur, lc.BodyKiB, rounds)
	ctx := context.Background()
	for r := 0; r < rounds; r++ {
		for _, side := range sides {
			l, err := bench.RunLoad(ctx, tool, side.url, body, dur, conc)
			if err != nil {
				lc.Error = err.Error()
				say("load %s: %v", side.name, err)
				return lc
			}
			*side.dst = append(*side.dst, l)
			say("load %-10s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d/%d", side.name, l.RPS, ms(l.P50), ms(l.P99), l.Errors, l.Requests)
		}
	}
	sum := func(ls []bench.Load, f func(bench.Load) float64) float64 {
		s := 0.0
		for _, l := range ls {
			s += f(l)
		}
		return s
	}
	rps := func(l bench.Load) float64 { return l.RPS }
	p50 := func(l bench.Load) float64 { return float64(l.P50) }
	p99 := func(l bench.Load) float64 { return float64(l.P99) }
	lc.RPSRatio = round3(sum(lc.Chain, rps) / sum(lc.Base, rps))
	lc.P50Ratio = round3(sum(lc.Chain, p50) / sum(lc.Base, p50))
	lc.P99Ratio = round3(sum(lc.Chain, p99) / sum(lc.Base, p99))
	say("load: chain/no-filters throughput %.2f×, p50 %.2f×, p99 %.2f×", lc.RPSRatio, lc.P50Ratio, lc.P99Ratio)
	if len(lc.Combined) > 0 {
		lc.CombinedRPSRatio = round3(sum(lc.Combined, rps) / sum(lc.Base, rps))
		lc.CombinedP50Ratio = round3(sum(lc.Combined, p50) / sum(lc.Base, p50))
		lc.CombinedP99Ratio = round3(sum(lc.Combined, p99) / sum(lc.Base, p99))
		say("load: combined/no-filters throughput %.2f×, p50 %.2f×, p99 %.2f×", lc.CombinedRPSRatio, lc.CombinedP50Ratio, lc.CombinedP99Ratio)
	}
	return lc
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func writeOutputs(rep *report, out string) {
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "bench.json"), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# wasmguard benchmarks (%s, %s, %d CPUs)\n\n", rep.Date, rep.Go, rep.CPUs)
	if len(rep.Toolchains) > 1 {
		md.WriteString(toolchainTables(rep))
	}
	if len(rep.Cells) > 0 {
		md.WriteString("## Exchanges: each filter alone, the chain of four, the combined module (one run, interleaved)\n\n" +
			"Thread CPU is the median CPU time of the host thread per exchange (guest and host work); p50 / p99 are wall " +
			"times. Shapes: " + bench.ShapesDir + ".\n\n")
		md.WriteString(bench.CellTable(rep.Cells))
		md.WriteString("\n")
	}
	md.WriteString("## Modules\n\n| filter | size | compile (no cache) | first start in the run | instantiate + start |\n|---|---:|---:|---:|---:|\n")
	for _, m := range rep.Modules {
		fmt.Fprintf(&md, "| %s | %.0f KiB | %.0f ms | %.0f ms | %.1f ms |\n", label(m.Filter, m.Toolchain), float64(m.SizeBytes)/1024, m.CompileMS, m.FirstStartMS, m.InstantiateMS)
	}
	md.WriteString("\n## Per-request latency in wasm (hostsim, Envoy profile, one VM) and the detection step natively\n\n" +
		"wasm: one whole exchange (request, upstream answer, both in 16 KiB chunks) through the filter, with the body size in the body the filter inspects " +
		"(the request; the response for outputguard; both for the chain). " +
		"native: the filter's pure detection step on the same amount of text, compiled natively.\n\n" +
		"| target | body | wasm p50 | wasm p99 | wasm MB/s | native p50 | native p99 | native MB/s | wasm/native p50 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range rep.Wasm {
		nat := "| – | – | – | –"
		var sum50, sum99 float64
		parts := 0
		for _, n := range rep.Scan {
			if n.KiB == l.KiB && n.P50US > 0 && (n.Filter == l.Target || l.Target == "chain") && l.Toolchain != "tinygo" {
				sum50, sum99 = sum50+n.P50US, sum99+n.P99US
				parts++
			}
		}
		if parts > 0 && (l.Target != "chain" || parts == len(bench.Filters)) { // the chain: the four steps' sum
			nat = fmt.Sprintf("| %.1f µs | %.1f µs | %.1f | %.1f×", sum50, sum99, float64(l.KiB<<10)/sum50, l.P50US/sum50)
		}
		fmt.Fprintf(&md, "| %s | %d KiB | %.0f µs | %.0f µs | %.1f %s |\n", label(l.Target, l.Toolchain), l.KiB, l.P50US, l.P99US, l.MBps, nat)
	}
	md.WriteString("\n## Linear memory\n\n| target | after warm-up | after N × 16 KiB | grew |\n|---|---:|---:|---|\n")
	for _, m := range rep.Memory {
		if m.Unavailable != "" {
			fmt.Fprintf(&md, "| %s | – | – | not measured: %s |\n", label(m.Target, m.Toolchain), m.Unavailable)
			continue
		}
		fmt.Fprintf(&md, "| %s | %.1f MiB | %.1f MiB (N=%d) | %v |\n", label(m.Target, m.Toolchain), mib(m.WarmBytes), mib(m.AfterBytes), m.Requests, m.Grew)
	}
	md.WriteString("\n## Native benchmarks (pure packages)\n\n| filter | benchmark | ns/op | MB/s | allocs/op |\n|---|---|---:|---:|---:|\n")
	for _, n := range rep.Native {
		mbps := "–"
		if n.MBps > 0 {
			mbps = fmt.Sprintf("%.1f", n.MBps)
		}
		fmt.Fprintf(&md, "| %s | %s.%s | %.0f | %s | %.0f |\n", n.Filter, n.Pkg, n.Name, n.NsOp, mbps, n.Allocs)
	}
	if l := rep.Load; l != nil {
		fmt.Fprintf(&md, "\n## Under load (hostsim serve processes, %d KiB requests, mock upstream)\n\n", l.BodyKiB)
		if l.Error != "" {
			fmt.Fprintf(&md, "load test failed: %s\n", l.Error)
		} else {
			md.WriteString("| gateway | tool | req/s | p50 | p99 | errors |\n|---|---|---:|---:|---:|---:|\n")
			for i := range l.Base {
				rows := []struct {
					n string
					l bench.Load
				}{{"no filters", l.Base[i]}, {"four-filter chain", l.Chain[i]}}
				if i < len(l.Combined) {
					rows = append(rows, struct {
						n string
						l bench.Load
					}{"combined module", l.Combined[i]})
				}
				for _, x := range rows {
					fmt.Fprintf(&md, "| %s | %s | %.0f | %.2f ms | %.2f ms | %d/%d |\n", x.n, x.l.Tool, x.l.RPS, ms(x.l.P50), ms(x.l.P99), x.l.Errors, x.l.Requests)
				}
			}
			fmt.Fprintf(&md, "\nChain vs no filters, same run: throughput %.2f×, p50 latency %.2f×, p99 latency %.2f×.\n", l.RPSRatio, l.P50Ratio, l.P99Ratio)
			if len(l.Combined) > 0 {
				fmt.Fprintf(&md, "Combined module vs no filters, same run: throughput %.2f×, p50 latency %.2f×, p99 latency %.2f×.\n", l.CombinedRPSRatio, l.CombinedP50Ratio, l.CombinedP99Ratio)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(out, "bench.md"), []byte(md.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	// Charts: p50 per body size for each target; load throughput.
	var cats []string
	for _, k := range bench.Sizes {
		cats = append(cats, fmt.Sprintf("%d KiB", k))
	}
	colors := []string{"#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756"}
	var series []eval.Series
	for i, tg := range append(append([]string{}, bench.Filters...), "chain") {
		s := eval.Series{Name: tg, Color: colors[i%len(colors)]}
		for _, k := range bench.Sizes {
			v := math.NaN()
			for _, l := range rep.Wasm {
				if l.Target == tg && l.KiB == k && l.Toolchain != "tinygo" {
					v = l.P50US / 1000
				}
			}
			s.Values = append(s.Values, v)
		}
		series = append(series, s)
	}
	_ = os.WriteFile(filepath.Join(out, "latency.svg"), eval.BarChartLog("p50 latency per request in wasm (ms, log scale)", cats, series, " ms"), 0o644)
	if len(rep.Cells) > 0 {
		_ = os.WriteFile(filepath.Join(out, "cells.svg"), cellsChart(rep.Cells), 0o644)
	}
	if l := rep.Load; l != nil && l.Error == "" && len(l.Base) > 0 {
		var b, c, cm []float64
		for i := range l.Base {
			b, c = append(b, l.Base[i].RPS), append(c, l.Chain[i].RPS)
			if i < len(l.Combined) {
				cm = append(cm, l.Combined[i].RPS)
			}
		}
		var rc []string
		for i := range l.Base {
			rc = append(rc, fmt.Sprintf("round %d", i+1))
		}
		mx := 0.0
		for _, v := range append(append(b, c...), cm...) {
			mx = math.Max(mx, v)
		}
		title := fmt.Sprintf("req/s under load (chain/no filters %.2f×)", l.RPSRatio)
		series := []eval.Series{{Name: "no filters", Color: "#999999", Values: b}, {Name: "four-filter chain", Color: "#4c78a8", Values: c}}
		if len(cm) == len(b) {
			title = fmt.Sprintf("req/s under load (vs no filters: chain %.2f×, combined %.2f×)", l.RPSRatio, l.CombinedRPSRatio)
			series = append(series, eval.Series{Name: "combined module", Color: "#f58518", Values: cm})
		}
		_ = os.WriteFile(filepath.Join(out, "load.svg"), eval.BarChart(title, rc, series, niceMax(mx), false, ""), 0o644)
	}
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// cellsChart draws the exchange cells of the std Go build (not TinyGo's, not a -before build): thread CPU per
// exchange for each cell, on the JSON exchange after another cell and repeated at once, and on the stream.
func cellsChart(rs []bench.CellResult) []byte {
	var cells []string
	val := map[string]float64{}
	for _, r := range rs {
		if strings.Contains(r.Cell, " ") {
			continue
		}
		if _, ok := val[r.Cell]; !ok {
			cells = append(cells, r.Cell)
			val[r.Cell] = 0
		}
		if r.Events == 0 {
			val[r.Cell+"/json"], val[r.Cell+"/warm"] = r.CPUUS/1000, r.WarmCPUUS/1000
		} else {
			val[r.Cell+"/stream"] = r.CPUUS / 1000
		}
	}
	series := []eval.Series{
		{Name: "4 KiB request + 4 KiB JSON answer, after another cell", Color: "#4c78a8"},
		{Name: "the same, repeated at once", Color: "#9ecae9"},
		{Name: "streamed answer (823 events)", Color: "#f58518"},
	}
	for _, c := range cells {
		for i, k := range []string{"/json", "/warm", "/stream"} {
			v, ok := val[c+k]
			if !ok {
				v = math.NaN()
			}
			series[i].Values = append(series[i].Values, v)
		}
	}
	return eval.BarChartLog("thread CPU per exchange (ms, log scale)", cells, series, " ms")
}

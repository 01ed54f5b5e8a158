package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// The exchange cells of issue 16: the same exchanges (shapes kept as data in testdata/exchanges/) through each
// filter alone, the chain of four and the combined module, interleaved round by round in one process, with the
// thread CPU of each exchange (wazero runs the guest on the calling goroutine's thread) and its wall time.

// Shape is one measured exchange, read from testdata/exchanges/<name>.request.json and <name>.answer.json (a
// JSON answer) or <name>.answer.sse (a streamed answer, delivered in 1 KiB chunks).
type Shape struct {
	Name     string
	Request  []byte
	Response hostsim.Response
	Events   int // SSE events in the answer (0: JSON)
}

// ShapesDir is where the shapes are, relative to the repository root.
const ShapesDir = "e2e/bench/testdata/exchanges"

// LoadShapes reads the shapes ("chat-4k": 4 KiB request + 4 KiB JSON answer; "chat-4k-stream": the same
// request streamed, 823 events).
func LoadShapes(root string, only ...string) ([]Shape, error) {
	var out []Shape
	for _, name := range []string{"chat-4k", "chat-4k-stream"} {
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		base := filepath.Join(root, ShapesDir, name)
		req, err := os.ReadFile(base + ".request.json")
		if err != nil {
			return nil, err
		}
		s := Shape{Name: name, Request: req}
		if b, err := os.ReadFile(base + ".answer.json"); err == nil {
			s.Response = hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Chunks: chunks(b, 16<<10)}
		} else if b, err := os.ReadFile(base + ".answer.sse"); err == nil {
			s.Events = strings.Count(string(b), "\n\n")
			s.Response = hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunks(b, 1<<10)}
		} else {
			return nil, fmt.Errorf("bench: %s: no answer file", base)
		}
		out = append(out, s)
	}
	return out, nil
}

// Cell is one configuration of modules measured on every shape.
type Cell struct {
	Name string
	Host *hostsim.Host
}

// CombinedConfig is the combined module's configuration: each filter's measured configuration under its key.
func CombinedConfig() ([]byte, error) {
	doc := map[string]json.RawMessage{}
	for _, f := range Filters {
		c, err := FilterConfig(f)
		if err != nil {
			return nil, err
		}
		doc[f] = c
	}
	return json.Marshal(doc)
}

// StartCells starts the cells: each filter alone, the chain of four and (when dist has it) the combined module
// dist/wasmguard.wasm, each on one worker VM per module. label is appended to the names ("" for none). only,
// when not empty, keeps the cells it names (filter names, "chain", "combined").
func StartCells(dist, label string, only ...string) ([]Cell, error) {
	var cells []Cell
	add := func(name string, specs []hostsim.PluginSpec) error {
		if len(only) > 0 && !slices.Contains(only, name) {
			return nil
		}
		h, err := StartChain(specs)
		if err != nil {
			return err
		}
		cells = append(cells, Cell{Name: name + label, Host: h})
		return nil
	}
	for _, f := range Filters {
		specs, err := Specs(dist, f)
		if err != nil {
			return nil, err
		}
		if err := add(f, specs); err != nil {
			return nil, err
		}
	}
	specs, err := Specs(dist, Filters...)
	if err != nil {
		return nil, err
	}
	if err := add("chain", specs); err != nil {
		return nil, err
	}
	if wasm, err := os.ReadFile(filepath.Join(dist, "wasmguard.wasm")); err == nil {
		cfg, err := CombinedConfig()
		if err != nil {
			return nil, err
		}
		if err := add("combined", []hostsim.PluginSpec{{Name: "wasmguard", Wasm: wasm, Config: cfg}}); err != nil {
			return nil, err
		}
	}
	return cells, nil
}

// CellResult is one cell on one shape.
type CellResult struct {
	Cell   string  `json:"cell"`
	Shape  string  `json:"shape"`
	N      int     `json:"n"`
	CPUUS  float64 `json:"cpu_us"` // median thread CPU per exchange
	P50US  float64 `json:"p50_us"` // wall time
	P99US  float64 `json:"p99_us"`
	Events int     `json:"events,omitempty"`
	// WarmCPUUS is the median thread CPU of the same exchange repeated at once by the same cell: its module's
	// code and data still in the CPU's caches, where CPUUS's exchange follows another cell's.
	WarmCPUUS float64 `json:"warm_cpu_us,omitempty"`
	// AllocUS and AllocWarmUS: the median thread CPU of one host call of the guest's allocator for a value of at
	// least 1 KiB (the request and answer bodies), in the exchange after another cell and in the repeated one
	// (JSON answers only).
	AllocUS     float64 `json:"alloc_us,omitempty"`
	AllocWarmUS float64 `json:"alloc_warm_us,omitempty"`
}

// allocMin is the smallest allocation the cells time (the 4 KiB bodies; not header maps).
const allocMin = 1 << 10

// RunCells runs rounds rounds; in each round every cell does each shape's exchange twice in a row, so a slow
// period of the machine hits every cell alike: the first exchange follows another cell's (CPUUS, P50US, P99US),
// the second repeats it at once (WarmCPUUS). warm rounds come first and are not counted.
func RunCells(cells []Cell, shapes []Shape, rounds, warm int) ([]CellResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	type acc struct{ cpu, wall, warmCPU, alloc, allocWarm []time.Duration }
	accs := make([][]acc, len(cells))
	for i := range accs {
		accs[i] = make([]acc, len(shapes))
	}
	for r := -warm; r < rounds; r++ {
		for k := range cells {
			ci := k
			if r%2 != 0 {
				ci = len(cells) - 1 - k // every other round in reverse: no cell always runs after the same one
			}
			c := cells[ci]
			for si, s := range shapes {
				a := &accs[ci][si]
				timeAllocs := s.Events == 0
				for rep := 0; rep < 2; rep++ {
					c.Host.TimeAllocations(timeAllocs)
					c0, ok := threadCPU()
					t0 := time.Now()
					err := exchangeShape(c.Host, s)
					wall := time.Since(t0)
					c1, ok2 := threadCPU()
					c.Host.TimeAllocations(false)
					allocs := c.Host.AllocSamples()
					if err != nil {
						return nil, fmt.Errorf("%s, %s: %w", c.Name, s.Name, err)
					}
					if r < 0 {
						continue
					}
					cpu, al := &a.cpu, &a.alloc
					if rep == 0 {
						a.wall = append(a.wall, wall)
					} else {
						cpu, al = &a.warmCPU, &a.allocWarm
					}
					if ok && ok2 {
						*cpu = append(*cpu, c1-c0)
					}
					for _, x := range allocs {
						if x.Size >= allocMin {
							*al = append(*al, x.CPU)
						}
					}
				}
			}
		}
	}
	var out []CellResult
	for ci, c := range cells {
		for si, s := range shapes {
			a := accs[ci][si]
			out = append(out, CellResult{Cell: c.Name, Shape: s.Name, N: len(a.wall), Events: s.Events,
				CPUUS: us1(Percentile(a.cpu, 50)), P50US: us1(Percentile(a.wall, 50)), P99US: us1(Percentile(a.wall, 99)),
				WarmCPUUS: us1(Percentile(a.warmCPU, 50)), AllocUS: us1(Percentile(a.alloc, 50)), AllocWarmUS: us1(Percentile(a.allocWarm, 50))})
		}
	}
	return out, nil
}

func us1(d time.Duration) float64 { return float64(d.Nanoseconds()/100) / 10 }

func exchangeShape(h *hostsim.Host, s Shape) error {
	res := h.Do(hostsim.Request{
		Method: "POST", Path: "/v1/chat/completions", Authority: "api.openai.com", ChunkSize: 16 << 10,
		Headers: [][2]string{{"content-type", "application/json"}, {"authorization", "Bearer sk-bench"}},
		Body:    s.Request,
	}, s.Response)
	switch {
	case res.Trapped:
		return fmt.Errorf("a filter trapped: %v", res.Traps)
	case res.Upstream == nil:
		return fmt.Errorf("the request was not forwarded (status %d: %.200s)", res.Status, res.Body)
	case res.Status != 200:
		return fmt.Errorf("status %d: %.200s", res.Status, res.Body)
	}
	return nil
}

// CellTable renders results as a markdown table: one row per shape, one column per cell (median thread CPU per
// exchange; p50 / p99 wall time below).
func CellTable(rs []CellResult) string {
	var cells, shapes []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen["c"+r.Cell] {
			seen["c"+r.Cell] = true
			cells = append(cells, r.Cell)
		}
		if !seen["s"+r.Shape] {
			seen["s"+r.Shape] = true
			shapes = append(shapes, r.Shape)
		}
	}
	get := func(c, s string) *CellResult {
		for i := range rs {
			if rs[i].Cell == c && rs[i].Shape == s {
				return &rs[i]
			}
		}
		return nil
	}
	var b strings.Builder
	b.WriteString("| exchange | " + strings.Join(cells, " | ") + " |\n|---|" + strings.Repeat("---:|", len(cells)) + "\n")
	for _, s := range shapes {
		fmt.Fprintf(&b, "| %s, thread CPU µs |", s)
		for _, c := range cells {
			fmt.Fprintf(&b, " %.0f |", get(c, s).CPUUS)
		}
		fmt.Fprintf(&b, "\n| %s, p50 / p99 µs |", s)
		for _, c := range cells {
			r := get(c, s)
			fmt.Fprintf(&b, " %.0f / %.0f |", r.P50US, r.P99US)
		}
		fmt.Fprintf(&b, "\n| %s repeated at once (warm caches), thread CPU µs |", s)
		for _, c := range cells {
			fmt.Fprintf(&b, " %.0f |", get(c, s).WarmCPUUS)
		}
		if get(cells[0], s).AllocUS > 0 {
			fmt.Fprintf(&b, "\n| %s, one ≥ 1 KiB guest allocation by the host, µs (after another cell / repeated) |", s)
			for _, c := range cells {
				r := get(c, s)
				fmt.Fprintf(&b, " %.1f / %.1f |", r.AllocUS, r.AllocWarmUS)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// StartStageCells starts the combined module of dist with its stages added one at a time in request order: no
// stage (the module's own plumbing: callbacks, header and body reads), promptguard alone, then piimask, then
// tokenbudget added (all four is the "combined" cell). Successive differences are each stage's cost inside the
// combined module; the first stage that parses a body pays that parse.
func StartStageCells(dist string) ([]Cell, error) {
	wasm, err := os.ReadFile(filepath.Join(dist, "wasmguard.wasm"))
	if err != nil {
		return nil, err
	}
	var cells []Cell
	for n := 0; n < len(Filters); n++ {
		doc := map[string]json.RawMessage{}
		for _, f := range Filters[:n] {
			c, err := FilterConfig(f)
			if err != nil {
				return nil, err
			}
			doc[f] = c
		}
		cfg, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		name := "combined: no stage"
		if n > 0 {
			name = "combined: " + strings.Join(Filters[:n], "+")
		}
		h, err := StartChain([]hostsim.PluginSpec{{Name: "wasmguard", Wasm: wasm, Config: cfg}})
		if err != nil {
			for _, c := range cells {
				c.Host.Close()
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cells = append(cells, Cell{Name: name, Host: h})
	}
	return cells, nil
}

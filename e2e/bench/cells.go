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
}

// RunCells runs rounds rounds; in each round every cell does one exchange of every shape, so a slow period of
// the machine hits every cell alike. warm exchanges per cell and shape come first and are not counted.
func RunCells(cells []Cell, shapes []Shape, rounds, warm int) ([]CellResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	type acc struct{ cpu, wall []time.Duration }
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
				c0, ok := threadCPU()
				t0 := time.Now()
				if err := exchangeShape(c.Host, s); err != nil {
					return nil, fmt.Errorf("%s, %s: %w", c.Name, s.Name, err)
				}
				wall := time.Since(t0)
				c1, ok2 := threadCPU()
				if r < 0 {
					continue
				}
				a := &accs[ci][si]
				a.wall = append(a.wall, wall)
				if ok && ok2 {
					a.cpu = append(a.cpu, c1-c0)
				}
			}
		}
	}
	var out []CellResult
	for ci, c := range cells {
		for si, s := range shapes {
			a := accs[ci][si]
			out = append(out, CellResult{Cell: c.Name, Shape: s.Name, N: len(a.wall), Events: s.Events,
				CPUUS: us1(Percentile(a.cpu, 50)), P50US: us1(Percentile(a.wall, 50)), P99US: us1(Percentile(a.wall, 99))})
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
		b.WriteString("\n")
	}
	return b.String()
}

// Package memory checks that the built filters keep their linear memory bounded under sustained traffic, for
// whichever build WASMGUARD_DIST points at (`make test` runs it on both: dist/, then dist/tinygo/ through
// `make test-tinygo`). Wasm linear memory never shrinks, so the size after a run is the high-water mark of the
// whole run. TinyGo builds pass only because no large buffer of an exchange becomes garbage there
// (sdk/filter/pool.go, and outputguard's stream text in sdk/filter.Lend buffers): before that, every 1 MiB
// exchange left blocks pinned by false roots in the data section and the VMs reached 116-464 MiB after 50 of them
// (outputguard 140 MiB after 20 streamed 1 MiB answers).
//
// The traffic goes through the chain of four modules (one VM each) and, under WASMGUARD_MEMORY_COMBINED=1,
// through the combined module (TestLinearMemoryBoundedCombined). By default it runs 1,000 exchanges of 16 KiB,
// 50 of 1 MiB and 20 streamed 1 MiB answers (a few minutes on a 2-core machine); WASMGUARD_MEMORY_FULL=1 runs
// issue 15's counts (10,000 × 16 KiB, 1,000 × 1 MiB, 1,000 streamed 1 MiB answers). The bound is the same.
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmguard/wasmguard/e2e/bench"
	"github.com/wasmguard/wasmguard/hostsim"
)

// maxLinearMemory is the bound per VM (issue 15).
const maxLinearMemory = 64 << 20

// count is n under WASMGUARD_MEMORY_FULL=1, else def.
func count(n, def int) int {
	if os.Getenv("WASMGUARD_MEMORY_FULL") == "1" {
		return n
	}
	return def
}

// sseAnswer is an OpenAI chat completion stream of about kib KiB of benign prose in ~100-byte deltas.
func sseAnswer(kib int) [][]byte {
	text := bench.Text(kib)
	var chunks [][]byte
	var cur strings.Builder
	for i := 0; i < len(text); i += 100 {
		delta, _ := json.Marshal(text[i:min(i+100, len(text))])
		fmt.Fprintf(&cur, `data: {"id":"chatcmpl-m","object":"chat.completion.chunk","created":1763769600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", delta)
		if cur.Len() >= 16<<10 {
			chunks = append(chunks, []byte(cur.String()))
			cur.Reset()
		}
	}
	cur.WriteString(`data: {"id":"chatcmpl-m","object":"chat.completion.chunk","created":1763769600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")
	return append(chunks, []byte(cur.String()))
}

func streamRequest() []byte {
	b, _ := json.Marshal(map[string]any{
		"model": "gpt-4o-mini", "stream": true, "max_tokens": 256,
		"messages": []any{map[string]any{"role": "user", "content": "Tell me about bridges."}},
	})
	return b
}

func checkBound(t *testing.T, h *hostsim.Host, names []string, phase string) {
	t.Helper()
	for _, n := range names {
		size, ok := h.MemorySize(n, 0)
		if !ok {
			t.Fatalf("%s: no memory size for %s", phase, n)
		}
		t.Logf("%-12s after %-26s %5.1f MiB", n, phase, float64(size)/(1<<20))
		if size > maxLinearMemory {
			t.Errorf("%s: linear memory %.1f MiB after %s, bound %d MiB", n, float64(size)/(1<<20), phase, maxLinearMemory>>20)
		}
	}
}

// TestLinearMemoryBounded runs the four-filter chain (one VM per filter, as Envoy runs a chain) through
// exchanges of 16 KiB, of 1 MiB (request and JSON answer, both in 16 KiB chunks) and streamed 1 MiB SSE
// answers, and requires every VM's linear memory to stay at or under 64 MiB.
func TestLinearMemoryBounded(t *testing.T) {
	for _, f := range bench.Filters {
		hostsim.DistWasm(t, f)
	}
	specs, err := bench.Specs(hostsim.DistDir(), bench.Filters...)
	if err != nil {
		t.Fatal(err)
	}
	runBounded(t, specs)
}

// TestLinearMemoryBoundedCombined: the same traffic through the combined module (dist/wasmguard.wasm: the four
// filters as stages in one VM), whose one VM must stay at or under 64 MiB too. It runs under
// WASMGUARD_MEMORY_COMBINED=1 only: `make test` sets it for the std Go builds (47.5 MiB) and `make
// test-tinygo-memory` for the TinyGo builds, where it fails today (README "TinyGo builds": the TinyGo combined
// module reaches 312 MiB after 50 × 1 MiB exchanges and traps at the 240th).
func TestLinearMemoryBoundedCombined(t *testing.T) {
	if os.Getenv("WASMGUARD_MEMORY_COMBINED") != "1" {
		t.Skip("the combined module's bound runs under WASMGUARD_MEMORY_COMBINED=1 (fails on TinyGo builds today: make test-tinygo-memory)")
	}
	wasm := hostsim.DistWasm(t, "wasmguard")
	cfg, err := bench.CombinedConfig()
	if err != nil {
		t.Fatal(err)
	}
	runBounded(t, []hostsim.PluginSpec{{Name: "wasmguard", Wasm: wasm, Config: cfg}})
}

// runBounded sends the traffic through specs (one VM each) and checks every VM against the bound after each
// phase.
func runBounded(t *testing.T, specs []hostsim.PluginSpec) {
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	h, err := hostsim.Start(hostsim.Config{Profile: hostsim.ProfileEnvoy, Workers: 1, NoCanary: true, Plugins: specs, BufferLimit: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	checkBound(t, h, names, "start")

	for _, ph := range []struct {
		kib, n int
	}{{16, count(10000, 1000)}, {1024, count(1000, 50)}} {
		c := bench.CaseFor("chain", ph.kib)
		n := ph.n
		start := time.Now()
		for i := 0; i < n; i++ {
			if err := bench.Exchange(h, c); err != nil {
				t.Fatalf("%d KiB exchange %d: %v", ph.kib, i, err)
			}
		}
		t.Logf("%d × %d KiB: %v", n, ph.kib, time.Since(start).Round(time.Millisecond))
		checkBound(t, h, names, fmt.Sprintf("%d × %d KiB", n, ph.kib))
	}

	req, answer := streamRequest(), sseAnswer(1024)
	n := count(1000, 20)
	start := time.Now()
	for i := 0; i < n; i++ {
		res := h.Do(hostsim.Request{
			Method: "POST", Path: "/v1/chat/completions", Authority: "api.openai.com",
			Headers: [][2]string{{"content-type", "application/json"}, {"authorization", "Bearer sk-bench"}},
			Body:    req,
		}, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: answer})
		if res.Trapped || res.Status != 200 || len(res.Body) < 1<<20 {
			t.Fatalf("streamed exchange %d: status %d, %d bytes, trapped %v %v", i, res.Status, len(res.Body), res.Trapped, res.Traps)
		}
	}
	t.Logf("%d streamed 1 MiB answers: %v", n, time.Since(start).Round(time.Millisecond))
	checkBound(t, h, names, fmt.Sprintf("%d streamed 1 MiB answers", n))
}

// TestNoPinningMalloc: a module must not export malloc (or free/calloc/realloc). Envoy's host library
// (proxy-wasm-cpp-host) allocates everything it hands the filter with an exported malloc in preference to
// proxy_on_memory_allocate, and never frees it; TinyGo's malloc keeps every block alive until free, so each
// body and header map read would stay in linear memory for the VM's life. (hostsim calls
// proxy_on_memory_allocate first, so TestLinearMemoryBounded alone would not see it.)
func TestNoPinningMalloc(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter()) // only the exports are read
	defer r.Close(ctx)
	for _, f := range append(bench.Filters, "wasmguard") {
		wasm := hostsim.DistWasm(t, f)
		cm, err := r.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ex := cm.ExportedFunctions()
		if _, ok := ex["proxy_on_memory_allocate"]; !ok {
			t.Errorf("%s exports no proxy_on_memory_allocate", filepath.Join(hostsim.DistDir(), f+".wasm"))
		}
		for _, name := range []string{"malloc", "free", "calloc", "realloc"} {
			if _, ok := ex[name]; ok {
				t.Errorf("%s exports %s (make build runs tools/unexport on TinyGo modules)", filepath.Join(hostsim.DistDir(), f+".wasm"), name)
			}
		}
	}
}

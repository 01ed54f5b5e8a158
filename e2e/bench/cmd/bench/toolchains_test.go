package main

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/e2e/bench"
	"github.com/wasmguard/wasmguard/hostsim"
)

// TestToolchainTables: recorded std Go and TinyGo figures come out side by side in the same row, with the
// TinyGo/Go ratio; the chain's module row sums its four modules; a figure without its twin gets no row, and a
// report from before TinyGo was measured (no toolchain recorded) counts as std Go.
func TestToolchainTables(t *testing.T) {
	rep := &report{Toolchains: []string{"go", "tinygo"}}
	for i, f := range bench.Filters {
		rep.Modules = append(rep.Modules,
			module{Filter: f, SizeBytes: 8 << 20, CompileMS: 1000 + float64(i), InstantiateMS: 10},
			module{Filter: f, Toolchain: "tinygo", SizeBytes: 1 << 20, CompileMS: 100, InstantiateMS: 5})
	}
	rep.Wasm = []latency{
		{Target: "chain", Toolchain: "go", KiB: 16, P50US: 3000, P99US: 9000},
		{Target: "chain", Toolchain: "tinygo", KiB: 16, P50US: 1500, P99US: 4000},
		{Target: "piimask", Toolchain: "go", KiB: 64, P50US: 600, P99US: 700}, // no TinyGo twin
	}
	rep.Memory = []memory{
		{Target: "chain", Requests: 1000, AfterBytes: 40 << 20},
		{Target: "chain", Toolchain: "tinygo", Requests: 1000, AfterBytes: 20 << 20},
	}
	rep.Cells = []bench.CellResult{
		{Cell: "chain", Shape: "chat-4k", CPUUS: 2000, P50US: 2100, P99US: 5000},
		{Cell: "chain" + tinygoLabel, Shape: "chat-4k", CPUUS: 500, P50US: 600, P99US: 900},
		{Cell: "chain (before)", Shape: "chat-4k", CPUUS: 2200},
	}
	md := toolchainTables(rep)
	for _, want := range []string{
		"| promptguard | 8192 / 1024 KiB (0.12×) | 1000 / 100 ms (0.10×) | 10.0 / 5.0 ms (0.50×) | – |",
		"| chain | 32768 / 4096 KiB (0.12×) | 4006 / 400 ms (0.10×) | 40.0 / 20.0 ms (0.50×) | 40.0 / 20.0 MiB (N=1000) |",
		"| chain | 16 KiB | 3000 / 9000 µs | 1500 / 4000 µs | 0.50× |",
		"| chain | chat-4k | 2000 / 500 µs (0.25×) | 2100 / 5000 µs | 600 / 900 µs |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing row %q in\n%s", want, md)
		}
	}
	if strings.Contains(md, "64 KiB") || strings.Contains(md, "(before)") {
		t.Errorf("a figure without its TinyGo twin got a row:\n%s", md)
	}
	if label("chain", "tinygo") != "chain (tinygo)" || label("chain", "") != "chain" || label("chain", "go") != "chain" {
		t.Errorf("labels: %q %q", label("chain", "tinygo"), label("chain", "go"))
	}
}

// TestCompileMS: the compile time is measured on a real compile (a fresh runtime, so not a cache hit: a second
// compile of the same module takes about as long as the first) and a module wazero refuses is an error.
func TestCompileMS(t *testing.T) {
	if _, err := compileMS([]byte("not wasm")); err == nil {
		t.Error("compileMS accepted bytes that are not a module")
	}
	wasm := hostsim.DistWasm(t, "tokenbudget")
	a, err := compileMS(wasm)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compileMS(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if a <= 0 || b < a/10 {
		t.Errorf("compile %.1f ms, then %.1f ms: the second looks like a cache hit", a, b)
	}
}

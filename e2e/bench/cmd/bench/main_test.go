package main

import (
	"testing"

	"github.com/wasmguard/wasmguard/e2e/bench"
	"github.com/wasmguard/wasmguard/hostsim"
)

// TestMeasureMemory: the bench reads the chain's linear memory through hostsim (not "not measured") before and
// after the requests, and the reading after the requests is at least the warm one (Go's wasm heap never shrinks
// linear memory).
func TestMeasureMemory(t *testing.T) {
	var specs []hostsim.PluginSpec
	for _, f := range bench.Filters {
		hostsim.DistWasm(t, f)
		s, err := bench.Specs(hostsim.DistDir(), f)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s...)
	}
	h, err := bench.StartChain(specs)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	m := measureMemory(h, bench.Filters, "chain", 20, t.Logf)
	if m.Unavailable != "" {
		t.Fatalf("memory not measured: %s", m.Unavailable)
	}
	if m.WarmBytes < uint64(len(bench.Filters))<<16 || m.AfterBytes < m.WarmBytes || m.Grew != (m.AfterBytes > m.WarmBytes) {
		t.Errorf("memory: %+v", m)
	}
}

package main

import (
	"fmt"
	"strings"

	"github.com/wasmguard/wasmguard/e2e/bench"
)

// tinygoLabel is appended to the names of the TinyGo builds' targets and cells ("chain (tinygo)").
const tinygoLabel = " (tinygo)"

// label is a target's name in the tables: the name, with tinygoLabel for the TinyGo build.
func label(name, toolchain string) string {
	if toolchain == "tinygo" {
		return name + tinygoLabel
	}
	return name
}

// isGo reports whether a recorded figure is of the std Go build ("" in reports written before TinyGo was
// measured).
func isGo(toolchain string) bool { return toolchain == "" || toolchain == "go" }

// ratio formats b/a as "0.42×" ("–" when a figure is missing).
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", b/a)
}

// toolchainTables renders the std Go and TinyGo figures of one run side by side: per filter and for the chain,
// the module (size, compile + start, instantiate, linear memory after the run), the latency per body size, and
// the exchange cells. The chain's module figures are the sums over its four modules (one VM each).
func toolchainTables(rep *report) string {
	var b strings.Builder
	b.WriteString("## TinyGo beside std Go (one run; toolchains interleaved)\n\n")
	targets := append(append([]string{}, bench.Filters...), "chain")

	// Modules and memory.
	mod := func(target string, tinygo bool) (m module, ok bool) {
		for _, x := range rep.Modules {
			if isGo(x.Toolchain) == tinygo {
				continue
			}
			if x.Filter == target {
				return x, true
			}
			if target == "chain" {
				m.SizeBytes += x.SizeBytes
				m.CompileMS += x.CompileMS
				m.InstantiateMS += x.InstantiateMS
				ok = true
			}
		}
		return m, ok && target == "chain"
	}
	mem := func(target string, tinygo bool) (memory, bool) {
		for _, x := range rep.Memory {
			if x.Target == target && isGo(x.Toolchain) != tinygo && x.Unavailable == "" {
				return x, true
			}
		}
		return memory{}, false
	}
	b.WriteString("| target | module size Go / TinyGo | compile (no cache) Go / TinyGo | instantiate + start Go / TinyGo | linear memory after the run Go / TinyGo |\n|---|---:|---:|---:|---:|\n")
	for _, t := range targets {
		g, okg := mod(t, false)
		y, oky := mod(t, true)
		if !okg && !oky {
			continue
		}
		memCol := "–"
		if mg, ok := mem(t, false); ok {
			if my, ok := mem(t, true); ok {
				memCol = fmt.Sprintf("%.1f / %.1f MiB (N=%d)", mib(mg.AfterBytes), mib(my.AfterBytes), mg.Requests)
			}
		}
		fmt.Fprintf(&b, "| %s | %.0f / %.0f KiB (%s) | %.0f / %.0f ms (%s) | %.1f / %.1f ms (%s) | %s |\n", t,
			float64(g.SizeBytes)/1024, float64(y.SizeBytes)/1024, ratio(float64(g.SizeBytes), float64(y.SizeBytes)),
			g.CompileMS, y.CompileMS, ratio(g.CompileMS, y.CompileMS),
			g.InstantiateMS, y.InstantiateMS, ratio(g.InstantiateMS, y.InstantiateMS), memCol)
	}

	// Latency per body size.
	lat := func(target string, kib int, tinygo bool) (latency, bool) {
		for _, x := range rep.Wasm {
			if x.Target == target && x.KiB == kib && isGo(x.Toolchain) != tinygo {
				return x, true
			}
		}
		return latency{}, false
	}
	var lrows strings.Builder
	for _, t := range targets {
		for _, kib := range bench.Sizes {
			g, ok1 := lat(t, kib, false)
			y, ok2 := lat(t, kib, true)
			if !ok1 || !ok2 {
				continue
			}
			fmt.Fprintf(&lrows, "| %s | %d KiB | %.0f / %.0f µs | %.0f / %.0f µs | %s |\n", t, kib, g.P50US, g.P99US, y.P50US, y.P99US, ratio(g.P50US, y.P50US))
		}
	}
	if lrows.Len() > 0 {
		b.WriteString("\nOne whole exchange per body size (as in the per-request table below), the toolchains alternating in batches of 10:\n\n" +
			"| target | body | Go p50 / p99 | TinyGo p50 / p99 | TinyGo/Go p50 |\n|---|---:|---:|---:|---:|\n")
		b.WriteString(lrows.String())
	}

	// Exchange cells: each cell beside its TinyGo twin.
	cell := func(name, shape string) (bench.CellResult, bool) {
		for _, x := range rep.Cells {
			if x.Cell == name && x.Shape == shape {
				return x, true
			}
		}
		return bench.CellResult{}, false
	}
	var crows strings.Builder
	for _, g := range rep.Cells {
		if strings.HasSuffix(g.Cell, tinygoLabel) || strings.HasSuffix(g.Cell, ")") {
			continue
		}
		y, ok := cell(g.Cell+tinygoLabel, g.Shape)
		if !ok {
			continue
		}
		fmt.Fprintf(&crows, "| %s | %s | %.0f / %.0f µs (%s) | %.0f / %.0f µs | %.0f / %.0f µs |\n", g.Cell, g.Shape,
			g.CPUUS, y.CPUUS, ratio(g.CPUUS, y.CPUUS), g.P50US, g.P99US, y.P50US, y.P99US)
	}
	if crows.Len() > 0 {
		b.WriteString("\nThe exchange cells (every cell of both toolchains in each round):\n\n" +
			"| cell | exchange | thread CPU Go / TinyGo (TinyGo/Go) | Go p50 / p99 | TinyGo p50 / p99 |\n|---|---|---:|---:|---:|\n")
		b.WriteString(crows.String())
	}
	b.WriteString("\n")
	return b.String()
}

// Command scanbench is the guest side of piimask's wasm scan benchmark (BenchmarkWasmScanLoop): built for
// wasip1 and run in wazero, it scans a benchmark text (sparse, dense or prose, 256 KiB) a given number of times with
// every entity type enabled. The host measures the CPU time of runs with different counts.
//
//	scanbench sparse|dense|prose[-plain] <iterations>
//
// The -plain kinds run the byte scanner alone (pii.Scanner.ScanPlain, without the canonical view), so the
// benchmark shows what the canonical pass costs in the same run.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/piimask/internal/benchtext"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: scanbench sparse|dense|prose[-plain] <iterations>")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanbench: iterations:", err)
		os.Exit(2)
	}
	kind, plain := strings.CutSuffix(os.Args[1], "-plain")
	text := benchtext.Sparse(256 << 10)
	switch kind {
	case "dense":
		text = benchtext.Dense(256 << 10)
	case "prose":
		text = benchtext.Prose(256 << 10)
	}
	s := pii.New(pii.All(), nil)
	scan := s.Scan
	if plain {
		scan = s.ScanPlain
	}
	var ms []pii.Match
	found := 0
	for i := 0; i < n; i++ {
		ms = scan(text, ms[:0])
		found += len(ms)
	}
	fmt.Println(len(text), found)
}

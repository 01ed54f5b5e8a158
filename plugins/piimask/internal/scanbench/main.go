// Command scanbench is the guest side of piimask's wasm scan benchmark (BenchmarkWasmScanLoop): built for
// wasip1 and run in wazero, it scans a benchmark text (sparse or dense, 256 KiB) a given number of times with
// every entity type enabled. The host measures the CPU time of runs with different counts.
//
//	scanbench sparse|dense <iterations>
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/wasmguard/wasmguard/plugins/piimask/internal/benchtext"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: scanbench sparse|dense <iterations>")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanbench: iterations:", err)
		os.Exit(2)
	}
	text := benchtext.Sparse(256 << 10)
	if os.Args[1] == "dense" {
		text = benchtext.Dense(256 << 10)
	}
	s := pii.New(pii.All(), nil)
	var ms []pii.Match
	found := 0
	for i := 0; i < n; i++ {
		ms = s.Scan(text, ms[:0])
		found += len(ms)
	}
	fmt.Println(len(text), found)
}

// Command wasm is dist/outputguard.wasm: the outputguard stage alone (see package outputguard).
package main

import (
	"github.com/wasmguard/wasmguard/plugins/outputguard"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

func main() {}

func init() { filter.Run(outputguard.New) }

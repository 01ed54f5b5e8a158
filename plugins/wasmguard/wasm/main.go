// Command wasm is dist/wasmguard.wasm: the four filters in one module (see package wasmguard).
package main

import (
	"github.com/wasmguard/wasmguard/plugins/wasmguard"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

func main() {}

func init() { filter.RunCombined(wasmguard.Name, wasmguard.Stages...) }

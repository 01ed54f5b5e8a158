// Command wasm is dist/piimask.wasm: the piimask stage alone (see package piimask).
package main

import (
	"github.com/wasmguard/wasmguard/plugins/piimask"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

func main() {}

func init() { filter.Run(piimask.New) }

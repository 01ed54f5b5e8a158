// Command wasm is dist/promptguard.wasm: the promptguard stage alone (see package promptguard).
package main

import (
	"github.com/wasmguard/wasmguard/plugins/promptguard"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

func main() {}

func init() { filter.Run(promptguard.New) }

// Command wasm is dist/tokenbudget.wasm: the tokenbudget stage alone (see package tokenbudget).
package main

import (
	"github.com/wasmguard/wasmguard/plugins/tokenbudget"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

func main() {}

func init() { filter.Run(tokenbudget.New) }

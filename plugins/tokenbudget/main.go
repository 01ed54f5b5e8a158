// Command tokenbudget is the wasmguard tokenbudget proxy-wasm filter: token budgets that reserve before a
// request is forwarded, reconcile with the provider's usage afterwards and cut streams off when a hard
// budget is crossed. Build it with `make tokenbudget`; it lands in dist/tokenbudget.wasm.
package main

import "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

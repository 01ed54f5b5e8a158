// Package tokenbudget is the wasmguard token-budget filter: token budgets that reserve before a request is
// forwarded, reconcile with the provider's usage afterwards and cut streams off when a hard budget is crossed.
// It is a stage of sdk/filter's pipeline (filter.go); wasm/main.go builds it alone as dist/tokenbudget.wasm
// (`make tokenbudget`), plugins/wasmguard runs it with the other filters in dist/wasmguard.wasm.
package tokenbudget

// Command piimask is the wasmguard piimask proxy-wasm filter: it masks personal data and secrets in LLM
// requests (redact, mask, hash, reversible tokenize, block) and puts tokenized values back into the response
// of the same stream, streamed responses included. Build it with `make piimask`; it lands in
// dist/piimask.wasm. See README.md.
package main

import "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

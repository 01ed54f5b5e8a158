// Command promptguard is the wasmguard prompt-injection filter: it inspects the text segments of LLM API
// requests (user turns, tool results, retrieved documents; optionally the system prompt) and blocks or annotates
// requests whose injection score crosses the configured threshold. Build it with `make promptguard`; it lands
// in dist/promptguard.wasm. The detection logic lives in plugins/promptguard/detect.
package main

import "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

// Command outputguard is the wasmguard outputguard proxy-wasm filter: it validates LLM responses (non-streamed
// bodies and SSE streams of OpenAI chat, Responses, Anthropic and Gemini) before they reach the client:
// exfiltration links, unsafe markup, secret leaks, system-prompt leaks and JSON Schema conformance. Build it with
// `make outputguard`; it lands in dist/outputguard.wasm. The detection logic lives in plugins/outputguard/check.
package main

import "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

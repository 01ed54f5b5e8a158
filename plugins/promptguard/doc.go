// Package promptguard is the wasmguard prompt-injection filter: it inspects the text segments of LLM API
// requests (user turns, tool results, retrieved documents; optionally the system prompt) and blocks or annotates
// requests whose injection score crosses the configured threshold. It is a stage of sdk/filter's pipeline
// (filter.go); wasm/main.go builds it alone as dist/promptguard.wasm (`make promptguard`), plugins/wasmguard
// runs it with the other filters in dist/wasmguard.wasm. The detection logic lives in plugins/promptguard/detect.
package promptguard

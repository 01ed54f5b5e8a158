// Package outputguard is the wasmguard outputguard filter: it validates LLM responses (non-streamed bodies and
// SSE streams of OpenAI chat, Responses, Anthropic and Gemini) before they reach the client: exfiltration links,
// unsafe markup, secret leaks, system-prompt leaks and JSON Schema conformance. It is a stage of sdk/filter's
// pipeline (filter.go, process.go); wasm/main.go builds it alone as dist/outputguard.wasm (`make outputguard`),
// plugins/wasmguard runs it with the other filters in dist/wasmguard.wasm. The detection logic lives in
// plugins/outputguard/check.
package outputguard

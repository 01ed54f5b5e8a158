// Package sdk is the shared code of the wasmguard proxy-wasm filters. It holds no code itself; each
// subpackage does one job, and only sdk/filter talks to the proxy-wasm host:
//
//	sdk/config     typed, path-qualified reading of a filter's JSON configuration; mode / on_error /
//	               max_body_bytes; per-route rules (ParseRouted, Select)
//	sdk/llm        LLM API payloads (OpenAI chat and responses, Anthropic, Gemini, Ollama): format
//	               detection, text segments with provenance and exact byte locations, edits, usage
//	sdk/sse        incremental server-sent-events decoder and encoder
//	sdk/body       Content-Encoding decode/encode with a decoded-size limit; content-type helpers
//	sdk/reply      provider-shaped error responses and mid-stream error events
//	sdk/pii        one-pass PII and secret scanner (trigger bytes + validators: Luhn, mod-97, checksums,
//	               vendor key formats, entropy); shared by piimask, outputguard and the eval harness
//	sdk/render     text as a markdown renderer and a browser read it: URL decoding (character references,
//	               backslash escapes, percent), whether a position lies in a link construct (InLink)
//	sdk/placeholder  the recogniser of piimask's reversible placeholders ([EMAIL_3F9A2C7D]), shared by
//	               piimask (restore) and outputguard (a placeholder in a URL is the user's data)
//	sdk/swar       word-at-a-time helpers of the byte scanners (constants, byte order, an 8-byte Equal)
//	sdk/telemetry  the one-line decision log and metric names; never prompt text or PII
//	sdk/filter     proxywasm glue: config loading in OnPluginStart, request info, body accumulators,
//	               SSE rewriting, local replies, metrics
//
// Everything except sdk/filter is pure Go with no proxywasm import, tested natively, and written for
// the inside of a wasm VM: no goroutines, no reflection-based encoding/json, no regexp on per-request
// paths, no host calls from init(), no panics on bad input, few allocations. A filter (plugins/<name>)
// keeps its own logic pure too and uses sdk/filter only in its glue file.
package sdk

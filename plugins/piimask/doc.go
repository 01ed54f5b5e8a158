// Package piimask is the wasmguard piimask filter: it masks personal data and secrets in LLM requests (redact,
// mask, hash, reversible tokenize, block) and puts tokenized values back into the response of the same stream,
// streamed responses included. It is a stage of sdk/filter's pipeline (filter.go); wasm/main.go builds it alone
// as dist/piimask.wasm (`make piimask`), plugins/wasmguard runs it with the other filters in dist/wasmguard.wasm.
// See README.md.
package piimask

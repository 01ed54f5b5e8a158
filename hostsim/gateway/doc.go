// Package gateway is wasmguard's development HTTP gateway: it runs the real built filters (.wasm) in the hostsim
// proxy-wasm host in front of an HTTP upstream, the way Envoy would, so filters can be tried with curl and
// measured under load without installing Envoy or Kong. It is what `hostsim serve` runs. It is not a production
// proxy: no TLS, no HTTP/2 to the upstream, no retries, no connection limits beyond the Go defaults.
//
// It also holds a mock LLM upstream (NewMockLLM) that answers the OpenAI, Anthropic and Gemini APIs offline.
package gateway

// Package gateway is wasmguard's development HTTP gateway: it runs the real built filters (.wasm) in the hostsim
// proxy-wasm host in front of an HTTP upstream, the way Envoy would, so filters can be tried with curl and
// measured under load without installing Envoy or Kong. It is what `hostsim serve` runs.
//
// How it treats an exchange: the request headers go through the chain, then the body in 16 KiB chunks (a filter
// that pauses gets it buffered, as Envoy's StopIterationAndBuffer does; above max_request_bytes the client gets
// 413); the complete request the chain releases is sent upstream; the response headers and then every body
// chunk, as the upstream sends it, go back through the chain, and whatever the chain releases is written and
// flushed to the client at once (SSE streams stay streams). A local reply before the response headers went out
// is sent as the answer; after that the stream is reset, as Envoy does. A trapped VM fails closed (503).
//
// Concurrency: requests are spread round-robin over the worker VMs (Config.Workers). Each exchange runs on its own
// goroutine; calls into one VM are serialized (a VM is single-threaded, like an Envoy worker thread), so streams
// on one worker interleave between callbacks. http_call clusters are real HTTP calls made by the goroutine of the
// stream that dispatched them, outside the VM lock: a slow cluster holds up that stream only, not the worker's
// other streams. Every root context (one per plugin per worker VM) gets proxy_on_tick at the period the plugin set
// with proxy_set_tick_period_milliseconds (0: none), as Envoy and Kong tick each worker; ticks stop on Close.
//
// It is not a production proxy: no TLS, no HTTP/2 to the upstream, no retries, no trailers, no connection limits
// beyond the Go defaults.
//
// The package also holds a mock LLM upstream (NewMockLLM) that answers the OpenAI, Anthropic and Gemini APIs
// offline, as JSON or SSE streams with usage.
package gateway

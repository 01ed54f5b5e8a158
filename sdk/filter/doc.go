// Package filter is the proxy-wasm glue every wasmguard filter shares, and the only sdk package that
// imports proxywasm. It keeps the host-facing parts thin and identical across filters: configuration
// loading in OnPluginStart, request information, body accumulation, SSE rewriting, local replies,
// metrics and decision logs. Pure logic lives in the filters' own packages and in sdk/config, sdk/llm,
// sdk/sse, sdk/body, sdk/reply and sdk/telemetry.
//
// A filter's glue, in outline:
//
//	type pluginContext struct {
//		types.DefaultPluginContext
//		cfg     *config.Routed[Config]
//		metrics *filter.Metrics
//		blocked *filter.CounterVec
//	}
//
//	func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
//		cfg, ok := filter.LoadConfig("promptguard", parseConfig) // logs "promptguard: config: ..." on error
//		if !ok {
//			return types.OnPluginStartStatusFailed
//		}
//		p.cfg = cfg
//		p.metrics = filter.NewMetrics("promptguard") // metrics are defined here, never in init()
//		p.blocked = p.metrics.CounterVec("blocked_total", "reason")
//		return types.OnPluginStartStatusOK
//	}
//
//	type httpContext struct {
//		types.DefaultHttpContext
//		p   *pluginContext
//		s   filter.Stream
//		cfg *Config
//		req filter.RequestBody
//	}
//
//	func (h *httpContext) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
//		h.s.Info = filter.ReadRequestInfo(h.p.cfg.Default.ConsumerHeader, h.p.cfg.UsesRoute())
//		h.cfg, h.s.Rule = h.p.cfg.Select(h.s.Info)
//		h.s.Format = llm.DetectFormat(h.s.Info.Path, nil)
//		h.req.Limit = h.cfg.MaxBodyBytes
//		_ = filter.DropRequestContentLength() // the body may be rewritten later
//		return types.ActionContinue
//	}
//
//	func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
//		raw, step, err := h.req.Collect(bodySize, endOfStream)
//		return h.request(raw, step, err)
//	}
//
//	func (h *httpContext) OnHttpRequestTrailers(int) types.Action {
//		raw, step, err := h.req.CollectAtTrailers() // a body that ended with trailers
//		return h.request(raw, step, err)
//	}
//
//	func (h *httpContext) request(raw []byte, step filter.Step, err error) types.Action {
//		switch {
//		case err != nil: // filter.ErrBodyTooLarge, filter.ErrBodyUnreadable, host errors
//			return h.s.FailRequest("promptguard", h.cfg.Common, err) // on_error and monitor mode
//		case step == filter.StepMore:
//			return types.ActionPause
//		case step == filter.StepSkip:
//			return types.ActionContinue
//		}
//		... decode (sdk/body), inspect, maybe filter.ReplaceRequestBody(newBody) or h.s.Reply(403, ...) ...
//		return types.ActionContinue
//	}
//
// testdata/probe/main.go is a complete filter using every helper; the package's hostsim tests run it
// under the Envoy and Kong host profiles.
//
// # Errors, reason codes and statuses
//
// ReasonFor maps the errors the sdk returns to the shared reason codes of sdk/telemetry, and StatusFor
// maps a code to the status of a local reply (Stream.FailRequest uses both):
//
//	error (errors.Is)                          reason (request / response)                      status
//	ErrBodyTooLarge, body.ErrTooLarge          request_body_too_large / response_body_too_large 413 / 502
//	ErrBodyUnreadable (Kong spilled the body)  body_unreadable                                  413
//	body.ErrUnsupported                        unsupported_content_encoding                     415
//	body.ErrCorrupt                            body_undecodable                                 400
//	llm.ErrInvalidJSON, llm.ErrInvalidShape,
//	llm.ErrUnknownFormat                       request_body_unparseable / response_body_unparseable 400 / 502
//	sse.ErrTooLarge                            stream_event_too_large                           502
//	anything else (host calls, llm.ErrBadEdit) host_error                                       500
//
// llm.ErrInvalidJSON covers malformed JSON, invalid UTF-8 in strings, nesting deeper than
// llm.MaxDepth and a body that is not a JSON object; llm.ErrInvalidShape a known field of the wrong
// type ("messages: expected array, got string"); llm.ErrUnknownFormat a JSON object that is no known
// LLM API. Every error of llm.ParseRequest and llm.ParseResponse wraps one of the three.
// Response-side statuses are 502 because the client did nothing wrong; once response headers went
// downstream there is no status to set, and the filter rewrites the body instead.
//
// # Host differences handled here
//
//   - Request bodies: Envoy delivers chunks and, while the filter returns Pause, re-delivers the
//     cumulative buffer; a body may end with trailers instead of end_of_stream. Kong delivers the
//     whole body once (and cannot read bodies it spilled to disk: ErrBodyUnreadable).
//   - Response bodies: ResponseBody buffers inside the filter instead of asking the host to (Kong
//     only buffers 16 KiB when asked, Envoy resets the stream past its buffer limit once headers
//     went downstream).
//   - Properties: Envoy encodes integers as 8 little-endian bytes and booleans as one byte, Kong as
//     decimal strings and "true"/"false"; PropertyInt and PropertyBool read both. The route name is
//     xds.route_name on Envoy and kong.route_name on Kong.
//   - Local replies: Kong traps on a second local reply and Envoy re-enters the filter's own response
//     callbacks with the reply; Stream.Reply guards the first and Stream.Replied lets the filter skip
//     the second.
//   - Monitor mode: a filter in mode "monitor" never blocks, not even on errors. Stream.FailRequest
//     logs the action on_error would take (with mode "monitor") and continues; response-side code
//     uses config.Common.PassOnError (on_error allow or monitor mode) to decide whether to Drop a
//     ResponseBody or to set SSEStream.FailOpen, never FailOpen alone.
//   - Metrics: Envoy rejects an increment of 0 and the SDK panics on any rejected metric call; the
//     helpers never increment by 0.
package filter

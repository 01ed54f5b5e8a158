// Package filter is the proxy-wasm pipeline every wasmguard filter runs in, and the only sdk package that
// imports proxywasm. A filter is a Stage (plugins/<filter>/filter.go): it configures itself, and per
// exchange a Handler inspects and decides; the pipeline owns everything host-facing, identically for every
// filter: callbacks, configuration loading, request information (headers read once per exchange), body
// accumulation (RequestBody, ResponseBody), Content-Encoding decoding and sdk/llm parsing once per
// distinct body (Exchange.Decode, ParseRequest, ParseResponse), local replies (once per exchange), callouts,
// ticks, metrics and decision logs (Decisions), reason codes and statuses (ReasonFor, StatusFor).
//
// A module runs one stage (its main.go: filter.Run(promptguard.New)) or several in a fixed order
// (plugins/wasmguard: filter.RunCombined): request callbacks go to the stages in order, response
// callbacks in reverse order, as in a chain of separate filters; a stage that returns Pause stops the
// exchange there, and the later stages get the callback when it continues.
//
// A stage, in outline:
//
//	func New() filter.Stage { return &plugin{} }
//
//	type plugin struct {
//		cfg *config.Routed[Config]
//		dec *filter.Decisions
//	}
//
//	func (*plugin) Name() string { return "promptguard" }
//
//	func (p *plugin) Configure(raw []byte) error { // OnPluginStart; an error refuses the plugin
//		cfg, err := parseConfig(raw)
//		if err != nil {
//			return err
//		}
//		p.cfg, p.dec = cfg, filter.NewMetrics("promptguard").Decisions()
//		return nil
//	}
//
//	func (p *plugin) NewHandler(x *filter.Exchange) filter.Handler { return &handler{p: p, x: x} }
//
//	type handler struct {
//		filter.BaseHandler
//		p   *plugin
//		x   *filter.Exchange
//		s   filter.Stream
//		cfg *Config
//		req filter.RequestBody
//	}
//
//	func (h *handler) OnRequestHeaders(endOfStream bool) filter.Action {
//		h.s.Info = h.x.RequestInfo(h.p.cfg.Default.ConsumerHeader, h.p.cfg.UsesRoute())
//		h.cfg, h.s.Rule = h.p.cfg.Select(h.s.Info)
//		h.req.Limit = h.cfg.MaxBodyBytes
//		return filter.Continue
//	}
//
//	func (h *handler) OnRequestBody(bodySize int, endOfStream bool) filter.Action {
//		raw, step, err := h.req.Collect(bodySize, endOfStream)
//		switch {
//		case err != nil: // ErrBodyTooLarge, ErrBodyUnreadable, host errors
//			d := telemetry.Decision{Filter: "promptguard", Reason: filter.ReasonFor(err, false)}
//			return h.s.FailRequest(h.p.dec, h.cfg.Common, d, 0) // on_error and monitor mode, one way in every filter
//		case step == filter.StepMore:
//			return filter.Pause
//		case step == filter.StepSkip:
//			return filter.Continue
//		}
//		enc, _ := h.s.Info.Header("content-encoding")
//		plain, err := h.x.Decode(enc, raw, h.cfg.MaxBodyBytes)
//		...
//		req, err := h.x.ParseRequest(format, plain, llm.Options{Path: h.s.Info.Path}) // shared: do not modify
//		... inspect, then h.p.dec.Log(decision) and maybe filter.ReplaceRequestBody(newBody) or h.s.Reply(...)
//		return filter.Continue
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
//     decimal strings and "true"/"false": a stage reading such a property decodes both. The route name is
//     xds.route_name on Envoy and kong.route_name on Kong.
//   - Local replies: Kong traps on a second local reply and Envoy re-enters the filter's own response
//     callbacks with the reply; Stream.Reply guards the first and Stream.Replied lets the filter skip
//     the second.
//   - Monitor mode: a filter in mode "monitor" never blocks, not even on errors. Stream.FailRequest
//     logs the action on_error would take (with mode "monitor") and continues; response-side code
//     uses config.Common.PassOnError (on_error allow or monitor mode) to decide whether to Drop a
//     ResponseBody or to let a stream run on, never FailOpen alone.
//   - Metrics: Envoy rejects an increment of 0 and the SDK panics on any rejected metric call; the
//     helpers never increment by 0.
//
// # Body buffers in TinyGo builds
//
// TinyGo's collector scans the module's data section as roots, and its constant tables hold thousands of
// words that look like heap addresses: a large block left as garbage is pinned for good (pool.go has the
// measurements). So TinyGo builds read bodies from the host in 4 KiB windows into buffers of a per-VM pool,
// decode large segment texts (sdk/llm.LargeText) into pooled buffers too, and give every such buffer back when
// the exchange ends (a response chunk's buffer when the next callback starts). A stage must therefore not keep
// a body, a chunk or a segment's text (or a slice of them) past OnDone, nor a chunk past its callback: copy what
// it keeps. A stage that builds a large buffer of its own over an exchange (outputguard collects a streamed
// answer's text) takes it from Lend, which lends pooled buffers under the same rule. Std Go builds allocate as
// before.
package filter

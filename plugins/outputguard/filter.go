package main

import (
	"errors"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/plugins/outputguard/check"
	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Request info, config loading, metrics, non-streamed body collection (filter.ResponseBody), decision logging and
// the on_error reason codes come from sdk/filter. Streams are rewritten by streamProc (process.go) rather than
// filter.SSEStream: an event may be held until later text decides it, so one chunk's output is not a function of
// that chunk's events alone.

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type metrics struct {
	responses, blocked, redacted, annotated, monitored, errors filter.Counter
	findings                                                   *filter.CounterVec // findings.reason.<reason code>
}

type pluginContext struct {
	types.DefaultPluginContext
	cfg *config.Routed[Config]
	m   metrics
}

func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, ok := filter.LoadConfig(filterName, parseConfig) // logs "outputguard: config: <problem>" per problem
	if !ok {
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	m := filter.NewMetrics(filterName) // wasmguard_outputguard_<what>, defined here (never in init)
	p.m = metrics{
		responses: m.Counter("responses_checked"),
		blocked:   m.Counter("blocked"),
		redacted:  m.Counter("redacted"),
		annotated: m.Counter("annotated"),
		monitored: m.Counter("monitored"),
		errors:    m.Counter("errors"),
		findings:  m.CounterVec("findings", "reason"),
	}
	proxywasm.LogInfof("%s: started: %s (%d rules)", filterName, cfg.Default.describe(), len(cfg.Rules))
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) NewHttpContext(uint32) types.HttpContext { return &httpContext{p: p} }

type httpContext struct {
	types.DefaultHttpContext
	p         *pluginContext
	cfg       *Config
	rule      string
	k         *check.Checker
	requestID string
	path      string
	format    llm.Format

	readRequest bool
	system      []string

	active   bool // the response is inspected
	stream   *streamProc
	encoding string
	resp     filter.ResponseBody // non-streamed body collection
	done     bool
	logged   bool
	held     bool // response headers held (hold_headers): local replies and annotations are possible
	replied  bool // a local reply was sent (it re-enters the response callbacks)
}

func (h *httpContext) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	ri := filter.ReadRequestInfo(h.p.cfg.Default.ConsumerHeader, len(h.p.cfg.Rules) > 0)
	h.cfg, h.rule = h.p.cfg.Select(ri)
	h.k = h.cfg.checker
	h.requestID = ri.RequestID
	h.path = ri.Path
	h.format = llm.DetectFormat(pathOnly(ri.Path), nil)
	h.readRequest = !endOfStream && h.k.FromRequest() && ri.Method == "POST"
	return types.ActionContinue
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// OnHttpRequestBody reads the request once (only when the prompt-leak check fingerprints the request's system
// prompt) and lets it through unchanged.
func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !h.readRequest {
		return types.ActionContinue
	}
	if int64(bodySize) > h.cfg.MaxBodyBytes {
		// too large to fingerprint; the configured canaries and system prompt still apply
		h.readRequest = false
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	h.readRequest = false
	b, err := proxywasm.GetHttpRequestBody(0, bodySize)
	if err != nil || len(b) == 0 {
		return types.ActionContinue
	}
	h.learnRequest(b)
	return types.ActionContinue
}

func (h *httpContext) OnHttpRequestTrailers(int) types.Action {
	if h.readRequest {
		h.readRequest = false
		if b, err := proxywasm.GetHttpRequestBody(0, int(h.cfg.MaxBodyBytes)); err == nil {
			h.learnRequest(b)
		}
	}
	return types.ActionContinue
}

func (h *httpContext) learnRequest(b []byte) {
	f := llm.DetectFormat(pathOnly(h.path), b)
	if f != llm.FormatUnknown {
		h.format = f
	}
	req, err := llm.ParseRequest(f, b)
	if err != nil {
		return
	}
	for _, s := range req.Segments {
		if s.Provenance == llm.ProvSystem && s.Text != "" {
			h.system = append(h.system, s.Text)
		}
	}
	if len(h.system) > 0 {
		h.k = h.k.ForRequest(h.system)
	}
}

func (h *httpContext) OnHttpResponseHeaders(_ int, endOfStream bool) types.Action {
	if h.cfg == nil || endOfStream || h.replied || h.active {
		return types.ActionContinue
	}
	// One pairs call instead of three single-value calls (each value is a fresh allocation in the guest). Names
	// compare case-insensitively and the first value wins, as the single-value lookup did.
	hs, _ := proxywasm.GetHttpResponseHeaders()
	var status, ct string
	var haveStatus, haveCT, haveEnc bool
	for _, kv := range hs {
		switch {
		case !haveStatus && kv[0] == ":status":
			status, haveStatus = kv[1], true
		case !haveCT && strings.EqualFold(kv[0], "content-type"):
			ct, haveCT = kv[1], true
		case !haveEnc && strings.EqualFold(kv[0], "content-encoding"):
			h.encoding, haveEnc = kv[1], true
		}
	}
	if len(status) != 3 || status[0] != '2' {
		return types.ActionContinue
	}
	enforce := h.cfg.Enforce()
	switch {
	case body.IsSSE(ct):
		h.stream = newStreamProc(h.cfg, h.k, h.format, enforce, h.requestID)
		if h.encoding != "" && !strings.EqualFold(h.encoding, "identity") {
			// compressed event streams are not inspected
			h.onError(reasonBadEncoding)
			h.stream = nil
			return types.ActionContinue
		}
	case body.IsJSON(ct):
		if !body.Supported(h.encoding) {
			h.onError(reasonBadEncoding)
			return types.ActionContinue
		}
	default:
		return types.ActionContinue
	}
	if !h.k.Enabled() && h.cfg.Schema == nil {
		h.stream = nil
		return types.ActionContinue
	}
	h.active = true
	h.resp.Limit = h.cfg.MaxBodyBytes
	if enforce {
		// the body may change length
		_ = filter.DropResponseContentLength()
	}
	if enforce && h.cfg.HoldHeaders && h.stream == nil {
		h.held = true
		return types.ActionPause
	}
	return types.ActionContinue
}

func (h *httpContext) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
	if !h.active || h.done || h.replied {
		return types.ActionContinue
	}
	if h.held {
		return h.heldBody(bodySize, endOfStream)
	}
	if h.stream == nil {
		return h.wholeBody(bodySize, endOfStream)
	}
	var chunk []byte
	if bodySize > 0 {
		b, err := proxywasm.GetHttpResponseBody(0, bodySize)
		if err != nil {
			h.active = false
			h.onError(reasonUnparseable)
			return types.ActionContinue
		}
		chunk = b
	}
	out := h.stream.feed(chunk, endOfStream)
	if h.stream.over && !h.stream.overLogged {
		h.stream.overLogged = true
		h.onError(reasonTooLarge)
	}
	if endOfStream {
		h.done = true
		h.finishDecision()
	}
	if h.cfg.Enforce() {
		_ = proxywasm.ReplaceHttpResponseBody(out)
	}
	return types.ActionContinue
}

// wholeBody handles a non-streamed body: filter.ResponseBody collects it inside the filter (Kong hands out 16 KiB
// slices, Envoy resets a response whose buffer overflows once headers went), sending nothing until the end.
func (h *httpContext) wholeBody(bodySize int, endOfStream bool) types.Action {
	raw, step, err := h.resp.Collect(bodySize, endOfStream)
	if err != nil {
		// what was held back goes out unchecked; past max_body_bytes under on_error deny the client gets the
		// provider-shaped error instead and the rest of the body is dropped (later chunks still go through
		// Collect, which passes or empties them)
		reason := reasonUnparseable
		if errors.Is(err, filter.ErrBodyTooLarge) {
			reason = reasonTooLarge
		}
		h.onError(reason)
		if reason == reasonTooLarge && h.cfg.Enforce() && !h.cfg.FailOpen() {
			h.resp.Drop()
			_ = filter.ReplaceResponseBody(h.failBody(nil, reason))
		}
		return types.ActionContinue
	}
	if step != filter.StepReady {
		return types.ActionContinue
	}
	h.done = true
	if out, changed := h.processWhole(raw); changed && h.cfg.Enforce() {
		_ = filter.ReplaceResponseBody(out)
	}
	return types.ActionContinue
}

// heldBody handles a non-streamed body while the response headers are held: the host buffers (Pause), the
// whole body is judged at its end, and a block becomes a local reply.
func (h *httpContext) heldBody(bodySize int, endOfStream bool) types.Action {
	if int64(bodySize) > h.cfg.MaxBodyBytes {
		h.done = true
		h.onError(reasonTooLarge)
		if !h.cfg.FailOpen() {
			h.localReply(reasonTooLarge, "the gateway could not inspect the response")
		}
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	h.done = true
	raw, err := proxywasm.GetHttpResponseBody(0, bodySize)
	if err != nil {
		h.onError(reasonUnparseable)
		if !h.cfg.FailOpen() {
			h.localReply(reasonUnparseable, "the gateway could not inspect the response")
		}
		return types.ActionContinue
	}
	out, v, ok := h.judgeWhole(raw)
	switch {
	case !ok:
		if !h.cfg.FailOpen() {
			h.localReply(v.reason, "the gateway could not inspect the response")
		}
	case v.action == actionBlock:
		h.localReply(v.reason, blockedMessage)
	default:
		if len(v.findings) > 0 || len(v.schema) > 0 {
			_ = proxywasm.AddHttpResponseHeader(h.cfg.AnnotateHeader, findingList(&v))
		}
		if out != nil {
			_ = proxywasm.ReplaceHttpResponseBody(out)
		}
	}
	return types.ActionContinue
}

func (h *httpContext) localReply(reason, msg string) {
	h.replied = true
	hdrs, b := reply.Error(h.format, h.cfg.Status, reason, msg, h.requestID)
	if err := proxywasm.SendHttpResponse(uint32(h.cfg.Status), hdrs, b, -1); err != nil {
		proxywasm.LogErrorf("%s: local reply: %v", filterName, err)
	}
}

// findingList is the annotate header value: the distinct finding types (codes only), at most 512 bytes.
func findingList(v *verdict) string {
	var b strings.Builder
	seen := map[string]bool{}
	add := func(s string) {
		if seen[s] || b.Len()+len(s)+1 > 512 {
			return
		}
		seen[s] = true
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	for _, f := range v.findings {
		add(f.Type)
	}
	if len(v.schema) > 0 {
		add("json_schema.violation")
	}
	return b.String()
}

// judgeWhole decodes, inspects and re-encodes a complete body. ok is false when it could not be inspected
// (v.reason says why); out is nil when the body stays as it is.
func (h *httpContext) judgeWhole(raw []byte) (out []byte, v verdict, ok bool) {
	decoded, err := body.Decode(h.encoding, raw, h.cfg.MaxBodyBytes)
	if err != nil {
		reason := filter.ReasonFor(err, true) // too large, undecodable, unsupported coding
		h.onError(reason)
		v.reason = reason
		return nil, v, false
	}
	// with held headers a block is a local reply: the body is not rewritten for it
	enforce := h.cfg.Enforce()
	res, changed, v, err := processJSON(h.cfg, h.k, h.format, decoded, enforce)
	if err != nil {
		h.onError(reasonUnparseable)
		v.reason = reasonUnparseable
		return nil, v, false
	}
	h.logDecision(&v)
	if !changed || v.action == actionBlock && h.held {
		return nil, v, true
	}
	enc, err := body.Encode(h.encoding, res)
	if err != nil {
		return res, v, true
	}
	return enc, v, true
}

// processWhole inspects a complete non-streamed body and returns the bytes to send when they differ from raw.
func (h *httpContext) processWhole(raw []byte) ([]byte, bool) {
	out, v, ok := h.judgeWhole(raw)
	if !ok {
		if h.cfg.FailOpen() || !h.cfg.Enforce() {
			return nil, false
		}
		return h.failBody(raw, v.reason), true
	}
	return out, out != nil
}

// failBody is what a body we could not inspect becomes: unchanged under on_error allow, the provider's error
// under deny.
func (h *httpContext) failBody(raw []byte, reason string) []byte {
	if h.cfg.FailOpen() || !h.cfg.Enforce() {
		return raw
	}
	_, b := reply.Error(h.format, h.cfg.Status, reason, "the gateway could not inspect the response", h.requestID)
	return b
}

func (h *httpContext) onError(reason string) {
	h.p.m.errors.Inc()
	action := "allow"
	if !h.cfg.FailOpen() {
		action = actionBlock
	}
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Action: action, Reason: reason, RequestID: h.requestID}
	if !h.cfg.Enforce() {
		d.Mode = "monitor"
	}
	proxywasm.LogWarn(d.String())
}

func (h *httpContext) finishDecision() {
	if h.stream != nil {
		h.logDecision(&h.stream.v)
	}
}

func (h *httpContext) logDecision(v *verdict) {
	if h.logged {
		return
	}
	h.logged = true
	h.p.m.responses.Inc()
	if v.action == "" {
		return
	}
	for _, s := range v.signals {
		h.p.m.findings.Inc(s) // reason codes: a small fixed set
	}
	if !h.cfg.Enforce() {
		h.p.m.monitored.Inc()
	} else {
		switch v.action {
		case actionBlock:
			h.p.m.blocked.Inc()
		case actionRedact:
			h.p.m.redacted.Inc()
		case actionAnnotate:
			h.p.m.annotated.Inc()
		}
	}
	filter.LogDecision(v.decision(h.rule, h.requestID, !h.cfg.Enforce()))
}

func (h *httpContext) OnHttpStreamDone() {
	// a stream cut short (client gone, upstream reset) still logs what was found so far
	if h.active && !h.done && h.stream != nil {
		h.finishDecision()
	}
}

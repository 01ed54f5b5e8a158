package outputguard

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

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

// New returns the outputguard stage (filter.Run wires it as dist/outputguard.wasm; the combined module runs it
// last on the request and first on the response).
func New() filter.Stage { return &pluginContext{} }

func (*pluginContext) Name() string { return filterName }

type metrics struct {
	dec      *filter.Decisions  // requests_total{action,reason}, errors_total{reason}
	findings *filter.CounterVec // findings_total{reason}
}

type pluginContext struct {
	cfg *config.Routed[Config]
	m   metrics

	// hold_headers watchdog: the exchanges holding their response headers that got no body callback yet
	// (OnTick fails or releases them after hold_timeout_ms), and whether this host was seen delivering a body
	// to held headers (then it honours the hold and the watchdog has nothing to do).
	held      []*httpContext
	delivers  bool
	hostNamed bool // the cause was logged once

	canaryKey []byte // prompt_leak.inject_canary: the HMAC key of the canary tokens (canaryKey)
}

// canaryKeyName is the shared-data key under which the VMs of the plugin keep the canary key.
const canaryKeyName = "wasmguard.outputguard.canary_key"

// injectsCanary: some configuration (top level or a rule) injects a canary.
func injectsCanary(cfg *config.Routed[Config]) bool {
	on := cfg.Default.Check.Leak.InjectCanary
	for i := range cfg.Rules {
		on = on || cfg.Rules[i].Config.Check.Leak.InjectCanary
	}
	return on
}

// canaryKey returns the HMAC key of the injected canaries (from Configure): 32 random bytes drawn by the first VM
// and kept in the host's shared data, so every worker VM injects the same token for the same system prompt (a
// provider's prompt cache keeps hitting whichever worker serves the request). On Kong, where a shared-data call
// traps unless an shm_kv zone is configured (nginx_wasm_shm_kv), each VM (nginx worker) draws its own key.
func canaryKey(kong bool) ([]byte, error) {
	if kong {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	}
	for try := 0; try < 3; try++ {
		v, cas, err := filter.GetSharedData(canaryKeyName)
		if err == nil && len(v) == 32 {
			return bytes.Clone(v), nil
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := filter.SetSharedData(canaryKeyName, k, cas); err == nil {
			return k, nil
		}
		// another VM stored one first (CAS mismatch): read it
	}
	return nil, errors.New("the key could not be stored in shared data")
}

// Configure parses the configuration and defines the metrics.
func (p *pluginContext) Configure(raw []byte) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	if path, minTimeout := holdHeaders(cfg); path != "" {
		if filter.KongHost() {
			// Kong ignores a Pause from on_response_headers (the headers go downstream) and traps on a local reply
			// after that: a held response could neither be replaced nor annotated
			return &config.Errors{Issues: []config.Issue{{Path: path, Msg: "not supported on Kong (ngx_wasm_module sends " +
				"response headers downstream whatever on_response_headers returns, so a held response cannot be " +
				"replaced); remove it: blocked responses are then rewritten in the body"}}}
		}
		// the watchdog looks at held responses a few times per timeout
		if err := filter.SetTickPeriod(uint32(min(max(minTimeout/4, 50), 1000))); err != nil {
			return fmt.Errorf("hold_headers: set tick period: %w", err)
		}
	}
	if p.canaryKey == nil && injectsCanary(cfg) {
		k, err := canaryKey(filter.KongHost())
		if err != nil {
			return fmt.Errorf("prompt_leak.inject_canary: no canary key: %w", err)
		}
		p.canaryKey = k
	}
	p.cfg = cfg
	m := filter.NewMetrics(filterName) // wasmguard_outputguard_<what>, defined here (never in init)
	p.m = metrics{dec: m.Decisions(), findings: m.CounterVec("findings_total", "reason")}
	filter.LogInfof("%s: started: %s (%d rules)", filterName, cfg.Default.describe(), len(cfg.Rules))
	return nil
}

// holdHeaders returns the JSON path of the first configuration (top level, then rules) that holds response
// headers in enforce mode, and the shortest hold_timeout_ms of those.
func holdHeaders(cfg *config.Routed[Config]) (path string, minTimeout int64) {
	add := func(c *Config, p string) {
		if !c.HoldHeaders || !c.Enforce() {
			return
		}
		if path == "" {
			path = p
		}
		if minTimeout == 0 || c.HoldTimeoutMS < minTimeout {
			minTimeout = c.HoldTimeoutMS
		}
	}
	add(&cfg.Default, "hold_headers")
	for i := range cfg.Rules {
		add(&cfg.Rules[i].Config, fmt.Sprintf("rules[%d].hold_headers", i))
	}
	return path, minTimeout
}

// OnTick is the hold_headers watchdog: a response whose headers are held and whose body never reached the
// filter within hold_timeout_ms is failed (on_error deny: a provider-shaped error reply, sent from here with
// the exchange as effective context) or released to be inspected without holding (allow). No host tells a
// module whether it delivers the body to held headers (Envoy only with allow_on_headers_stop_iteration).
func (p *pluginContext) OnTick() {
	if len(p.held) == 0 {
		return
	}
	now := time.Now().UnixNano()
	keep := p.held[:0]
	var due []*httpContext
	for _, h := range p.held {
		if now-h.heldAt >= h.cfg.HoldTimeoutMS*int64(time.Millisecond) {
			due = append(due, h)
			continue
		}
		keep = append(keep, h)
	}
	clear(p.held[len(keep):])
	p.held = keep
	for _, h := range due {
		h.holdTimedOut()
	}
}

// watch adds h to the watchdog's list (unless the host is known to deliver bodies to held headers).
func (p *pluginContext) watch(h *httpContext) {
	if p.delivers {
		return
	}
	h.heldAt = time.Now().UnixNano()
	p.held = append(p.held, h)
}

// unwatch removes h from the watchdog's list (its body arrived, or the exchange ended).
func (p *pluginContext) unwatch(h *httpContext) {
	for i, x := range p.held {
		if x == h {
			last := len(p.held) - 1
			copy(p.held[i:], p.held[i+1:])
			p.held[last] = nil
			p.held = p.held[:last]
			return
		}
	}
}

func (p *pluginContext) NewHandler(x *filter.Exchange) filter.Handler {
	return &httpContext{p: p, x: x}
}

type httpContext struct {
	filter.BaseHandler
	p         *pluginContext
	x         *filter.Exchange
	cfg       *Config
	rule      string
	k         *check.Checker
	requestID string
	path      string
	format    llm.Format

	readRequest bool
	inject      bool // prompt_leak.inject_canary applies to this request
	req         filter.RequestBody
	reqEncoding string
	system      []string

	active   bool // the response is inspected
	stream   *streamProc
	encoding string
	resp     filter.ResponseBody // non-streamed body collection
	done     bool
	logged   bool
	zipped   bool // a compressed stream: collected whole (bounded), decoded, inspected, re-encoded
	sniff    bool // no JSON content type (text/plain, none): inspected when the body turns out to be JSON
	isStream bool // the response is an event stream (SSE or NDJSON): failures end it with a stream error event
	refuse   bool // a coding the filter cannot read under on_error deny: the body becomes the error
	refused  bool
	held     bool  // response headers held (hold_headers): local replies and annotations are possible
	replied  bool  // a local reply was sent (it re-enters the response callbacks)
	heldAt   int64 // when the headers were held (unix ns), for the watchdog
}

func (h *httpContext) OnRequestHeaders(endOfStream bool) filter.Action {
	ri := h.x.RequestInfo(h.p.cfg.Default.ConsumerHeader, len(h.p.cfg.Rules) > 0)
	h.cfg, h.rule = h.p.cfg.Select(ri)
	h.k = h.cfg.checker
	h.requestID = ri.RequestID
	h.path = ri.Path
	h.format = llm.DetectFormat(pathOnly(ri.Path), nil)
	leak := &h.cfg.Check.Leak
	h.inject = !endOfStream && leak.Enabled && leak.InjectCanary && ri.Method == "POST"
	h.readRequest = !endOfStream && (h.k.FromRequest() || h.inject) && ri.Method == "POST"
	if h.inject {
		_ = filter.DropRequestContentLength() // the canary lengthens the body
	}
	h.req.Limit = h.cfg.MaxBodyBytes
	h.reqEncoding, _ = ri.Header("content-encoding")
	// ask only for codings outputguard can decode and re-encode (no br): a response in any other coding could
	// not be inspected
	_ = filter.RestrictAcceptEncoding(ri)
	return filter.Continue
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// OnRequestBody reads the request once (only when the prompt-leak check fingerprints the request's system
// prompt or injects a canary), through its Content-Encoding, and lets it through unchanged but for the canary.
func (h *httpContext) OnRequestBody(bodySize int, endOfStream bool) filter.Action {
	if !h.readRequest {
		return filter.Continue
	}
	raw, step, err := h.req.Collect(bodySize, endOfStream)
	return h.learn(raw, step, err)
}

func (h *httpContext) OnRequestTrailers() filter.Action {
	if !h.readRequest {
		return filter.Continue
	}
	raw, step, err := h.req.CollectAtTrailers()
	return h.learn(raw, step, err)
}

func (h *httpContext) learn(raw []byte, step filter.Step, err error) filter.Action {
	switch {
	case err != nil:
		return h.requestUnread(filter.ReasonFor(err, false))
	case step == filter.StepSkip:
		h.readRequest = false
		return filter.Continue
	case step == filter.StepMore:
		return filter.Pause
	}
	h.readRequest = false
	plain, err := h.x.Decode(h.reqEncoding, raw, h.cfg.MaxBodyBytes)
	if err != nil {
		return h.requestUnread(filter.ReasonFor(err, false))
	}
	if len(plain) == 0 {
		return filter.Continue
	}
	return h.learnRequest(plain)
}

// requestUnread handles a request outputguard had to read and could not (over max_body_bytes, a coding it cannot
// decode, a body the host cannot hand over, JSON that is not the API's, a canary edit the body does not take):
// with prompt_leak.inject_canary the request would go upstream without its canary, so it takes the on_error path
// like the other filters' requests (deny: a provider-shaped error reply; allow: forwarded; logged and counted in
// errors_total either way). With from_request alone the request is forwarded, since only the per-request
// fingerprint is lost (the configured checks still apply), and the loss is logged at warn level and counted in
// errors_total, never silent.
func (h *httpContext) requestUnread(reason string) filter.Action {
	h.readRequest = false
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Reason: reason, RequestID: h.requestID}
	if h.inject {
		act := filter.FailRequest(h.p.m.dec, h.cfg.Common, d, h.format, 0)
		if act == filter.Pause {
			h.replied = true
		}
		return act
	}
	d.Action = telemetry.ActionAllow
	h.p.m.dec.Warn(d)
	return filter.Continue
}

func (h *httpContext) learnRequest(b []byte) filter.Action {
	f := llm.DetectFormat(pathOnly(h.path), b)
	if f != llm.FormatUnknown {
		h.format = f
	}
	req, err := h.x.ParseRequest(f, b, llm.Options{Path: h.path})
	if errors.Is(err, llm.ErrUnknownFormat) {
		return filter.Continue // not an LLM API request: no system prompt to fingerprint or to carry a canary
	}
	if err != nil {
		return h.requestUnread(filter.ReasonFor(err, false))
	}
	for _, s := range req.Segments {
		if s.Provenance == llm.ProvSystem && s.Text != "" {
			h.system = append(h.system, s.Text)
		}
	}
	if len(h.system) > 0 && h.k.FromRequest() {
		h.k = h.k.ForRequest(h.system)
	}
	if h.inject {
		if err := h.injectCanary(b, req); err != nil {
			filter.LogWarnf("%s: canary not injected: %v", filterName, err)
			return h.requestUnread(filter.ReasonFor(err, false))
		}
	}
	return filter.Continue
}

// injectCanary writes the canary token at the start of the first system segment of the request (b, parsed as
// req) and has the response checked for it. A request without a system prompt has nothing to protect and goes
// upstream unchanged; an edit, re-encoding or body replacement that fails is returned (requestUnread).
func (h *httpContext) injectCanary(b []byte, req *llm.Request) error {
	if h.p.canaryKey == nil { // not reached: Configure drew it
		return errors.New("no canary key")
	}
	for i := range req.Segments {
		s := &req.Segments[i]
		if s.Provenance != llm.ProvSystem || s.Text == "" || s.Path == "name" || s.Path == "description" {
			continue // an Assistants object's name and description are system segments the model is not prompted with
		}
		tok := check.CanaryToken(h.p.canaryKey, s.Text)
		out, err := llm.ApplyEditsStrict(b, []llm.Edit{s.Edit(check.InjectCanary(tok, s.Text))})
		if err == nil && h.reqEncoding != "" {
			out, err = body.Encode(h.reqEncoding, out)
		}
		if err == nil {
			err = filter.ReplaceRequestBody(out)
		}
		if err != nil {
			return err
		}
		h.k = h.k.WithCanary(tok)
		return nil
	}
	return nil
}

func (h *httpContext) OnResponseHeaders(endOfStream bool) filter.Action {
	if h.cfg == nil || endOfStream || h.replied || h.active {
		return filter.Continue
	}
	// One pairs call instead of three single-value calls (each value is a fresh allocation in the guest). Names
	// compare case-insensitively and the first value wins, as the single-value lookup did.
	hs, _ := filter.ResponseHeaders()
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
		return filter.Continue
	}
	enforce := h.cfg.Enforce()
	h.isStream = body.IsSSE(ct) || body.IsNDJSON(ct)
	switch {
	case h.isStream:
		h.stream = newStreamProc(h.cfg, h.k, h.format, enforce, h.requestID, body.IsNDJSON(ct))
	case body.IsJSON(ct):
	case filter.MaybeJSON(ct) && h.format != llm.FormatUnknown:
		// JSON under a wrong content type (text/plain, none) on an LLM endpoint: clients parse it all the same
		// (other endpoints' text, downloads, are not collected)
		h.sniff = true
	default:
		return filter.Continue
	}
	if !h.k.Enabled() && h.cfg.Schema == nil {
		h.stream = nil
		return filter.Continue
	}
	if !readable(h.encoding, enforce) {
		// a coding outputguard cannot decode (or, when it rewrites, re-encode): an on_error decision; under
		// deny the body is replaced by the provider's error (a stream error event for streams)
		h.stream = nil
		h.onError(reasonBadEncoding)
		if enforce && !h.cfg.FailOpen() {
			h.active, h.refuse = true, true
			_ = filter.RemoveResponseHeader("content-encoding")
			_ = filter.DropResponseContentLength()
		}
		return filter.Continue
	}
	if h.stream != nil {
		if cs, _ := body.Codings(h.encoding); len(cs) > 0 {
			// a compressed stream cannot be decoded chunk by chunk without goroutines: it is collected whole
			// (bounded by max_body_bytes), then decoded, inspected and re-encoded
			h.zipped = true
		}
	}
	h.active = true
	h.resp.Limit = h.cfg.MaxBodyBytes
	if enforce {
		// the body may change length
		_ = filter.DropResponseContentLength()
	}
	if enforce && h.cfg.HoldHeaders && h.stream == nil {
		h.held = true
		h.p.watch(h)
		return filter.Pause
	}
	return filter.Continue
}

// holdTimedOut: the body of a held response never reached the filter (from OnTick). The cause is named once
// per VM; the response fails under on_error deny or goes on, inspected without holding, under allow.
func (h *httpContext) holdTimedOut() {
	if h.done || h.replied || !h.held {
		return
	}
	if !h.p.hostNamed {
		h.p.hostNamed = true
		then := "failed with an error reply (on_error deny)"
		if h.cfg.FailOpen() {
			then = "released and inspected without holding (on_error allow)"
		}
		filter.LogCriticalf("%s: hold_headers: the body of a response whose headers were held did not reach the filter "+
			"within hold_timeout_ms (%d ms): the host does not deliver the body to held headers (Envoy needs "+
			"allow_on_headers_stop_iteration: true in the plugin config, Envoy >= 1.35); such responses are %s",
			filterName, h.cfg.HoldTimeoutMS, then)
	}
	err := h.x.FromRoot(func() {
		h.onError(reasonHoldTimeout) // logged in the exchange's context
		if h.cfg.FailOpen() {
			h.held = false // the body comes to OnResponseBody now: inspected and rewritten in place
			if err := h.x.ResumeResponse(); err != nil {
				filter.LogErrorf("%s: resume held response: %v", filterName, err)
			}
			return
		}
		h.done = true
		h.localReply(reasonHoldTimeout, "the gateway could not inspect the response: its body did not reach the output filter")
	})
	if err != nil {
		filter.LogErrorf("%s: held response %s: %v", filterName, h.requestID, err)
	}
}

func (h *httpContext) OnResponseBody(bodySize int, endOfStream bool) filter.Action {
	if !h.active || h.done || h.replied {
		return filter.Continue
	}
	if h.refuse {
		h.refuseBody(bodySize)
		return filter.Continue
	}
	if h.held {
		h.p.delivers = true // the host delivers bodies to held headers: the watchdog can rest
		h.p.unwatch(h)
		return h.heldBody(bodySize, endOfStream)
	}
	if h.stream == nil || h.zipped {
		return h.wholeBody(bodySize, endOfStream)
	}
	var chunk []byte
	if bodySize > 0 {
		b, err := filter.GetResponseBody(0, bodySize)
		if err != nil {
			h.active = false
			h.onError(reasonUnparseable)
			return filter.Continue
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
		_ = filter.ReplaceResponseBody(out)
	}
	return filter.Continue
}

// readable reports whether outputguard can inspect a body in contentEncoding: it can decode it and, when it
// rewrites (enforce), encode it again (brotli is decode-only).
func readable(contentEncoding string, enforce bool) bool {
	cs, err := body.Codings(contentEncoding)
	if err != nil {
		return false
	}
	for _, c := range cs {
		if c == "br" && enforce {
			return false
		}
	}
	return true
}

// refuseBody replaces a body outputguard cannot read by the provider's error (first chunk) and drops the rest.
func (h *httpContext) refuseBody(bodySize int) {
	if !h.refused {
		h.refused = true
		_ = filter.ReplaceResponseBody(h.errorBody(reasonBadEncoding))
		return
	}
	if bodySize > 0 {
		_ = filter.ReplaceResponseBody(nil)
	}
}

// wholeBody handles a non-streamed body: filter.ResponseBody collects it inside the filter (Kong hands out 16 KiB
// slices, Envoy resets a response whose buffer overflows once headers went), sending nothing until the end.
func (h *httpContext) wholeBody(bodySize int, endOfStream bool) filter.Action {
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
		return filter.Continue
	}
	if step != filter.StepReady {
		return filter.Continue
	}
	h.done = true
	if out, changed := h.processWhole(raw); changed && h.cfg.Enforce() {
		_ = filter.ReplaceResponseBody(out)
	}
	return filter.Continue
}

// heldBody handles a non-streamed body while the response headers are held: the host buffers (Pause), the
// whole body is judged at its end, and a block becomes a local reply.
func (h *httpContext) heldBody(bodySize int, endOfStream bool) filter.Action {
	if int64(bodySize) > h.cfg.MaxBodyBytes {
		h.done = true
		h.onError(reasonTooLarge)
		if !h.cfg.FailOpen() {
			h.localReply(reasonTooLarge, "the gateway could not inspect the response")
		}
		return filter.Continue
	}
	if !endOfStream {
		return filter.Pause
	}
	h.done = true
	raw, err := filter.GetResponseBody(0, bodySize)
	if err != nil {
		h.onError(reasonUnparseable)
		if !h.cfg.FailOpen() {
			h.localReply(reasonUnparseable, "the gateway could not inspect the response")
		}
		return filter.Continue
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
			_ = filter.AddResponseHeader(h.cfg.AnnotateHeader, findingList(&v))
		}
		if out != nil {
			_ = filter.ReplaceResponseBody(out)
		}
	}
	return filter.Continue
}

func (h *httpContext) localReply(reason, msg string) {
	h.replied = true
	hdrs, b := reply.Error(h.format, h.cfg.Status, reason, msg, h.requestID)
	if err := h.x.SendResponse(h.cfg.Status, hdrs, b); err != nil {
		filter.LogErrorf("%s: local reply: %v", filterName, err)
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
	if h.stream != nil || h.sniff && !filter.SniffJSON(decoded) {
		if h.stream == nil {
			return nil, v, true // not JSON: nothing outputguard reads
		}
		// a compressed stream, whole
		res := h.stream.feed(decoded, true)
		h.finishDecision()
		return h.encodeChanged(decoded, res, enforce), h.stream.v, true
	}
	// a UTF-8 byte order mark: browsers' response.json() skips it, so the JSON after it is what the client reads
	// (a rewritten body goes out without it)
	decoded = bytes.TrimPrefix(decoded, utf8BOM)
	resp, err := h.x.ParseResponse(h.format, decoded) // shared with the module's other stages
	res, changed, v, err := processResponse(h.cfg, h.k, decoded, resp, err, enforce)
	if err != nil && h.sniff {
		// JSON lines under a wrong content type (Ollama's stream as text/plain)
		h.stream = newStreamProc(h.cfg, h.k, h.format, enforce, h.requestID, true)
		res := h.stream.feed(decoded, true)
		h.finishDecision()
		return h.encodeChanged(decoded, res, enforce), h.stream.v, true
	}
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

var utf8BOM = []byte("\ufeff")

// encodeChanged returns res in the response's coding when it differs from decoded and the filter rewrites.
func (h *httpContext) encodeChanged(decoded, res []byte, enforce bool) []byte {
	if !enforce || string(res) == string(decoded) {
		return nil
	}
	enc, err := body.Encode(h.encoding, res)
	if err != nil {
		return h.errorBody(reasonBadEncoding) // not reached: readable() refused codings it cannot encode
	}
	return enc
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
	return h.errorBody(reason)
}

// errorBody is the provider-shaped error for a body outputguard could not inspect, in the response's coding when
// it can produce it (a stream error event for streams).
func (h *httpContext) errorBody(reason string) []byte {
	const msg = "the gateway could not inspect the response"
	var b []byte
	if h.isStream {
		b = reply.StreamError(h.format, reason, msg, h.requestID)
	} else {
		_, b = reply.Error(h.format, h.cfg.Status, reason, msg, h.requestID)
	}
	if h.refuse {
		return b // content-encoding was removed
	}
	if enc, err := body.Encode(h.encoding, b); err == nil {
		return enc
	}
	return b
}

func (h *httpContext) onError(reason string) {
	action := "allow"
	if !h.cfg.FailOpen() {
		action = actionBlock
	}
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Action: action, Reason: reason, RequestID: h.requestID}
	if !h.cfg.Enforce() {
		d.Mode = "monitor"
	}
	h.p.m.dec.Warn(d)
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
	if v.action == "" {
		h.p.m.dec.Count(telemetry.ActionAllow, telemetry.ReasonNone)
		return
	}
	for _, s := range v.signals {
		h.p.m.findings.Inc(s) // reason codes: a small fixed set
	}
	h.p.m.dec.Log(v.decision(h.rule, h.requestID, !h.cfg.Enforce()))
}

func (h *httpContext) OnDone() {
	if h.held {
		h.p.unwatch(h)
	}
	// a stream cut short (client gone, upstream reset) still logs what was found so far
	if h.active && !h.done && h.stream != nil {
		h.finishDecision()
	}
}

package tokenbudget

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/sse"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

const filterName = "tokenbudget"

// Reason codes of this filter's own decisions. Failures every filter shares (a body over the limit or
// unparseable, a failing host call) use the telemetry.Reason* codes.
const (
	reasonExceeded     = "token_budget_exceeded"
	reasonConcurrency  = "token_budget_concurrency_exceeded"
	reasonEngineDown   = "token_budget_engine_unavailable"
	reasonClamped      = "token_budget_clamped"
	reasonCutOff       = "token_budget_stream_cut_off"
	reasonUnknownPrice = "token_budget_unknown_price"
	reasonBatchDenied  = "token_budget_batch_denied"     // batches: deny
	reasonBatchUnread  = "token_budget_batch_unreadable" // batches: meter, and the batch's requests are in a file
	reasonBatchAllowed = "token_budget_batch_unmetered"  // batches: allow (the count of allowed batches)
)

// New returns the tokenbudget stage (filter.Run wires it as dist/tokenbudget.wasm; the combined module runs it
// after promptguard and piimask).
func New() filter.Stage { return &pluginContext{} }

func (*pluginContext) Name() string { return filterName }

// sharedStore is budget.Store over proxy-wasm shared data.
type sharedStore struct{}

func (sharedStore) Get(key string) ([]byte, uint32, error) {
	v, cas, err := filter.GetSharedData(key)
	if errors.Is(err, filter.ErrSharedNotFound) {
		return nil, 0, budget.ErrNotFound
	}
	return v, cas, err
}

func (sharedStore) Set(key string, v []byte, cas uint32) error {
	err := filter.SetSharedData(key, v, cas)
	if errors.Is(err, filter.ErrCASMismatch) {
		return budget.ErrCASMismatch
	}
	return err
}

type metrics struct {
	dec                         *filter.Decisions // requests_total{action,reason}, errors_total{reason}
	cutOff, engineErrors        filter.Counter
	reserved, refunded, charged filter.Counter
}

type pluginContext struct {
	routed    *config.Routed[Config]
	global    *Config
	withRoute bool // a rule matches on the route or a budget is keyed on it: read the route name
	m         metrics
	pending   budget.Pending
	flushing  bool
	lastFlush time.Time
}

// Configure parses the configuration, defines the metrics and starts the engine flush ticks.
func (p *pluginContext) Configure(raw []byte) error {
	r, err := parseConfig(raw)
	if err != nil {
		return err
	}
	p.routed = r
	p.global = &r.Default
	p.withRoute = r.UsesRoute() || keysOnRoute(r)
	m := filter.NewMetrics(filterName)
	p.m = metrics{
		dec:          m.Decisions(),
		cutOff:       m.Counter("stream_cutoffs_total"),
		engineErrors: m.Counter("engine_errors_total"),
		reserved:     m.Counter("reserved_tokens_total"),
		refunded:     m.Counter("refunded_tokens_total"),
		charged:      m.Counter("charged_tokens_total"),
	}
	p.lastFlush = time.Now()
	if p.global.Engine.Cluster != "" {
		if err := filter.SetTickPeriod(p.global.Engine.FlushMS); err != nil {
			return fmt.Errorf("set tick period: %w", err)
		}
	}
	n := len(r.Default.Budgets)
	for _, rule := range r.Rules {
		n += len(rule.Config.Budgets)
	}
	if n == 0 {
		filter.LogWarnf("%s: no budgets configured: requests pass unmetered", filterName)
	}
	return nil
}

// keysOnRoute reports whether a budget of any rule is keyed on the route name.
func keysOnRoute(r *config.Routed[Config]) bool {
	has := func(c *Config) bool {
		for i := range c.Budgets {
			for _, k := range c.Budgets[i].Key {
				if k == "route" {
					return true
				}
			}
		}
		return false
	}
	if has(&r.Default) {
		return true
	}
	for i := range r.Rules {
		if has(&r.Rules[i].Config) {
			return true
		}
	}
	return false
}

// OnTick sends this VM's aggregated reconciliation deltas to the engine in one command.
func (p *pluginContext) OnTick() { p.flush() }

// maybeFlush flushes from a request (both Envoy and Kong allow http_call in request phases) when the last
// flush is older than the flush interval, so refunds keep flowing under load even when ticks are late.
func (p *pluginContext) maybeFlush() {
	if p.pending.Len() > 0 && time.Since(p.lastFlush) >= time.Duration(p.global.Engine.FlushMS)*time.Millisecond {
		p.flush()
	}
}

func (p *pluginContext) flush() {
	if p.flushing || p.pending.Len() == 0 {
		return
	}
	p.lastFlush = time.Now()
	e := &p.global.Engine
	keys, deltas := p.pending.Drain(e.FlushKeys)
	err := filter.HTTPCall(e.Cluster, engineHeaders(e), budget.AdjustCommand(keys, deltas), e.TimeoutMS,
		func(_, bodySize, _ int) {
			p.flushing = false
			if err := checkEngineReply(bodySize, budget.ParseAdjustReply); err != nil {
				p.m.engineErrors.Inc()
				filter.LogWarnf("%s: engine flush: %v", filterName, err)
				p.pending.Restore(keys, deltas)
			}
		})
	if err != nil {
		p.m.engineErrors.Inc()
		filter.LogWarnf("%s: engine flush: dispatch: %v", filterName, err)
		p.pending.Restore(keys, deltas)
		return
	}
	p.flushing = true
}

func engineHeaders(e *Engine) [][2]string {
	return [][2]string{
		{":method", "POST"}, {":path", e.Path}, {":authority", e.Authority}, {"content-type", "text/plain"},
	}
}

// checkEngineReply reads the http_call answer and runs parse on its body.
func checkEngineReply(bodySize int, parse func([]byte) error) error {
	hs, err := filter.CallResponseHeaders()
	if err != nil || len(hs) == 0 {
		return errors.New("no response (engine unreachable)")
	}
	for _, h := range hs {
		if h[0] == ":status" && h[1] != "200" {
			return errors.New("engine status " + h[1])
		}
	}
	if bodySize <= 0 {
		return errors.New("empty engine reply")
	}
	body, err := filter.CallResponseBody(0, bodySize)
	if err != nil {
		return err
	}
	return parse(body)
}

func (p *pluginContext) NewHandler(x *filter.Exchange) filter.Handler {
	return &httpContext{p: p, x: x}
}

type httpContext struct {
	filter.BaseHandler
	batch bool // a batch creation metered in full (batches: meter)
	p     *pluginContext
	x     *filter.Exchange
	cfg   *Config
	rule  string
	ri    *config.RequestInfo

	format llm.Format
	plan   *budget.Plan
	start  time.Time
	req    filter.RequestBody
	skip   bool // nothing to meter on this request
	// props are the values of the budgets' property:<path> key parts, read in OnHttpRequestHeaders: Envoy
	// answers request.* properties only while the filter holds the request headers, not in body callbacks.
	props map[string]string

	// response side
	respStarted bool
	status      int
	stream      bool
	hideUsage   bool // we added include_usage: drop the usage-only chunk
	dec         sse.Decoder
	parser      *llm.StreamParser
	deltas      []llm.Delta // scratch for the deltas of one event
	usage       llm.Usage
	outText     int64 // estimated output tokens seen in the stream / body
	respBuf     []byte
	streamOut   []byte // scratch for the rewritten stream chunk, reused chunk after chunk (the host copies it)
	cut         bool
	rawStream   bool // the SSE decoder gave up: pass the rest through
	decided     bool // a decision was logged (and counted) for this request
}

func (h *httpContext) OnRequestHeaders(endOfStream bool) filter.Action {
	h.start = time.Now()
	h.ri = h.x.RequestInfo(h.p.global.ConsumerHeader, h.p.withRoute)
	h.cfg, h.rule = h.p.routed.Select(h.ri)
	h.req.Limit = h.cfg.MaxBodyBytes
	if len(h.cfg.Budgets) == 0 || endOfStream {
		h.skip = true
		return filter.Continue
	}
	// Uploads (multipart, binary, media) pass unmetered and unbuffered. Any other body is read whatever its
	// content-type says: Go upstreams (Ollama, LocalAI) parse a JSON body sent as text/plain or form data, so a
	// generation call labelled so is metered like any other.
	if ct, ok := h.ri.Header("content-type"); ok && uploadType(ct) {
		h.skip = true
		return filter.Continue
	}
	for i := range h.cfg.Budgets {
		for _, k := range h.cfg.Budgets[i].Key {
			if path, ok := strings.CutPrefix(k, "property:"); ok {
				if h.props == nil {
					h.props = map[string]string{}
				}
				h.props[path] = propertyPart(path)
			}
		}
	}
	// The body may be rewritten (max_tokens, include_usage): let the host recompute its length. Ask the
	// upstream for an identity-encoded answer so its usage can be read.
	_ = filter.DropRequestContentLength()
	_ = filter.AskIdentityEncoding()
	return filter.Continue
}

func (h *httpContext) OnRequestBody(bodySize int, endOfStream bool) filter.Action {
	if h.skip {
		return filter.Continue
	}
	raw, step, err := h.req.Collect(bodySize, endOfStream)
	return h.request(raw, step, err)
}

// OnHttpRequestTrailers meters a body that ended with trailers (Envoy, HTTP/2 and gRPC clients): without it
// such a request would go upstream unmetered.
func (h *httpContext) OnRequestTrailers() filter.Action {
	if h.skip {
		return filter.Continue
	}
	raw, step, err := h.req.CollectAtTrailers()
	return h.request(raw, step, err)
}

func (h *httpContext) request(raw []byte, step filter.Step, err error) filter.Action {
	switch {
	case err != nil: // over max_body_bytes, unreadable (Kong spilled it to disk), host errors
		return h.failRequest(filter.ReasonFor(err, false), err.Error())
	case step == filter.StepMore:
		return filter.Pause
	case step == filter.StepSkip:
		return filter.Continue
	}
	return h.admit(raw)
}

// admit estimates, reserves and either forwards (possibly after an engine callout) or refuses.
func (h *httpContext) admit(raw []byte) filter.Action {
	cfg := h.cfg
	path := h.ri.Path
	// A compressed request is metered like any other (read through its Content-Encoding, rewritten in it).
	enc, _ := h.ri.Header("content-encoding")
	body, err := h.x.Decode(enc, raw, cfg.MaxBodyBytes)
	if err != nil {
		return h.failRequest(filter.ReasonFor(err, false), err.Error())
	}
	h.format = llm.DetectFormat(path, body)
	if h.format == llm.FormatAnthropicBatch || h.format == llm.FormatGeminiBatch || isBatchCreate(path) {
		return h.admitBatch(body, path)
	}
	if h.format == llm.FormatUnknown || notGeneration(path) {
		// Not an LLM generation call (embeddings, files, moderation, ...): budgets do not apply.
		h.skip = true
		return filter.Continue
	}
	req, err := h.x.ParseRequest(h.format, body, llm.Options{Path: path})
	if err != nil {
		// any parse error, a wrongly typed field included, is an unparseable body
		return h.failRequest(telemetry.ReasonRequestBodyUnparseable, "parse request: "+err.Error())
	}
	return h.reserve(req, body, path, enc)
}

// reserve plans and reserves the request's tokens (for a batch, the sum of its requests') and forwards it
// (possibly after an engine callout) or refuses it.
func (h *httpContext) reserve(req *llm.Request, body []byte, path, enc string) filter.Action {
	cfg := h.cfg
	model := req.Model
	if model == "" {
		model = llm.ModelFromPath(path)
	}
	input := estimateInput(req)
	input += input * cfg.MarginPercent / 100
	// n / best_of / candidateCount completions each produce up to the limit: the reservation covers all of them
	output, outputs := req.MaxTokens, req.Outputs()
	changed := false
	if h.batch {
		// every request of the batch, each up to its own limit (or default_max_tokens), its completions counted;
		// nothing is rewritten
		output, outputs = req.Batch.Output+req.Batch.Unlimited*cfg.DefaultMaxTokens, 1
	} else if output <= 0 {
		output = cfg.DefaultMaxTokens
		if cfg.EnforceMaxTokens && cfg.Enforce() {
			if nb, err := llm.SetMaxTokens(h.format, body, output); err == nil {
				body, changed = nb, true
			}
		}
	}
	price, havePrice := cfg.Prices.Lookup(model)
	parts := make([][]string, len(cfg.Budgets))
	for i := range cfg.Budgets {
		d := &cfg.Budgets[i]
		if !d.AppliesTo(model) {
			continue
		}
		if d.Metric == budget.MetricCost && !havePrice {
			return h.failRequest(reasonUnknownPrice, "no price for the model in prices")
		}
		parts[i] = h.keyParts(d, model)
	}
	now := time.Now()
	h.plan = budget.NewPlan(h.p.global.KeyPrefix, cfg.Budgets, parts, now, price, input, output*outputs)
	if len(h.plan.Slots) == 0 {
		h.plan = nil
		return filter.Continue
	}
	store := sharedStore{}
	clampedTo := int64(0)
	if cfg.Clamp && cfg.Enforce() && !h.batch {
		room, err := h.plan.LocalRoom(store)
		if err != nil {
			return h.failRequest(telemetry.ReasonHostError, "read budget: "+err.Error())
		}
		if per := room / outputs; room >= 0 && room < output*outputs && per >= cfg.MinClampTokens {
			// the limit applies to each completion: n completions share the room
			if nb, err := llm.SetMaxTokens(h.format, body, per); err == nil {
				body, changed = nb, true
				h.plan.Output = per * outputs
				clampedTo = per
			}
		}
	}
	ok, denial, err := h.plan.ReserveLocal(store)
	if err != nil {
		return h.failRequest(telemetry.ReasonHostError, "reserve: "+err.Error())
	}
	if !ok {
		if !cfg.Enforce() {
			h.monitorOnly(denial)
		} else {
			return h.deny(denial, now)
		}
	}
	if req.Stream && h.format == llm.FormatOpenAIChat && !req.StreamUsage && cfg.StreamUsage {
		if nb, added, err := llm.EnsureStreamUsage(body); err == nil && added {
			body, changed = nb, true
			h.hideUsage = true
		}
	}
	if changed {
		if enc != "" {
			if body, err = encodeBody(enc, body); err != nil {
				h.plan.Release(store, &h.p.pending)
				return h.failRequest(telemetry.ReasonHostError, "encode body: "+err.Error())
			}
		}
		if err := filter.ReplaceRequestBody(body); err != nil {
			h.plan.Release(store, &h.p.pending)
			return h.failRequest(telemetry.ReasonHostError, "replace body: "+err.Error())
		}
	}
	if clampedTo > 0 {
		h.log("clamp", reasonClamped, nil)
	}
	if h.plan.HasCluster() {
		h.p.maybeFlush()
		return h.reserveCluster()
	}
	h.admitted()
	return filter.Continue
}

// admitBatch applies the batches setting to a batch-creation request: its requests generate later on the
// provider's side, and no answer on this exchange reports their usage. meter reserves what every inline request
// may use (its input estimate and output limit, or default_max_tokens) and charges it in full when the provider
// accepts the batch; a batch whose requests are in a file (OpenAI /v1/batches, a Gemini batch from a file)
// cannot be metered and is refused. allow lets every batch through unmetered (counted); deny refuses every batch.
func (h *httpContext) admitBatch(body []byte, path string) filter.Action {
	switch h.cfg.Batches {
	case batchesAllow:
		h.skip = true
		h.p.m.dec.Count(telemetry.ActionAllow, reasonBatchAllowed)
		return filter.Continue
	case batchesDeny:
		return h.refuseBatch(reasonBatchDenied, "batch requests are not allowed on this route (tokenbudget batches: deny)")
	}
	var req *llm.Request
	if h.format == llm.FormatAnthropicBatch || h.format == llm.FormatGeminiBatch {
		var err error
		if req, err = h.x.ParseRequest(h.format, body, llm.Options{Path: path}); err != nil {
			return h.failRequest(telemetry.ReasonRequestBodyUnparseable, "parse request: "+err.Error())
		}
	}
	if req == nil || req.Batch.Requests == 0 {
		return h.refuseBatch(reasonBatchUnread, "the requests of this batch are in a file the gateway cannot read, so "+
			"their tokens cannot be metered (tokenbudget batches: meter; set batches: allow to pass batches unmetered)")
	}
	h.batch = true
	enc, _ := h.ri.Header("content-encoding")
	return h.reserve(req, body, path, enc)
}

// refuseBatch answers a batch creation with 403 in the provider's error shape (monitor mode: logs and forwards).
func (h *httpContext) refuseBatch(reason, msg string) filter.Action {
	h.skip = true
	h.log("deny", reason, nil)
	if !h.cfg.Enforce() {
		return filter.Continue
	}
	if err := h.x.Reply(h.format, 403, reason, msg, h.ri.RequestID); err != nil {
		filter.LogErrorf("%s: send 403: %v", filterName, err)
	}
	return filter.Pause
}

// isBatchCreate reports whether path creates a batch whose requests are not in the body (OpenAI /v1/batches,
// Azure OpenAI /openai/batches); the inline batches are recognised by their format.
func isBatchCreate(path string) bool {
	p := strings.TrimSuffix(lowerPath(path), "/")
	return strings.HasSuffix(p, "/batches") && !strings.HasSuffix(p, "/messages/batches")
}

// lowerPath is the request path without its query or fragment, in lower case.
func lowerPath(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return strings.ToLower(path)
}

// uploadType reports whether a content-type is an upload no generation call is sent as.
func uploadType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(ct))
	for _, p := range []string{"multipart/", "application/octet-stream", "audio/", "image/", "video/", "application/pdf"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

// encodeBody re-encodes a rewritten body in the request's Content-Encoding.
func encodeBody(enc string, b []byte) ([]byte, error) { return body.Encode(enc, b) }

// nonGeneration are path fragments of provider APIs that do not generate tokens from a prompt.
var nonGeneration = []string{"/embeddings", "/moderations", "/files", "/uploads", "/batches", "/fine_tuning",
	"/audio/", "/images/", "/models", ":embedcontent", ":batchembedcontents", ":counttokens", "/count_tokens", "/api/embed"}

// notGeneration reports whether path is an embeddings/files/... endpoint (whose JSON body may look like a
// Responses request) rather than a generation call.
func notGeneration(path string) bool {
	p := lowerPath(path)
	if strings.Contains(p, ":generatecontent") || strings.Contains(p, ":streamgeneratecontent") {
		return false
	}
	for _, s := range nonGeneration {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// estimateInput is the local input-token estimate: the text of every segment plus the per-message framing.
func estimateInput(req *llm.Request) int64 {
	var n int64
	for i := range req.Segments {
		n += budget.EstimateTokens(req.Segments[i].Text)
	}
	return n + int64(req.Messages)*budget.MessageOverhead + budget.ReplyPriming
}

func (h *httpContext) keyParts(d *budget.Def, model string) []string {
	parts := make([]string, len(d.Key))
	for i, k := range d.Key {
		switch k {
		case "consumer":
			parts[i] = h.consumer()
		case "model":
			parts[i] = model
		case "route":
			parts[i] = h.ri.Route
		case "host":
			parts[i] = strings.ToLower(h.ri.Host)
		default:
			if name, ok := strings.CutPrefix(k, "header:"); ok {
				parts[i], _ = h.ri.Header(name)
			} else if path, ok := strings.CutPrefix(k, "property:"); ok {
				parts[i] = h.props[path] // read at request headers time
			}
		}
	}
	return parts
}

// propertyPart reads a host property (dot-separated path, e.g. "metadata.filter_metadata.auth.tenant" on
// Envoy or "kong.route_name" on Kong) as a key part: printable values as they are, binary ones (Envoy
// encodes integers as 8 bytes) in hex, so that distinct values never share a counter.
func propertyPart(path string) string {
	v, err := filter.Property(strings.Split(path, "."))
	if err != nil || len(v) == 0 {
		return ""
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f {
			return "x:" + hex.EncodeToString(v)
		}
	}
	return string(v)
}

// consumer is the caller's identity as stored: a salted hash of the header value or JWT claim.
func (h *httpContext) consumer() string {
	v := h.ri.Consumer
	if h.cfg.ConsumerHeader != h.p.global.ConsumerHeader {
		// A rule reads the consumer from another header than the top level.
		v, _ = h.ri.Header(h.cfg.ConsumerHeader)
	}
	if v == "" {
		return ""
	}
	if c := h.cfg.ConsumerJWTClaim; c != "" {
		claim, ok := budget.JWTClaim(v, c)
		if !ok {
			return ""
		}
		v = claim
	} else {
		v = budget.BearerToken(v)
	}
	if h.cfg.HashConsumer {
		return budget.HashConsumer(h.p.global.KeySalt, v)
	}
	return v
}

// monitorOnly records a denial that monitor mode lets through: the request is charged its real usage at
// the end (Charged stays 0, so Settle adds the actual amount).
func (h *httpContext) monitorOnly(d budget.Denial) {
	h.log("deny", reasonFor(d), h.denialAttrs(d))
	h.plan.LocalHeld = true
}

func reasonFor(d budget.Denial) string {
	if d.Slot < 0 {
		return reasonConcurrency
	}
	return reasonExceeded
}

func (h *httpContext) denialAttrs(d budget.Denial) []telemetry.Attr {
	attrs := []telemetry.Attr{{Key: "input_tokens", Value: float64(h.plan.Input)}, {Key: "output_tokens", Value: float64(h.plan.Output)}}
	if d.Slot >= 0 {
		s := h.plan.Slots[d.Slot]
		attrs = append(attrs, telemetry.Attr{Key: "limit", Value: float64(s.Counter.Limit)}, telemetry.Attr{Key: "used", Value: float64(d.Used)})
	}
	return attrs
}

// deny answers 429 in the provider's error shape with the rate-limit headers of the refusing counter.
func (h *httpContext) deny(d budget.Denial, now time.Time) filter.Action {
	reason := reasonFor(d)
	h.log("deny", reason, h.denialAttrs(d))
	msg := "token budget exceeded for this key; retry after the window resets"
	var extra [][2]string
	if d.Slot >= 0 {
		s := h.plan.Slots[d.Slot]
		extra = budget.RateHeaders(s, s.Counter.Limit-d.Used, now, true)
		msg = "token budget " + h.plan.Def(d.Slot).Name + " exceeded (" + h.plan.Def(d.Slot).Metric.String() + " per " +
			s.Counter.Key[strings.LastIndexByte(s.Counter.Key, '|')+1:] + "); retry after the window resets"
	} else {
		msg = "too many concurrent requests for this key"
		extra = [][2]string{{"retry-after", "1"}}
	}
	hs, body := reply.Error(h.format, 429, reason, msg, h.ri.RequestID)
	hs = append(hs, extra...)
	h.plan = nil
	if err := h.x.SendResponse(429, hs, body); err != nil {
		filter.LogErrorf("%s: send 429: %v", filterName, err)
	}
	return filter.Pause
}

// reserveCluster asks the engine to reserve on the cluster counters and pauses the request until it answers.
func (h *httpContext) reserveCluster() filter.Action {
	cs, idx := h.plan.ClusterCounters()
	e := &h.p.global.Engine
	err := h.x.HTTPCall(e.Cluster, engineHeaders(e), budget.ReserveCommand(cs), e.TimeoutMS,
		func(_, bodySize int, _ int) {
			var allowed bool
			var denied int
			var used []int64
			err := checkEngineReply(bodySize, func(b []byte) error {
				var err error
				allowed, denied, used, err = budget.ParseReserveReply(b, len(cs))
				return err
			})
			if h.plan == nil {
				// The stream is gone (and settled): give back what the engine reserved for it.
				if allowed && err == nil {
					for _, c := range cs {
						h.p.pending.Add(c.Key, -c.Amount)
					}
				}
				return
			}
			switch {
			case err != nil:
				if h.engineDown(err) {
					_ = h.x.ResumeRequest()
				}
			case allowed:
				h.plan.ClusterReserved(used)
				h.admitted()
				_ = h.x.ResumeRequest()
			case !h.cfg.Enforce():
				h.log("deny", reasonExceeded, h.denialAttrs(budget.Denial{Slot: idx[denied], Used: used[denied]}))
				h.plan.ClusterHeld = true
				_ = h.x.ResumeRequest()
			default:
				h.plan.Release(sharedStore{}, &h.p.pending)
				h.deny(budget.Denial{Slot: idx[denied], Used: used[denied]}, time.Now())
			}
		})
	if err != nil {
		if h.engineDown(errors.New("dispatch: " + err.Error())) {
			return filter.Continue
		}
		return filter.Pause
	}
	return filter.Pause
}

// engineDown applies the budgets' fail mode when the engine cannot answer: true lets the request go on
// (every cluster budget of the request fails open), false has sent the refusal.
func (h *httpContext) engineDown(err error) bool {
	h.p.m.engineErrors.Inc()
	filter.LogWarnf("%s: engine: %v", filterName, err)
	open := true
	for i, s := range h.plan.Slots {
		if s.Cluster != "" && !h.plan.Def(i).FailOpen {
			open = false
		}
	}
	if open || !h.cfg.Enforce() {
		h.log("allow", reasonEngineDown, nil)
		h.admitted()
		return true
	}
	h.plan.Release(sharedStore{}, &h.p.pending)
	h.plan = nil
	h.log("deny", reasonEngineDown, nil)
	hs, body := reply.Error(h.format, 503, reasonEngineDown, "the token budget engine is unavailable", h.ri.RequestID)
	_ = h.x.SendResponse(503, hs, body)
	return false
}

func (h *httpContext) admitted() {
	if !h.decided {
		h.p.m.dec.Count(telemetry.ActionAllow, telemetry.ReasonNone)
	}
	h.p.m.reserved.Add(uint64(max(h.plan.Input+h.plan.Output, 1)))
}

// failRequest follows on_error: allow lets the request through unmetered, deny refuses it. Monitor mode
// logs what on_error says (with mode "monitor") and lets the request through.
func (h *httpContext) failRequest(reason, detail string) filter.Action {
	filter.LogWarnf("%s: %s: %s", filterName, reason, detail)
	h.skip = true
	status := 0 // filter.StatusFor: 413 too large, 400 unparseable, 500 host errors
	if reason == reasonUnknownPrice {
		status = 400
	}
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Reason: reason, RequestID: h.ri.RequestID}
	if h.plan != nil {
		for i := range h.plan.Slots {
			d.Signals = appendUnique(d.Signals, "budget:"+h.plan.Def(i).Name)
		}
	}
	h.decided = true
	return filter.FailRequest(h.p.m.dec, h.cfg.Common, d, h.format, status)
}

func (h *httpContext) log(action, reason string, attrs []telemetry.Attr) {
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Action: action, Reason: reason, RequestID: h.ri.RequestID, Attrs: attrs}
	if !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	if h.plan != nil {
		for i := range h.plan.Slots {
			d.Signals = appendUnique(d.Signals, "budget:"+h.plan.Def(i).Name)
		}
	}
	h.decided = true
	h.p.m.dec.Log(d)
}

func appendUnique(xs []string, s string) []string {
	for _, x := range xs {
		if x == s {
			return xs
		}
	}
	return append(xs, s)
}

// ---- response side ----

func (h *httpContext) OnResponseHeaders(_ bool) filter.Action {
	if h.plan == nil {
		return filter.Continue
	}
	h.respStarted = true
	hs, err := filter.ResponseHeaders()
	if err != nil {
		return filter.Continue
	}
	var ctype string
	for _, kv := range hs {
		switch kv[0] {
		case ":status":
			h.status = atoi(kv[1])
		case "content-type":
			ctype = strings.ToLower(kv[1])
		}
	}
	h.stream = strings.Contains(ctype, "text/event-stream")
	if h.stream {
		h.parser = llm.NewStreamParser(h.format)
		// Events may be dropped or a terminal frame appended: the length changes.
		_ = filter.RemoveResponseHeader("content-length")
	}
	// Tell the client where it stands: the tightest counter after this request's reservation.
	if h.status < 300 && h.cfg.Enforce() && h.plan.Used != nil {
		if i, room := budget.Tightest(h.plan.Slots, h.plan.Used); i >= 0 {
			for _, kv := range budget.RateHeaders(h.plan.Slots[i], room, time.Now(), false) {
				_ = filter.ReplaceResponseHeader(kv[0], kv[1])
			}
		}
	}
	return filter.Continue
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func (h *httpContext) OnResponseBody(bodySize int, endOfStream bool) filter.Action {
	if h.plan == nil || h.status >= 300 {
		return filter.Continue
	}
	data, err := filter.GetResponseBody(0, bodySize)
	if err != nil {
		return filter.Continue
	}
	if !h.stream {
		// Keep a copy of the JSON answer to read its usage at the end; the client is not delayed.
		if int64(len(h.respBuf)+len(data)) <= h.cfg.MaxBodyBytes {
			h.respBuf = filter.AppendLent(h.respBuf, data) // pooled in TinyGo builds (sdk/filter.Lend)
		}
		if endOfStream {
			if resp, err := h.x.ParseResponse(h.format, h.respBuf); err == nil { // shared with the other stages
				h.usage = resp.Usage
				for i := range resp.Segments {
					h.outText += budget.EstimateTokens(resp.Segments[i].Text)
				}
			}
			h.respBuf = nil
		}
		return filter.Continue
	}
	if h.cut {
		// The stream was ended for the client; swallow what the upstream still sends, but keep reading its
		// usage: the provider bills the whole generation, and that is what the budget is charged.
		h.dec.Append(data)
		h.readRest()
		_ = filter.ReplaceResponseBody(nil)
		return filter.Continue
	}
	if h.rawStream {
		return filter.Continue
	}
	// The events are lent by the decoder (no copy, no allocation): each is read and its bytes appended to out
	// before the next chunk is appended.
	out := h.streamOut[:0]
	changed := false
	h.dec.Append(data)
	for {
		ev, ok := h.dec.Next()
		if !ok {
			break
		}
		text := h.readUsage(ev)
		if h.hideUsage && !text && llm.IsUsageOnlyChunk(ev) {
			changed = true
			continue
		}
		if h.overBudget() {
			out = append(out, reply.StreamErrorStatus(h.format, 429, reasonCutOff,
				"the token budget was exhausted during the response", h.ri.RequestID)...)
			h.cut = true
			changed = true
			h.p.m.cutOff.Inc()
			h.log("truncate", reasonCutOff, []telemetry.Attr{{Key: "output_tokens", Value: float64(h.outText)}})
			h.readRest()
			break
		}
		out = append(out, ev.Raw...)
	}
	if h.dec.Err() != nil && !h.cut {
		// An event larger than the decoder's bound: stop parsing, forward everything as received (the
		// output of this stream is then charged at its reservation).
		h.rawStream = true
		h.log(telemetry.ActionAllow, telemetry.ReasonStreamEventTooLarge, nil)
		out = append(out, h.dec.Pending()...)
		_ = filter.ReplaceResponseBody(out)
		h.streamOut = out[:0]
		return filter.Continue
	}
	if endOfStream && !h.cut {
		if ev, ok := h.dec.Flush(); ok {
			out = append(out, ev.Raw...)
		}
	}
	if changed || len(out) != len(data) {
		_ = filter.ReplaceResponseBody(out)
	}
	h.streamOut = out[:0]
	return filter.Continue
}

// readRest reads the usage of the complete events the decoder still holds (after a cut-off).
func (h *httpContext) readRest() {
	for {
		ev, ok := h.dec.Next()
		if !ok {
			return
		}
		h.readUsage(ev)
	}
}

// readUsage counts the text of an event and merges its usage; text reports whether it had text, tool-call or
// finish deltas (then it is no usage-only chunk). The deltas go to a slice reused event after event.
func (h *httpContext) readUsage(ev sse.Event) (text bool) {
	if h.parser == nil || !ev.HasData {
		return false
	}
	deltas, err := h.parser.ParseAppend(h.deltas[:0], ev)
	h.deltas = deltas[:0]
	if err != nil {
		return false
	}
	for i := range deltas {
		d := &deltas[i]
		switch d.Kind {
		case llm.DeltaText, llm.DeltaToolArgs:
			h.outText += budget.EstimateTokens(d.Text)
			text = true
		case llm.DeltaFinish:
			text = true
		case llm.DeltaUsage:
			mergeUsage(&h.usage, d.Usage)
		}
	}
	return text
}

// mergeUsage keeps the largest value seen for each field (Anthropic sends input in message_start and output
// in message_delta).
func mergeUsage(dst *llm.Usage, u llm.Usage) {
	if !u.Present {
		return
	}
	dst.Present = true
	dst.Input = max(dst.Input, u.Input)
	dst.Output = max(dst.Output, u.Output)
	dst.Cached = max(dst.Cached, u.Cached)
	dst.Reasoning = max(dst.Reasoning, u.Reasoning)
	dst.Total = max(dst.Total, u.Total)
}

// overBudget reports whether the stream has produced more output than reserved and the reservation could
// not be extended (a hard budget was crossed).
func (h *httpContext) overBudget() bool {
	seen := max(h.outText, h.usage.Output)
	if seen <= h.plan.Output {
		return false
	}
	extra := max(seen-h.plan.Output, defaultStreamChunk)
	ok, err := h.plan.Extend(sharedStore{}, &h.p.pending, extra)
	if err != nil {
		return false
	}
	return !ok && h.cfg.CutOffStreams && h.cfg.Enforce()
}

func (h *httpContext) OnDone() {
	if h.plan == nil {
		return
	}
	var actual budget.Tokens
	switch {
	case !h.respStarted || h.status >= 300:
		// Not forwarded, or the provider refused it: providers do not bill failed requests.
	case h.batch, h.rawStream && !h.usage.Present:
		// An accepted batch (its requests run later; their usage never comes back on this exchange), or a stream
		// the filter could not follow: the reservation is the charge.
		actual = budget.Tokens{Input: h.plan.Input, Output: h.plan.Output}
	case h.usage.Present:
		actual = budget.Tokens{Input: h.usage.Input, Cached: h.usage.Cached, Output: h.usage.Output, Reasoning: h.usage.Reasoning}
		if actual.Input == 0 {
			actual.Input = h.plan.Input
		}
	default:
		// No usage: charge the estimated input and the output counted in the response.
		actual = budget.Tokens{Input: h.plan.Input, Output: max(h.outText, h.usage.Output)}
	}
	before := h.plan.Input + h.plan.Output
	if err := h.plan.Settle(sharedStore{}, &h.p.pending, actual); err != nil {
		filter.LogWarnf("%s: settle: %v", filterName, err)
	}
	if d := before - actual.Input - actual.Output; d > 0 {
		h.p.m.refunded.Add(uint64(d))
	}
	if t := actual.Input + actual.Output; t > 0 {
		h.p.m.charged.Add(uint64(t))
	}
	h.plan = nil
}

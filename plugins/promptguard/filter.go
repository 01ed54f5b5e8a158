package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

const filterName = "promptguard"

// Reason codes.
const (
	reasonInjection         = "prompt_injection_detected"
	reasonIndirectInjection = "indirect_prompt_injection_detected"
	reasonTooLarge          = "body_too_large"
	reasonUnsupported       = "unsupported_content_encoding"
	reasonUndecodable       = "body_undecodable"
	reasonInvalid           = "invalid_request_body"
)

// Annotation headers (added to the response the client receives).
const (
	headerScore   = "x-wasmguard-injection-score"
	headerSignals = "x-wasmguard-injection-signals"
	headerReason  = "x-wasmguard-reason"
)

const blockMessage = "the request was blocked by the gateway's prompt-injection policy"

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct {
	types.DefaultPluginContext
	cfg *config.Routed[Config]

	mScanned, mFlagged, mBlocked, mAnnotated, mErrors proxywasm.MetricCounter
}

// OnPluginStart parses the configuration (refusing to start on any error) and defines the metrics.
// TODO(sdk): switch to filter.LoadConfig / filter.NewMetrics when sdk/filter lands.
func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogCriticalf("%s: config: cannot read the plugin configuration: %v", filterName, err)
		return types.OnPluginStartStatusFailed
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		var cerr *config.Errors
		if errors.As(err, &cerr) {
			for _, is := range cerr.Issues {
				proxywasm.LogCriticalf("%s: config: %s", filterName, is)
			}
		} else {
			proxywasm.LogCriticalf("%s: config: %v", filterName, err)
		}
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	p.mScanned = proxywasm.DefineCounterMetric(telemetry.MetricName(filterName, "requests_scanned"))
	p.mFlagged = proxywasm.DefineCounterMetric(telemetry.MetricName(filterName, "flagged"))
	p.mBlocked = proxywasm.DefineCounterMetric(telemetry.MetricName(filterName, "blocked"))
	p.mAnnotated = proxywasm.DefineCounterMetric(telemetry.MetricName(filterName, "annotated"))
	p.mErrors = proxywasm.DefineCounterMetric(telemetry.MetricName(filterName, "errors"))
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) NewHttpContext(uint32) types.HttpContext { return &httpContext{p: p} }

type httpContext struct {
	types.DefaultHttpContext
	p    *pluginContext
	cfg  *Config
	rule string

	path, requestID, encoding string
	bodySize                  int
	scanned                   bool
	replied                   bool

	// annotation for the response headers
	annotate bool
	score    float64
	signals  []string
	reason   string
}

func (h *httpContext) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	hs, _ := proxywasm.GetHttpRequestHeaders() // one pairs call
	ri := requestInfo(hs, h.p.cfg.Default.ConsumerHeader)
	h.path, h.requestID = ri.Path, ri.RequestID
	for _, kv := range hs {
		if kv[0] == "content-encoding" {
			h.encoding = kv[1]
		}
	}
	h.cfg, h.rule = h.p.cfg.Select(ri)
	if endOfStream {
		h.scanned = true // no body: nothing to inspect
	}
	return types.ActionContinue
}

func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if h.scanned || h.replied {
		return types.ActionContinue
	}
	h.bodySize = bodySize
	if int64(bodySize) > h.cfg.MaxBodyBytes {
		return h.fail(reasonTooLarge, 413)
	}
	if !endOfStream {
		return types.ActionPause // accumulate: the next call sees the cumulative body
	}
	return h.inspect()
}

// OnHttpRequestTrailers inspects a body that ended with trailers instead of end_of_stream.
func (h *httpContext) OnHttpRequestTrailers(int) types.Action {
	if h.scanned || h.replied || h.bodySize == 0 {
		return types.ActionContinue
	}
	return h.inspect()
}

func (h *httpContext) inspect() types.Action {
	h.scanned = true
	raw, err := proxywasm.GetHttpRequestBody(0, h.bodySize)
	if err != nil {
		return h.fail(reasonUndecodable, 400)
	}
	// TODO(sdk): decode with sdk/body once it no longer pulls in net/http (through andybalholm/brotli), whose
	// os/net imports (path_filestat_get) make the module fail to load on Envoy's restricted WASI.
	enc := strings.ToLower(strings.TrimSpace(h.encoding))
	if enc != "" && enc != "identity" {
		return h.fail(reasonUnsupported, 415)
	}
	plain := raw
	f := llm.DetectFormat(h.path, plain)
	if f == llm.FormatUnknown {
		return types.ActionContinue // not an LLM API request (models list, embeddings, health checks...)
	}
	req, err := llm.ParseRequestWith(f, plain, llm.Options{Path: h.path, DocumentMarkers: h.cfg.DocumentMarkers})
	if err != nil {
		return h.fail(reasonInvalid, 400)
	}
	v := h.cfg.det.ScanRequest(req, &h.cfg.Policy)
	increment(h.p.mScanned)
	enforce := h.cfg.Enforce()
	if h.cfg.Action == actionAnnotate && enforce {
		h.annotate, h.score, h.signals = true, v.Score, v.Signals
	}
	if !v.Flagged {
		return types.ActionContinue
	}
	increment(h.p.mFlagged)
	reason := reasonInjection
	if detect.IsData(v.Provenance) {
		reason = reasonIndirectInjection
	}
	h.logDecision(h.cfg.Action, reason, v)
	if !enforce {
		return types.ActionContinue
	}
	if h.cfg.Action == actionAnnotate {
		h.reason = reason
		increment(h.p.mAnnotated)
		return types.ActionContinue
	}
	increment(h.p.mBlocked)
	h.reply(f, h.cfg.Status, reason)
	return types.ActionPause
}

// fail takes the on_error path: deny answers with a provider-shaped error, allow lets the request through.
func (h *httpContext) fail(reason string, status int) types.Action {
	h.scanned = true
	increment(h.p.mErrors)
	action := "block"
	if h.cfg.FailOpen() {
		action = "allow"
	}
	d := telemetry.Decision{Filter: filterName, Rule: h.rule, Action: action, Reason: reason, RequestID: h.requestID}
	if !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	proxywasm.LogWarn(d.String())
	if h.cfg.FailOpen() || !h.cfg.Enforce() {
		return types.ActionContinue
	}
	h.reply(llm.DetectFormat(h.path, nil), status, reason)
	return types.ActionPause
}

func (h *httpContext) reply(f llm.Format, status int, reason string) {
	if h.replied {
		return
	}
	h.replied = true
	hdrs, b := reply.Error(f, status, reason, blockMessage, h.requestID)
	if err := proxywasm.SendHttpResponse(uint32(status), hdrs, b, -1); err != nil {
		proxywasm.LogErrorf("%s: send local reply: %v", filterName, err)
	}
}

func (h *httpContext) logDecision(action, reason string, v detect.Verdict) {
	d := telemetry.Decision{
		Filter: filterName, Rule: h.rule, Action: action, Reason: reason, RequestID: h.requestID,
		Score: round3(v.Score), Signals: v.Signals,
	}
	if !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	for _, fd := range v.Findings {
		typ := "prompt_injection"
		if detect.IsData(fd.Provenance) {
			typ = "indirect_prompt_injection"
		}
		d.Findings = append(d.Findings, telemetry.Finding{Type: typ, Segment: fd.Segment, Start: 0, End: fd.Runes, Score: round3(fd.Score)})
	}
	proxywasm.LogInfo(d.String())
}

// OnHttpResponseHeaders adds the annotation headers (action annotate, enforce mode).
func (h *httpContext) OnHttpResponseHeaders(int, bool) types.Action {
	if !h.annotate || h.replied {
		return types.ActionContinue
	}
	_ = proxywasm.AddHttpResponseHeader(headerScore, strconv.FormatFloat(round3(h.score), 'f', -1, 64))
	if len(h.signals) > 0 {
		_ = proxywasm.AddHttpResponseHeader(headerSignals, strings.Join(h.signals, ","))
	}
	if h.reason != "" {
		_ = proxywasm.AddHttpResponseHeader(headerReason, h.reason)
	}
	return types.ActionContinue
}

func increment(m proxywasm.MetricCounter) { m.Increment(1) }

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// requestInfo builds the rule-matching view of a request from its headers.
// TODO(sdk): use filter.ReadRequestInfo (route name property, Kong/Envoy encodings) when sdk/filter lands.
func requestInfo(hs [][2]string, consumerHeader string) *config.RequestInfo {
	ri := &config.RequestInfo{Headers: hs}
	for _, kv := range hs {
		switch kv[0] {
		case ":path":
			ri.Path = kv[1]
		case ":method":
			ri.Method = kv[1]
		case ":authority", "host":
			if ri.Host == "" {
				ri.Host = kv[1]
			}
		case "x-request-id":
			ri.RequestID = kv[1]
		}
		if consumerHeader != "" && kv[0] == consumerHeader {
			ri.Consumer = kv[1]
		}
	}
	if b, err := proxywasm.GetProperty([]string{"xds", "route_name"}); err == nil {
		ri.Route = strings.TrimRight(string(b), "\x00")
	}
	return ri
}

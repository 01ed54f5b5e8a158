package main

import (
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

const filterName = "promptguard"

// Reason codes of a decision (the on_error path uses the shared telemetry.Reason* codes).
const (
	reasonInjection         = "prompt_injection_detected"
	reasonIndirectInjection = "indirect_prompt_injection_detected"
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

	scanned, flagged, blocked, annotated filter.Counter
	errors                               *filter.CounterVec
}

// OnPluginStart parses the configuration (refusing to start on any error) and defines the metrics.
func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, ok := filter.LoadConfig(filterName, parseConfig)
	if !ok {
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	m := filter.NewMetrics(filterName)
	p.scanned = m.Counter("requests_scanned")
	p.flagged = m.Counter("flagged")
	p.blocked = m.Counter("blocked")
	p.annotated = m.Counter("annotated")
	p.errors = m.CounterVec("errors", "reason")
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) NewHttpContext(uint32) types.HttpContext { return &httpContext{p: p} }

type httpContext struct {
	types.DefaultHttpContext
	p   *pluginContext
	s   filter.Stream
	cfg *Config
	req filter.RequestBody

	// annotation for the response headers
	annotate bool
	score    float64
	signals  []string
	reason   string
}

func (h *httpContext) OnHttpRequestHeaders(int, bool) types.Action {
	h.s.Info = filter.ReadRequestInfo(h.p.cfg.Default.ConsumerHeader, h.p.cfg.UsesRoute())
	h.cfg, h.s.Rule = h.p.cfg.Select(h.s.Info)
	h.s.Format = llm.DetectFormat(h.s.Info.Path, nil)
	h.req.Limit = h.cfg.MaxBodyBytes
	return types.ActionContinue
}

func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	raw, step, err := h.req.Collect(bodySize, endOfStream)
	return h.request(raw, step, err)
}

// OnHttpRequestTrailers inspects a body that ended with trailers instead of end_of_stream.
func (h *httpContext) OnHttpRequestTrailers(int) types.Action {
	raw, step, err := h.req.CollectAtTrailers()
	return h.request(raw, step, err)
}

func (h *httpContext) request(raw []byte, step filter.Step, err error) types.Action {
	switch {
	case err != nil:
		return h.fail(filter.ReasonFor(err, false))
	case step == filter.StepMore:
		return types.ActionPause // accumulate: the next call sees the cumulative body
	case step == filter.StepSkip:
		return types.ActionContinue
	}
	enc, _ := h.s.Info.Header("content-encoding")
	plain, err := body.Decode(enc, raw, h.cfg.MaxBodyBytes)
	if err != nil {
		return h.fail(filter.ReasonFor(err, false))
	}
	f := llm.DetectFormat(h.s.Info.Path, plain)
	if f == llm.FormatUnknown {
		return types.ActionContinue // not an LLM API request (models list, embeddings, health checks...)
	}
	h.s.Format = f
	req, err := llm.ParseRequestWith(f, plain, llm.Options{Path: h.s.Info.Path, DocumentMarkers: h.cfg.DocumentMarkers})
	if err != nil {
		return h.fail(telemetry.ReasonRequestBodyUnparseable)
	}
	v := h.cfg.det.ScanRequest(req, &h.cfg.Policy)
	h.p.scanned.Inc()
	enforce := h.cfg.Enforce()
	if h.cfg.Action == actionAnnotate && enforce {
		h.annotate, h.score, h.signals = true, v.Score, v.Signals
	}
	if !v.Flagged {
		return types.ActionContinue
	}
	h.p.flagged.Inc()
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
		h.p.annotated.Inc()
		return types.ActionContinue
	}
	h.p.blocked.Inc()
	_ = h.s.Reply(h.cfg.Status, reason, blockMessage)
	return types.ActionPause
}

// fail takes the on_error path with a shared reason code: deny answers with a provider-shaped error (status
// from filter.StatusFor), allow lets the request through. Monitor mode never blocks; both are logged.
func (h *httpContext) fail(reason string) types.Action {
	h.p.errors.Inc(reason)
	deny := !h.cfg.FailOpen()
	d := telemetry.Decision{Filter: filterName, Rule: h.s.Rule, Action: "allow", Reason: reason, RequestID: h.s.RequestID()}
	if deny {
		d.Action = "deny"
	}
	if !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	filter.LogDecision(d)
	if !deny || !h.cfg.Enforce() {
		return types.ActionContinue
	}
	_ = h.s.Reply(filter.StatusFor(reason), reason, "the gateway's prompt-injection filter could not check the request")
	return types.ActionPause
}

func (h *httpContext) logDecision(action, reason string, v detect.Verdict) {
	d := telemetry.Decision{
		Filter: filterName, Rule: h.s.Rule, Action: action, Reason: reason, RequestID: h.s.RequestID(),
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
	filter.LogDecision(d)
}

// OnHttpResponseHeaders adds the annotation headers (action annotate, enforce mode).
func (h *httpContext) OnHttpResponseHeaders(int, bool) types.Action {
	if !h.annotate || h.s.Replied() {
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

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

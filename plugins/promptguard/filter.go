package promptguard

import (
	"strconv"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
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

// New returns the promptguard stage (filter.Run wires it as dist/promptguard.wasm, and the combined
// module runs it first).
func New() filter.Stage { return &pluginContext{} }

type pluginContext struct {
	cfg *config.Routed[Config]

	dec *filter.Decisions // wasmguard_promptguard_requests_total{action,reason}, errors_total{reason}
}

func (*pluginContext) Name() string { return filterName }

// Configure parses the configuration and defines the metrics.
func (p *pluginContext) Configure(raw []byte) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	p.cfg = cfg
	m := filter.NewMetrics(filterName)
	p.dec = m.Decisions()
	return nil
}

func (p *pluginContext) NewHandler(x *filter.Exchange) filter.Handler {
	return &httpContext{p: p, x: x}
}

type httpContext struct {
	filter.BaseHandler
	p   *pluginContext
	x   *filter.Exchange
	s   filter.Stream
	cfg *Config
	req filter.RequestBody

	// annotation for the response headers
	annotate bool
	score    float64
	signals  []string
	reason   string
}

func (h *httpContext) OnRequestHeaders(bool) filter.Action {
	h.s.Info = h.x.RequestInfo(h.p.cfg.Default.ConsumerHeader, h.p.cfg.UsesRoute())
	h.cfg, h.s.Rule = h.p.cfg.Select(h.s.Info)
	h.s.Format = llm.DetectFormat(h.s.Info.Path, nil)
	h.req.Limit = h.cfg.MaxBodyBytes
	return filter.Continue
}

func (h *httpContext) OnRequestBody(bodySize int, endOfStream bool) filter.Action {
	raw, step, err := h.req.Collect(bodySize, endOfStream)
	return h.request(raw, step, err)
}

// OnHttpRequestTrailers inspects a body that ended with trailers instead of end_of_stream.
func (h *httpContext) OnRequestTrailers() filter.Action {
	raw, step, err := h.req.CollectAtTrailers()
	return h.request(raw, step, err)
}

func (h *httpContext) request(raw []byte, step filter.Step, err error) filter.Action {
	switch {
	case err != nil:
		return h.fail(filter.ReasonFor(err, false))
	case step == filter.StepMore:
		return filter.Pause // accumulate: the next call sees the cumulative body
	case step == filter.StepSkip:
		return filter.Continue
	}
	enc, _ := h.s.Info.Header("content-encoding")
	plain, err := h.x.Decode(enc, raw, h.cfg.MaxBodyBytes)
	if err != nil {
		return h.fail(filter.ReasonFor(err, false))
	}
	f := llm.DetectFormat(h.s.Info.Path, plain)
	// the same view as piimask: a text or form body (a JSON one is parsed as JSON whatever it is labelled) is read
	// as text
	ct, _ := h.s.Info.Header("content-type")
	opts := llm.Options{Path: h.s.Info.Path, DocumentMarkers: h.cfg.DocumentMarkers, ContentType: ct}
	if f == llm.FormatUnknown {
		// No known LLM format (a new endpoint, a proxy's own API, a text or form body): what the provider reads is
		// unknown, so by default every string is scanned (unknown_format: scan); allow and deny are explicit.
		if act, handled := h.s.UnknownFormat(h.p.dec, h.cfg.Common, filterName, h.cfg.UnknownFormat); handled {
			return act
		}
		opts.Generic = true
	}
	h.s.Format = f
	req, err := h.x.ParseRequest(f, plain, opts)
	if err != nil {
		return h.fail(filter.ReasonFor(err, false))
	}
	// images, PDFs, audio: what the model reads and no filter can; unreadable_attachments decides (text ones are
	// segments, scanned below)
	if act, handled := h.s.Attachments(h.p.dec, h.cfg.Common, filterName, h.cfg.UnreadableAttachments, req.Attachments); handled {
		return act
	}
	v := h.cfg.det.ScanRequest(req, &h.cfg.Policy)
	if v.Truncated && !v.Flagged {
		// a scan limit (max_scan_segments, max_scan_bytes) stopped the scan before every segment was read: the
		// rest was never scored, so it is an on_error decision, never a silent pass
		return h.fail(telemetry.ReasonScanBudgetExceeded)
	}
	enforce := h.cfg.Enforce()
	if h.cfg.Action == actionAnnotate && enforce {
		h.annotate, h.score, h.signals = true, v.Score, v.Signals
	}
	if !v.Flagged {
		h.p.dec.Count(telemetry.ActionAllow, telemetry.ReasonNone)
		return filter.Continue
	}
	reason := reasonInjection
	if detect.IsData(v.Provenance) {
		reason = reasonIndirectInjection
	}
	h.logDecision(h.cfg.Action, reason, v)
	if !enforce {
		return filter.Continue
	}
	if h.cfg.Action == actionAnnotate {
		h.reason = reason
		return filter.Continue
	}
	_ = h.s.Reply(h.cfg.Status, reason, blockMessage)
	return filter.Pause
}

// fail takes the shared on_error path (filter.Stream.FailRequest): deny answers with a provider-shaped error,
// allow lets the request through; monitor mode never blocks; both are logged and counted.
func (h *httpContext) fail(reason string) filter.Action {
	return h.s.FailRequest(h.p.dec, h.cfg.Common, telemetry.Decision{Filter: filterName, Reason: reason}, 0)
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
	h.p.dec.Log(d)
}

// OnHttpResponseHeaders adds the annotation headers (action annotate, enforce mode).
func (h *httpContext) OnResponseHeaders(bool) filter.Action {
	if !h.annotate || h.s.Replied() {
		return filter.Continue
	}
	_ = filter.AddResponseHeader(headerScore, strconv.FormatFloat(round3(h.score), 'f', -1, 64))
	if len(h.signals) > 0 {
		_ = filter.AddResponseHeader(headerSignals, strings.Join(h.signals, ","))
	}
	if h.reason != "" {
		_ = filter.AddResponseHeader(headerReason, h.reason)
	}
	return filter.Continue
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

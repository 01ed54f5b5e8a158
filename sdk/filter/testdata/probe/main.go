// Command probe is a test-only proxy-wasm filter that exercises every sdk/filter helper, so
// sdk/filter's hostsim tests can run the helpers inside a real wasm VM under the Envoy and Kong host
// profiles. It is built by those tests (hostsim_test.go) and never shipped.
//
// Behaviour: request bodies containing "BLOCKME" get a 403 local reply (reason probe_blocked);
// "REWRITE" is replaced by "rewritten" in request bodies; "secret" is replaced by "[redacted]" in
// JSON response bodies.
package main

import (
	"bytes"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type probeConfig struct {
	config.Common
	Threshold float64
}

func parse(raw []byte) (*config.Routed[probeConfig], error) {
	return config.ParseRouted(raw, func(o config.Obj) probeConfig {
		return probeConfig{Common: config.ReadCommon(o), Threshold: o.Float("threshold", 0.5, 0, 1)}
	})
}

type plugin struct {
	types.DefaultPluginContext
	cfg       *config.Routed[probeConfig]
	metrics   *filter.Metrics
	requests  *filter.CounterVec
	redacted  filter.Counter
	bodyBytes filter.Histogram
	dec       *filter.Decisions
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, ok := filter.LoadConfig("probe", parse)
	if !ok {
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	p.metrics = filter.NewMetrics("probe")
	p.requests = p.metrics.CounterVec("requests_total", "rule")
	p.redacted = p.metrics.Counter("redacted_total")
	p.bodyBytes = p.metrics.Histogram("request_body_bytes")
	p.dec = p.metrics.Decisions()
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &httpCtx{p: p} }

type httpCtx struct {
	types.DefaultHttpContext
	p    *plugin
	s    filter.Stream
	cfg  *probeConfig
	req  filter.RequestBody
	resp filter.ResponseBody
}

func (h *httpCtx) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	h.s.Info = filter.ReadRequestInfo(h.p.cfg.Default.ConsumerHeader, h.p.cfg.UsesRoute())
	h.cfg, h.s.Rule = h.p.cfg.Select(h.s.Info)
	h.s.Format = llm.DetectFormat(h.s.Info.Path, nil)
	h.p.requests.Inc(h.s.Rule)
	h.req.Limit = h.cfg.MaxBodyBytes
	h.resp.Limit = h.cfg.MaxBodyBytes
	_ = filter.DropRequestContentLength()
	_ = filter.AskIdentityEncoding()
	return types.ActionContinue
}

func (h *httpCtx) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	raw, step, err := h.req.Collect(bodySize, endOfStream)
	return h.request(raw, step, err)
}

func (h *httpCtx) OnHttpRequestTrailers(int) types.Action {
	raw, step, err := h.req.CollectAtTrailers()
	return h.request(raw, step, err)
}

func (h *httpCtx) request(raw []byte, step filter.Step, err error) types.Action {
	switch {
	case err != nil:
		return h.fail(err)
	case step == filter.StepMore:
		return types.ActionPause
	case step == filter.StepSkip:
		return types.ActionContinue
	}
	h.p.bodyBytes.Record(uint64(len(raw)))
	plain, err := body.Decode(header(h.s.Info, "content-encoding"), raw, h.cfg.MaxBodyBytes)
	if err != nil {
		return h.fail(err)
	}
	if bytes.Contains(plain, []byte("BLOCKME")) {
		h.log("block", "probe_blocked")
		if h.cfg.Enforce() {
			_ = h.s.Reply(403, "probe_blocked", "blocked by the probe policy")
			return types.ActionPause
		}
		return types.ActionContinue
	}
	if bytes.Contains(plain, []byte("REWRITE")) {
		out, err := body.Encode(header(h.s.Info, "content-encoding"), bytes.ReplaceAll(plain, []byte("REWRITE"), []byte("rewritten")))
		if err == nil {
			_ = filter.ReplaceRequestBody(out)
		}
		h.log("rewrite", "probe_rewritten")
	}
	return types.ActionContinue
}

func header(ri *config.RequestInfo, name string) string {
	v, _ := ri.Header(name)
	return v
}

func (h *httpCtx) OnHttpResponseHeaders(int, bool) types.Action {
	if h.s.Replied() {
		return types.ActionContinue
	}
	_ = filter.DropResponseContentLength()
	return types.ActionContinue
}

func (h *httpCtx) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
	if h.s.Replied() {
		return types.ActionContinue
	}
	raw, step, err := h.resp.Collect(bodySize, endOfStream)
	if err != nil {
		h.log(h.errorAction(), "response_too_large")
		if !h.cfg.PassOnError() { // monitor mode never drops a response
			h.resp.Drop()
			_, b := reply.Error(h.s.Format, 502, "response_too_large", "the response was too large to check", h.s.RequestID())
			_ = filter.ReplaceResponseBody(b)
		}
		return types.ActionContinue
	}
	if step == filter.StepReady && bytes.Contains(raw, []byte("secret")) {
		h.p.redacted.Inc()
		_ = filter.ReplaceResponseBody(bytes.ReplaceAll(raw, []byte("secret"), []byte("[redacted]")))
	}
	return types.ActionContinue
}

// fail takes the shared on_error path.
func (h *httpCtx) fail(err error) types.Action {
	if h.s.FailRequest(h.p.dec, h.cfg.Common, telemetry.Decision{Filter: "probe", Reason: filter.ReasonFor(err, false)}, 0) == filter.Pause {
		return types.ActionPause
	}
	return types.ActionContinue
}

// errorAction is the action on_error says, logged with mode "monitor" in monitor mode.
func (h *httpCtx) errorAction() string {
	if h.cfg.FailOpen() {
		return "allow"
	}
	return "deny"
}

func (h *httpCtx) log(action, reason string) { h.logAttrs(action, reason, nil) }

func (h *httpCtx) logAttrs(action, reason string, attrs []telemetry.Attr) {
	d := telemetry.Decision{Filter: "probe", Rule: h.s.Rule, Action: action, Reason: reason, RequestID: h.s.RequestID(), Attrs: attrs}
	if !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	filter.LogDecision(d)
}

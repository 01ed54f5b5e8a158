package filter

import (
	"errors"
	"fmt"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/config"
)

// Action is what a stage's callback returns: Continue lets the exchange go on (to the next stage of the
// module, then to the host); Pause stops it at this stage (a request body being accumulated, a local
// reply sent, a callout pending, response headers held).
type Action uint8

const (
	Continue Action = iota
	Pause
)

// Stage is one filter (promptguard, piimask, tokenbudget, outputguard). A module runs one stage (the
// filter's own .wasm) or several in a fixed order (dist/wasmguard.wasm); the pipeline owns the host:
// callbacks, configuration, the request's headers, bodies and their decoding and parsing (shared by
// the stages through the Exchange), local replies, callouts and ticks. A stage imports no proxywasm
// package.
type Stage interface {
	// Name is the filter's name: the prefix of its metrics and logs, and its key in a combined config.
	Name() string
	// Configure parses the stage's configuration (nil when absent or empty) and defines its metrics.
	// It runs in OnPluginStart; an error refuses the plugin (config.Errors issues are logged one per
	// line, their paths prefixed with the stage's key in a combined module).
	Configure(raw []byte) error
	// NewHandler returns the stage's state for one HTTP exchange.
	NewHandler(x *Exchange) Handler
}

// Handler is a stage's per-exchange callbacks, in the host's order. Embed BaseHandler for the ones a
// stage does not need. A request callback that returns Pause stops the exchange at this stage: later
// stages get the callback when it continues (a later callback, or Exchange.ResumeRequest after a
// callout). Response callbacks run in reverse stage order, as a chain of separate filters does.
type Handler interface {
	OnRequestHeaders(endOfStream bool) Action
	OnRequestBody(bodySize int, endOfStream bool) Action
	OnRequestTrailers() Action
	OnResponseHeaders(endOfStream bool) Action
	OnResponseBody(bodySize int, endOfStream bool) Action
	OnResponseTrailers() Action
	OnDone()
}

// Ticker is a stage that wants OnTick (it set a tick period with SetTickPeriod in Configure).
type Ticker interface{ OnTick() }

// BaseHandler implements every Handler callback as Continue.
type BaseHandler struct{}

func (BaseHandler) OnRequestHeaders(bool) Action    { return Continue }
func (BaseHandler) OnRequestBody(int, bool) Action  { return Continue }
func (BaseHandler) OnRequestTrailers() Action       { return Continue }
func (BaseHandler) OnResponseHeaders(bool) Action   { return Continue }
func (BaseHandler) OnResponseBody(int, bool) Action { return Continue }
func (BaseHandler) OnResponseTrailers() Action      { return Continue }
func (BaseHandler) OnDone()                         {}

// NewStage makes a fresh, unconfigured stage (one per plugin context: a VM may run several plugin
// configurations).
type NewStage func() Stage

// Run registers a module running one stage: the plugin configuration is the stage's. Call it from the
// main package's init:
//
//	func main() {}
//	func init() { filter.Run(promptguard.New) }
func Run(newStage NewStage) { proxywasm.SetVMContext(&vmContext{stages: []NewStage{newStage}}) }

// RunCombined registers a module running several stages in the given (request) order, configured by one
// document {"<stage name>": {...}, ...}: a stage whose key is absent is off, unknown keys are refused.
func RunCombined(name string, stages ...NewStage) {
	proxywasm.SetVMContext(&vmContext{name: name, stages: stages, combined: true})
}

type vmContext struct {
	types.DefaultVMContext
	name     string
	stages   []NewStage
	combined bool
}

func (v *vmContext) NewPluginContext(uint32) types.PluginContext {
	p := &pluginContext{vm: v}
	return p
}

type pluginContext struct {
	types.DefaultPluginContext
	vm      *vmContext
	stages  []Stage // the active (configured) stages, in request order
	tickers []Ticker
	name    string
}

func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	tickPeriod = 0 // SetTickPeriod keeps the shortest period the stages of this plugin ask for
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogCriticalf("%s: config: read plugin configuration: %v", p.logName(), err)
		return types.OnPluginStartStatusFailed
	}
	stages, err := Configure(p.vm.stages, p.vm.combined, raw)
	if err != nil {
		LogConfigError(p.logName(), err)
		return types.OnPluginStartStatusFailed
	}
	p.stages = stages
	for _, s := range stages {
		if t, ok := s.(Ticker); ok {
			p.tickers = append(p.tickers, t)
		}
	}
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) logName() string {
	if p.vm.combined {
		return p.vm.name
	}
	if p.name == "" && len(p.vm.stages) == 1 {
		p.name = p.vm.stages[0]().Name()
	}
	return p.name
}

// Configure makes and configures the stages of a module from its plugin configuration: the whole
// document for a single stage, the stage's key of a combined document (absent: the stage is off).
// Errors of a combined document name the stage's key first ("piimask.rules[0].action: ...").
func Configure(news []NewStage, combined bool, raw []byte) ([]Stage, error) {
	if !combined {
		s := news[0]()
		if err := s.Configure(raw); err != nil {
			return nil, err
		}
		return []Stage{s}, nil
	}
	o, err := config.Parse(raw)
	if err != nil {
		return nil, err
	}
	var out []Stage
	var issues []config.Issue
	names := make([]string, 0, len(news))
	for _, n := range news {
		s := n()
		names = append(names, s.Name())
		if !o.Has(s.Name()) {
			continue
		}
		sub := o.Raw(s.Name())
		if !sub.IsObject() {
			issues = append(issues, config.Issue{Path: s.Name(), Msg: "must be an object"})
			continue
		}
		if err := s.Configure([]byte(sub.Raw)); err != nil {
			issues = append(issues, prefixIssues(s.Name(), err)...)
			continue
		}
		out = append(out, s)
	}
	for _, k := range o.Keys() {
		if !contains(names, k) {
			issues = append(issues, config.Issue{Path: k, Msg: fmt.Sprintf("unknown stage (one of %v)", names)})
		}
	}
	if len(issues) > 0 {
		return nil, &config.Errors{Issues: issues}
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func prefixIssues(prefix string, err error) []config.Issue {
	var cerr *config.Errors
	if !errors.As(err, &cerr) {
		return []config.Issue{{Path: prefix, Msg: err.Error()}}
	}
	out := make([]config.Issue, len(cerr.Issues))
	for i, is := range cerr.Issues {
		p := prefix
		if is.Path != "" {
			p += "." + is.Path
			if is.Path[0] == '[' {
				p = prefix + is.Path
			}
		}
		out[i] = config.Issue{Path: p, Msg: is.Msg}
	}
	return out
}

func (p *pluginContext) OnTick() {
	for _, t := range p.tickers {
		t.OnTick()
	}
}

func (p *pluginContext) NewHttpContext(id uint32) types.HttpContext {
	pl := newPipeline(p.stages)
	pl.x.id = id
	return pl
}

// ---- the per-exchange pipeline ----

type phase uint8

const (
	phNone phase = iota
	phReqHeaders
	phReqBody
	phReqTrailers
	phRespHeaders
	phRespBody
	phRespTrailers
)

// pending is a callback a stage paused: the stages after it get it when the stage resumes.
type pending struct {
	ph    phase
	size  int
	eos   bool
	stage int // index of the stage that paused (-1: none)
}

// maxInline stages are held inside the pipeline itself: a module of up to four stages allocates its
// per-exchange state in one piece (guest allocations are dear in wasm).
const maxInline = 4

type pipeline struct {
	types.DefaultHttpContext
	x      exchange
	inline struct {
		handlers [maxInline]Handler
		views    [maxInline]Exchange
		reqSeen  [maxInline]phase
		respSeen [maxInline]phase
	}
	handlers []Handler
	views    []Exchange
	// reqSeen/respSeen: the last phase each stage got (a stage that paused its headers gets them
	// before its first body callback).
	reqSeen  []phase
	respSeen []phase
	reqEOS   bool
	respEOS  bool
	pend     pending
}

func newPipeline(stages []Stage) *pipeline {
	p := &pipeline{}
	if n := len(stages); n <= maxInline {
		p.handlers, p.views = p.inline.handlers[:n], p.inline.views[:n]
		p.reqSeen, p.respSeen = p.inline.reqSeen[:n], p.inline.respSeen[:n]
	} else {
		p.handlers, p.views = make([]Handler, n), make([]Exchange, n)
		p.reqSeen, p.respSeen = make([]phase, n), make([]phase, n)
	}
	p.pend.stage = -1
	for i, s := range stages {
		p.views[i] = Exchange{x: &p.x, p: p, stage: i}
		p.handlers[i] = s.NewHandler(&p.views[i])
	}
	return p
}

// enter starts a host callback: the per-callback caches are reset.
func (p *pipeline) enter(ph phase) { p.x.enter(ph) }

func (p *pipeline) OnHttpRequestHeaders(_ int, eos bool) types.Action {
	p.enter(phReqHeaders)
	p.reqEOS = eos
	return p.runRequest(phReqHeaders, 0, eos, 0)
}

func (p *pipeline) OnHttpRequestBody(size int, eos bool) types.Action {
	p.enter(phReqBody)
	return p.runRequest(phReqBody, size, eos, 0)
}

func (p *pipeline) OnHttpRequestTrailers(int) types.Action {
	p.enter(phReqTrailers)
	return p.runRequest(phReqTrailers, 0, true, 0)
}

func (p *pipeline) OnHttpResponseHeaders(_ int, eos bool) types.Action {
	p.enter(phRespHeaders)
	p.respEOS = eos
	return p.runResponse(phRespHeaders, 0, eos, len(p.handlers)-1)
}

func (p *pipeline) OnHttpResponseBody(size int, eos bool) types.Action {
	p.enter(phRespBody)
	return p.runResponse(phRespBody, size, eos, len(p.handlers)-1)
}

func (p *pipeline) OnHttpResponseTrailers(int) types.Action {
	p.enter(phRespTrailers)
	return p.runResponse(phRespTrailers, 0, true, len(p.handlers)-1)
}

func (p *pipeline) OnHttpStreamDone() {
	p.enter(phNone)
	for _, h := range p.handlers {
		h.OnDone()
	}
	p.x.release()
}

// runRequest gives the request callback ph to the stages from index from on, in order, until one pauses.
func (p *pipeline) runRequest(ph phase, size int, eos bool, from int) types.Action {
	p.pend.stage = -1
	for i := from; i < len(p.handlers); i++ {
		h := p.handlers[i]
		if ph != phReqHeaders && p.reqSeen[i] < phReqHeaders {
			// the stage did not get the headers yet (an earlier stage held them): they come first
			p.reqSeen[i] = phReqHeaders
			if h.OnRequestHeaders(p.reqEOS) == Pause || p.x.replied {
				p.pend = pending{ph: ph, size: size, eos: eos, stage: i}
				return types.ActionPause
			}
		}
		p.reqSeen[i] = ph
		var a Action
		switch ph {
		case phReqHeaders:
			a = h.OnRequestHeaders(eos)
		case phReqBody:
			a = h.OnRequestBody(size, eos)
		case phReqTrailers:
			a = h.OnRequestTrailers()
		}
		if p.x.replied {
			return types.ActionPause
		}
		if a == Pause {
			p.pend = pending{ph: ph, size: size, eos: eos, stage: i}
			return types.ActionPause
		}
		if ph == phReqBody && p.x.reqBodyOK {
			size = len(p.x.reqBody) // a stage rewrote the body: the next one gets its size
		}
	}
	return types.ActionContinue
}

// runResponse gives the response callback ph to the stages from index from down to 0 (reverse order).
func (p *pipeline) runResponse(ph phase, size int, eos bool, from int) types.Action {
	p.pend.stage = -1
	for i := from; i >= 0; i-- {
		h := p.handlers[i]
		if ph != phRespHeaders && p.respSeen[i] < phRespHeaders {
			p.respSeen[i] = phRespHeaders
			if h.OnResponseHeaders(p.respEOS) == Pause {
				p.pend = pending{ph: ph, size: size, eos: eos, stage: i}
				return types.ActionPause
			}
		}
		p.respSeen[i] = ph
		var a Action
		switch ph {
		case phRespHeaders:
			a = h.OnResponseHeaders(eos)
		case phRespBody:
			a = h.OnResponseBody(size, eos)
		case phRespTrailers:
			a = h.OnResponseTrailers()
		}
		if a == Pause {
			p.pend = pending{ph: ph, size: size, eos: eos, stage: i}
			return types.ActionPause
		}
		if ph == phRespBody && p.x.respBodyOK {
			size = len(p.x.respBody) // a stage rewrote the chunk: the next one gets its size
		}
	}
	return types.ActionContinue
}

// resumeRequest continues the request after stage paused it (from a callout's callback): the stages
// after it get the paused callback, then the host resumes the request unless one of them pauses.
func (p *pipeline) resumeRequest(stage int) error {
	pd := p.pend
	if pd.stage != stage || pd.ph < phReqHeaders || pd.ph > phReqTrailers {
		return proxywasm.ResumeHttpRequest()
	}
	p.x.enter(pd.ph)
	if p.runRequest(pd.ph, pd.size, pd.eos, stage+1) == types.ActionPause {
		return nil
	}
	return proxywasm.ResumeHttpRequest()
}

// resumeResponse continues the response after stage paused its headers (from a root callback): the stages
// after it (in response order) get the paused callback, then the host resumes unless one of them pauses.
func (p *pipeline) resumeResponse(stage int) error {
	pd := p.pend
	if pd.stage != stage || pd.ph < phRespHeaders {
		return proxywasm.ResumeHttpResponse()
	}
	p.x.enter(pd.ph)
	if p.runResponse(pd.ph, pd.size, pd.eos, stage-1) == types.ActionPause {
		return nil
	}
	return proxywasm.ResumeHttpResponse()
}

package filter

import (
	"errors"
	"reflect"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Exchange is a stage's handle on one HTTP exchange. The stages of a module share what is behind it: the
// request's headers (read once), each callback's body bytes (read once per callback, whatever number of
// stages read them), the decoded body and the parsed request or response (decoded and parsed once per
// distinct body: when a stage rewrites the body, the next one reads the rewritten bytes, as the next
// filter of a chain would). What it returns is shared: a stage must not modify it.
type Exchange struct {
	x     *exchange
	p     *pipeline
	stage int
}

// exchange is the state the stages of one HTTP exchange share.
type exchange struct {
	id      uint32 // the host's context id
	ph      phase
	replied bool

	reqHeaders    [][2]string
	reqHeadersOK  bool
	respHeaders   [][2]string
	respHeadersOK bool
	route         string
	routeOK       bool
	infos         []infoMemo // by consumer header (few distinct values)

	// per callback
	reqBody    []byte
	reqBodyOK  bool
	respBody   []byte
	respBodyOK bool

	// decode and parse memos (compared by content: a stage's copy of the same bytes hits)
	decEnc           string
	decRaw, decPlain []byte
	decLimit         int64
	decErr           error
	decOK            bool

	reqMemo  []reqMemo
	respMemo respMemo

	owned [][]byte // pooled body buffers, back to the pool when the exchange ends (pool.go)
	chunk []byte   // the pooled buffer of this callback's response chunk
}

type reqMemo struct {
	f     llm.Format
	opts  llm.Options
	plain []byte
	req   *llm.Request
	err   error
}

type respMemo struct {
	ok    bool
	f     llm.Format
	plain []byte
	resp  *llm.Response
	err   error
}

// cur is the exchange whose callback runs (nil outside HTTP callbacks: plugin start, ticks). Wasm runs
// one callback at a time.
var cur *exchange

func (x *exchange) enter(ph phase) {
	x.dropChunk()
	cur = x
	x.ph = ph
	x.reqBodyOK = false
	x.reqBody = nil
	x.respBodyOK = false
	x.respBody = nil
}

// ---- headers ----

func getRequestHeaders() ([][2]string, error) {
	if x := cur; x != nil {
		if x.reqHeadersOK {
			return x.reqHeaders, nil
		}
		hs, err := proxywasm.GetHttpRequestHeaders()
		if err != nil {
			return nil, err
		}
		x.reqHeaders, x.reqHeadersOK = hs, true
		return hs, nil
	}
	return proxywasm.GetHttpRequestHeaders()
}

func getResponseHeaders() ([][2]string, error) {
	if x := cur; x != nil && x.ph >= phRespHeaders {
		if x.respHeadersOK {
			return x.respHeaders, nil
		}
		hs, err := proxywasm.GetHttpResponseHeaders()
		if err != nil {
			return nil, err
		}
		x.respHeaders, x.respHeadersOK = hs, true
		return hs, nil
	}
	return proxywasm.GetHttpResponseHeaders()
}

// without returns hs without name (a new slice: RequestInfos built earlier keep their list).
func without(hs [][2]string, name string) [][2]string {
	out := make([][2]string, 0, len(hs))
	for _, kv := range hs {
		if kv[0] != name {
			out = append(out, kv)
		}
	}
	return out
}

func removeRequestHeader(name string) error {
	err := proxywasm.RemoveHttpRequestHeader(name)
	if x := cur; x != nil && x.reqHeadersOK {
		x.reqHeaders = without(x.reqHeaders, name)
		x.infos = nil
	}
	return err
}

func replaceRequestHeader(name, value string) error {
	err := proxywasm.ReplaceHttpRequestHeader(name, value)
	if x := cur; x != nil && x.reqHeadersOK {
		x.reqHeaders = append(without(x.reqHeaders, name), [2]string{name, value})
		x.infos = nil
	}
	return err
}

// RemoveResponseHeader removes a response header.
func RemoveResponseHeader(name string) error {
	err := proxywasm.RemoveHttpResponseHeader(name)
	if x := cur; x != nil && x.respHeadersOK {
		x.respHeaders = without(x.respHeaders, name)
	}
	return err
}

// ReplaceResponseHeader sets a response header (replacing every value it had).
func ReplaceResponseHeader(name, value string) error {
	err := proxywasm.ReplaceHttpResponseHeader(name, value)
	if x := cur; x != nil && x.respHeadersOK {
		x.respHeaders = append(without(x.respHeaders, name), [2]string{name, value})
	}
	return err
}

// AddResponseHeader adds a response header value.
func AddResponseHeader(name, value string) error {
	err := proxywasm.AddHttpResponseHeader(name, value)
	if x := cur; x != nil && x.respHeadersOK {
		x.respHeaders = append(x.respHeaders[:len(x.respHeaders):len(x.respHeaders)], [2]string{name, value})
	}
	return err
}

// ResponseHeaders returns the response headers (read from the host once per exchange; the stages'
// changes are applied to the copy). Call it from OnResponseHeaders (or a later response callback
// while the headers are held).
func ResponseHeaders() ([][2]string, error) { return getResponseHeaders() }

// ---- bodies ----

// getRequestBody reads the request body; within a callback the stages share one read of the whole
// buffer.
func getRequestBody(start, max int) ([]byte, error) {
	x := cur
	if x == nil {
		return proxywasm.GetHttpRequestBody(start, max)
	}
	if !x.reqBodyOK {
		hint := 0
		if max > 0 && max < 1<<30 {
			hint = max
		}
		b, err := readBody(proxywasm.GetHttpRequestBody, hint)
		if err != nil {
			return nil, err
		}
		own(b)
		x.reqBody, x.reqBodyOK = b, true
	}
	return window(x.reqBody, start, max)
}

func window(b []byte, start, max int) ([]byte, error) {
	if start > len(b) {
		return nil, types.ErrorStatusNotFound
	}
	b = b[start:]
	if max >= 0 && len(b) > max {
		b = b[:max]
	}
	return b, nil
}

// ReplaceRequestBody replaces the whole request body (from a request body or trailers callback, once
// the body was collected). Remove content-length in OnRequestHeaders when the size may change
// (DropRequestContentLength).
func ReplaceRequestBody(b []byte) error {
	if err := proxywasm.ReplaceHttpRequestBody(b); err != nil {
		return err
	}
	if x := cur; x != nil {
		x.reqBody, x.reqBodyOK = b, true
	}
	return nil
}

// GetResponseBody reads the current response chunk (start, size as the callback's bodySize); the
// stages of a module share one read per callback.
func GetResponseBody(start, size int) ([]byte, error) {
	x := cur
	if x == nil {
		return proxywasm.GetHttpResponseBody(start, size)
	}
	if !x.respBodyOK {
		b, err := readBody(proxywasm.GetHttpResponseBody, size)
		if err != nil {
			return nil, err
		}
		x.setChunk(b)
		x.respBody, x.respBodyOK = b, true
	}
	return window(x.respBody, start, -1) // the whole chunk: an earlier stage may have changed its size
}

// ReplaceResponseBody sets the bytes the client receives for the current response chunk (the whole
// body when called after ResponseBody.Collect returned StepReady).
func ReplaceResponseBody(b []byte) error {
	if err := proxywasm.ReplaceHttpResponseBody(b); err != nil {
		return err
	}
	if x := cur; x != nil {
		x.respBody, x.respBodyOK = b, true
	}
	return nil
}

func prependResponseBody(b []byte) error {
	err := proxywasm.PrependHttpResponseBody(b)
	if x := cur; x != nil {
		x.respBodyOK, x.respBody = false, nil
	}
	return err
}

// ---- decode and parse, once per distinct body ----

// Decode is body.Decode(encoding, raw, limit), computed once for the exchange's stages while the bytes
// are the same.
func (e *Exchange) Decode(encoding string, raw []byte, limit int64) ([]byte, error) {
	x := e.x
	if x.decOK && x.decEnc == encoding && x.decLimit == limit && swar.Equal(x.decRaw, raw) {
		return x.decPlain, x.decErr
	}
	plain, err := raw, error(nil)
	if encoding != "" {
		plain, err = body.Decode(encoding, raw, limit)
	}
	x.decOK, x.decEnc, x.decLimit, x.decRaw, x.decPlain, x.decErr = true, encoding, limit, raw, plain, err
	return plain, err
}

// ParseRequest is llm.ParseRequestWith(f, plain, opts), parsed once for the exchange's stages while the
// body is the same. In a module of several stages the stages' options differ (piimask reads residual fields,
// promptguard marks documents): the body is parsed once with llm.SharedOptions and each stage gets its View,
// which is what a parse with its own options gives (a body that needs Generic or ContentType is parsed with the
// stage's options). The result is shared: do not modify it.
func (e *Exchange) ParseRequest(f llm.Format, plain []byte, opts llm.Options) (*llm.Request, error) {
	x := e.x
	if m := x.findReq(f, plain, opts); m != nil {
		return m.req, m.err
	}
	if len(e.p.handlers) > 1 {
		so := llm.SharedOptions(opts)
		base := x.findReq(f, plain, so)
		if base == nil {
			req, err := llm.ParseRequestWith(f, plain, so)
			base = x.addReq(reqMemo{f: f, opts: so, plain: plain, req: req, err: err})
		}
		if base.err == nil {
			if v, ok := base.req.View(opts); ok {
				x.addReq(reqMemo{f: f, opts: opts, plain: plain, req: v})
				return v, nil
			}
		}
	}
	req, err := llm.ParseRequestWith(f, plain, opts)
	x.addReq(reqMemo{f: f, opts: opts, plain: plain, req: req, err: err})
	return req, err
}

func (x *exchange) findReq(f llm.Format, plain []byte, opts llm.Options) *reqMemo {
	for i := range x.reqMemo {
		m := &x.reqMemo[i]
		if m.f == f && swar.Equal(m.plain, plain) && sameOptions(m.opts, opts) {
			return m
		}
	}
	return nil
}

func (x *exchange) addReq(m reqMemo) *reqMemo {
	if len(x.reqMemo) >= 8 {
		x.reqMemo = x.reqMemo[:0]
	}
	x.reqMemo = append(x.reqMemo, m)
	return &x.reqMemo[len(x.reqMemo)-1]
}

// sameOptions compares every field (the options grow with sdk/llm).
func sameOptions(a, b llm.Options) bool { return reflect.DeepEqual(a, b) }

// ParseResponse is llm.ParseResponse(f, plain), parsed once for the exchange's stages while the body
// and format are the same. The result is shared: do not modify it.
func (e *Exchange) ParseResponse(f llm.Format, plain []byte) (*llm.Response, error) {
	m := &e.x.respMemo
	if m.ok && m.f == f && swar.Equal(m.plain, plain) {
		return m.resp, m.err
	}
	resp, err := llm.ParseResponse(f, plain)
	*m = respMemo{ok: true, f: f, plain: plain, resp: resp, err: err}
	return resp, err
}

// ---- request info ----

// RequestInfo is ReadRequestInfo over the exchange's one read of the request headers (and route name),
// shared by the stages that read it with the same consumer header: do not modify it.
func (e *Exchange) RequestInfo(consumerHeader string, withRoute bool) *config.RequestInfo {
	x := e.x
	var ri *config.RequestInfo
	for _, m := range x.infos {
		if m.consumer == consumerHeader {
			ri = m.ri
			break
		}
	}
	if ri == nil {
		ri = ReadRequestInfo(consumerHeader, false)
		x.infos = append(x.infos, infoMemo{consumer: consumerHeader, ri: ri})
	}
	if withRoute && ri.Route == "" {
		ri.Route = e.route() // the same for every stage; a stage that does not match on routes ignores it
	}
	return ri
}

type infoMemo struct {
	consumer string
	ri       *config.RequestInfo
}

func (e *Exchange) route() string {
	if !e.x.routeOK {
		e.x.route, e.x.routeOK = RouteName(), true
	}
	return e.x.route
}

// ---- replies and resumption ----

// Replied reports whether a stage of this exchange sent a local reply. Envoy runs the response callbacks
// for it: stages skip their response processing.
func (e *Exchange) Replied() bool { return e.x.replied }

// SendResponse sends a local reply once per exchange (Kong traps on a second one); later calls do nothing
// and return nil. The callback must then return Pause.
func (e *Exchange) SendResponse(status int, headers [][2]string, b []byte) error {
	prev := cur
	cur = e.x
	err := sendResponse(status, headers, b)
	cur = prev
	return err
}

// Reply sends a provider-shaped error reply (sdk/reply) once per exchange.
func (e *Exchange) Reply(f llm.Format, status int, code, message, requestID string) error {
	hs, b := reply.Error(f, status, code, message, requestID)
	return e.SendResponse(status, hs, b)
}

// ResumeRequest continues a request this stage paused (after a callout): the later stages get the
// paused callback first.
func (e *Exchange) ResumeRequest() error { return e.p.resumeRequest(e.stage) }

// ResumeResponse continues a response whose headers this stage paused (from FromRoot): the later
// stages (in response order) get the paused callback first.
func (e *Exchange) ResumeResponse() error { return e.p.resumeResponse(e.stage) }

// FromRoot runs fn with this exchange as the host's effective context, from a root callback (a tick): fn
// may reply (SendResponse), resume (ResumeResponse) or touch headers as from one of the exchange's own
// callbacks. Envoy defers what fn asks for until the root callback returns. It fails when the host no longer
// knows the exchange.
func (e *Exchange) FromRoot(fn func()) error {
	if err := proxywasm.SetEffectiveContext(e.x.id); err != nil {
		return err
	}
	prev := cur
	e.x.enter(phNone)
	fn()
	cur = prev
	return nil
}

// HTTPCall dispatches an HTTP callout for this exchange; fn runs with the exchange current (so it may
// reply, resume or read the request).
func (e *Exchange) HTTPCall(cluster string, headers [][2]string, b []byte, timeoutMS uint32, fn func(numHeaders, bodySize, numTrailers int)) error {
	_, err := proxywasm.DispatchHttpCall(cluster, headers, b, nil, timeoutMS, func(n, size, t int) {
		prev := cur
		e.x.enter(phNone)
		fn(n, size, t)
		cur = prev
	})
	return err
}

// HTTPCall dispatches an HTTP callout outside any exchange (ticks, plugin-level flushes).
func HTTPCall(cluster string, headers [][2]string, b []byte, timeoutMS uint32, fn func(numHeaders, bodySize, numTrailers int)) error {
	_, err := proxywasm.DispatchHttpCall(cluster, headers, b, nil, timeoutMS, func(n, size, t int) {
		prev := cur
		cur = nil
		fn(n, size, t)
		cur = prev
	})
	return err
}

// CallResponseHeaders and CallResponseBody read a callout's answer from its callback.
func CallResponseHeaders() ([][2]string, error) { return proxywasm.GetHttpCallResponseHeaders() }

// CallResponseBody reads a callout's answer body from its callback.
func CallResponseBody(start, size int) ([]byte, error) {
	return proxywasm.GetHttpCallResponseBody(start, size)
}

// ErrSharedNotFound and ErrCASMismatch are the shared-data outcomes a stage handles.
var (
	ErrSharedNotFound = errors.New("shared data: not found")
	ErrCASMismatch    = errors.New("shared data: cas mismatch")
)

// GetSharedData reads a key of the VM-wide shared data (ErrSharedNotFound when absent).
func GetSharedData(key string) ([]byte, uint32, error) {
	v, cas, err := proxywasm.GetSharedData(key)
	if errors.Is(err, types.ErrorStatusNotFound) {
		return nil, 0, ErrSharedNotFound
	}
	return v, cas, err
}

// SetSharedData writes a key of the shared data if its cas still matches (ErrCASMismatch otherwise).
func SetSharedData(key string, v []byte, cas uint32) error {
	err := proxywasm.SetSharedData(key, v, cas)
	if errors.Is(err, types.ErrorStatusCasMismatch) {
		return ErrCASMismatch
	}
	return err
}

// SetTickPeriod asks the host for OnTick every ms milliseconds (from Configure). The stages of one plugin
// share its root context's one period: the shortest asked for wins (a stage's OnTick may run more often
// than it asked; Kong traps on a second different period, so an equal or longer one is not passed on).
func SetTickPeriod(ms uint32) error {
	if ms == 0 || tickPeriod != 0 && ms >= tickPeriod {
		return nil
	}
	tickPeriod = ms
	return proxywasm.SetTickPeriodMilliSeconds(ms)
}

// tickPeriod is the period asked for while the current plugin configures (reset by OnPluginStart).
var tickPeriod uint32

// KongHost reports, from a root callback (Configure), whether the host is Kong's ngx_wasm_module: it answers
// a scoped property read outside of a request with an error (INTERNAL_FAILURE, "cannot get scoped properties
// outside of a request", ngx_wasm_module t/03-proxy_wasm/hfuncs/117-proxy_properties_get.t), where Envoy and
// its host library answer NOT_FOUND. Kong logs that error once.
func KongHost() bool {
	_, err := proxywasm.GetProperty([]string{"ngx", "pid"})
	return errors.Is(err, types.ErrorInternalFailure)
}

// Property reads a host property's raw bytes.
func Property(path []string) ([]byte, error) { return proxywasm.GetProperty(path) }

// Logging, at the host's levels.
func LogCritical(msg string) { proxywasm.LogCritical(msg) }
func LogError(msg string)    { proxywasm.LogError(msg) }
func LogWarn(msg string)     { proxywasm.LogWarn(msg) }
func LogInfo(msg string)     { proxywasm.LogInfo(msg) }
func LogDebug(msg string)    { proxywasm.LogDebug(msg) }

// Logf variants.
func LogCriticalf(format string, args ...any) { proxywasm.LogCriticalf(format, args...) }
func LogErrorf(format string, args ...any)    { proxywasm.LogErrorf(format, args...) }
func LogWarnf(format string, args ...any)     { proxywasm.LogWarnf(format, args...) }
func LogInfof(format string, args ...any)     { proxywasm.LogInfof(format, args...) }
func LogDebugf(format string, args ...any)    { proxywasm.LogDebugf(format, args...) }

// Command conformance is a test plugin for hostsim's conformance tests: every
// behaviour is selected per request by the x-act header (comma-separated actions) and
// per plugin by its configuration (comma-separated flags), so one module exercises
// every host function. It is built to wasm by the tests; never commit the .wasm.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct {
	types.DefaultPluginContext
	flags     map[string]string
	reqs      proxywasm.MetricCounter
	gauge     proxywasm.MetricGauge
	hist      proxywasm.MetricHistogram
	queueID   uint32
	ticks     int
	lingering bool
	held      map[uint32]bool // contexts holding their response headers (resp-hold), for the watchdog flag
}

func parseFlags(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && err != types.ErrorStatusNotFound {
		proxywasm.LogCriticalf("conformance: config: %v", err)
		return types.OnPluginStartStatusFailed
	}
	p.flags = parseFlags(string(raw))
	if _, ok := p.flags["reject"]; ok {
		proxywasm.LogCritical("conformance: config: reject: configuration rejected on purpose")
		return types.OnPluginStartStatusFailed
	}
	p.reqs = proxywasm.DefineCounterMetric("conformance_requests_total")
	p.gauge = proxywasm.DefineGaugeMetric("conformance_inflight")
	p.hist = proxywasm.DefineHistogramMetric("conformance_body_bytes")
	if v, ok := p.flags["tick"]; ok {
		ms, _ := strconv.Atoi(v)
		if err := proxywasm.SetTickPeriodMilliSeconds(uint32(ms)); err != nil {
			proxywasm.LogErrorf("set tick: %v", err)
		}
	}
	if _, ok := p.flags["queue"]; ok {
		id, err := proxywasm.RegisterSharedQueue("conformance")
		if err != nil {
			proxywasm.LogErrorf("register queue: %v", err)
		}
		p.queueID = id
	}
	if _, ok := p.flags["callout-on-start"]; ok {
		_, err := proxywasm.DispatchHttpCall("auth", [][2]string{{":method", "GET"}, {":path", "/start"}, {":authority", "auth"}}, nil, nil, 1000,
			func(n, size, _ int) {
				body, _ := proxywasm.GetHttpCallResponseBody(0, size)
				proxywasm.LogInfof("start callout answered: %s", body)
			})
		if err != nil {
			proxywasm.LogWarnf("start callout failed: %v", err)
		}
	}
	if vmcfg, err := proxywasm.GetVMConfiguration(); err == nil && len(vmcfg) > 0 {
		proxywasm.LogInfof("vm config: %s", vmcfg)
	}
	proxywasm.LogInfo("conformance: started")
	return types.OnPluginStartStatusOK
}

// OnPluginDone with the "linger" flag asks the host to wait; the next tick then
// calls proxy_done.
func (p *pluginContext) OnPluginDone() bool {
	if _, ok := p.flags["linger"]; ok {
		p.lingering = true
		proxywasm.LogInfo("done requested: lingering")
		return false
	}
	return true
}

func (p *pluginContext) OnTick() {
	if p.lingering {
		proxywasm.PluginDone()
		proxywasm.LogInfo("plugin done called")
		return
	}
	p.ticks++
	proxywasm.LogInfof("tick %d", p.ticks)
	if _, ok := p.flags["watchdog"]; ok {
		// A stream that held its response headers and never got its body (a headers Pause without
		// allow_on_headers_stop_iteration) is failed clearly from the root context.
		for id := range p.held {
			delete(p.held, id)
			err := proxywasm.SetEffectiveContext(id)
			if err == nil {
				err = proxywasm.SendHttpResponse(502, [][2]string{{"x-wasmguard-reason", "response_hold_never_released"}},
					[]byte("the response was held for inspection but its body never arrived"), -1)
			}
			proxywasm.LogWarnf("watchdog: context %d failed: %s", id, errString(err))
		}
	}
	if v, ok := p.flags["tick-prop"]; ok {
		val, err := proxywasm.GetProperty(strings.Split(v, "."))
		proxywasm.LogInfof("tick-prop %s=%s|%s", v, val, errString(err))
	}
	if _, ok := p.flags["tick-callout"]; ok {
		_, _ = proxywasm.DispatchHttpCall("auth", [][2]string{{":method", "GET"}, {":path", "/tick"}, {":authority", "auth"}}, nil, nil, 1000,
			func(int, int, int) { proxywasm.LogInfo("tick callout answered") })
	}
}

func (p *pluginContext) OnQueueReady(id uint32) {
	data, err := proxywasm.DequeueSharedQueue(id)
	proxywasm.LogInfof("queue ready %d: %s %v", id, data, err)
}

func (p *pluginContext) NewHttpContext(id uint32) types.HttpContext {
	return &httpContext{p: p, id: id}
}

type httpContext struct {
	types.DefaultHttpContext
	p    *pluginContext
	id   uint32
	acts map[string]string
	seen int
}

func (h *httpContext) has(a string) bool { _, ok := h.acts[a]; return ok }

func (h *httpContext) OnHttpRequestHeaders(n int, eos bool) types.Action {
	defer h.readPath("hdr")
	defer h.ctxOp("reqhdr")
	hdr := "x-act"
	if v, ok := h.p.flags["hdr"]; ok {
		hdr = v
	}
	act, _ := proxywasm.GetHttpRequestHeader(hdr)
	h.acts = parseFlags(strings.ReplaceAll(act, ";", ","))
	h.p.reqs.Increment(1)
	h.p.gauge.Add(1)
	proxywasm.LogDebugf("request headers n=%d eos=%v", n, eos)
	if h.has("panic-headers") {
		panic("conformance: panic in request headers")
	}
	if h.has("metric-zero") {
		h.p.reqs.Increment(0) // Envoy: BAD_ARGUMENT ⇒ SDK panic ⇒ trap
	}
	if h.has("hist-get") {
		_ = h.p.hist.Value() // Envoy: BAD_ARGUMENT ⇒ SDK panic ⇒ trap
	}
	if h.has("timer") {
		startTimerAndGC()
	}
	if h.has("rand-big") {
		buf := make([]byte, 100<<10) // > 64 KiB in one call: Envoy answers EINVAL
		_, _ = rand.Read(buf)
	}
	if h.has("goroutine") {
		startGoroutine()
	}
	if h.has("goroutine-count") {
		_ = proxywasm.AddHttpRequestHeader("x-goroutine-runs", strconv.Itoa(goroutineRuns))
	}
	if h.has("tick-again") {
		_ = proxywasm.SetTickPeriodMilliSeconds(50)
	}
	if h.has("pairs") {
		hs, err := proxywasm.GetHttpRequestHeaders()
		proxywasm.LogInfof("pairs=%d err=%v", len(hs), err)
		_ = proxywasm.AddHttpRequestHeader("x-pairs", strconv.Itoa(len(hs)))
	}
	if h.has("dup") {
		v, _ := proxywasm.GetHttpRequestHeader("x-dup")
		_ = proxywasm.ReplaceHttpRequestHeader("x-dup-first", v)
	}
	if v, ok := h.acts["set"]; ok {
		k, val, _ := strings.Cut(v, "=")
		_ = proxywasm.ReplaceHttpRequestHeader(k, val)
	}
	if h.has("remove-cl") {
		_ = proxywasm.RemoveHttpRequestHeader("content-length")
	}
	if h.has("wipe-headers") {
		// >1024 pairs: Envoy treats the map as empty and removes every header.
		big := make([][2]string, 1100)
		for i := range big {
			big[i] = [2]string{"x-h" + strconv.Itoa(i), "v"}
		}
		_ = proxywasm.ReplaceHttpRequestHeaders(big)
	}
	if v, ok := h.acts["prop"]; ok {
		path := strings.Split(v, ".")
		if v == "xds.route_name" {
			path = []string{"xds", "route_name"}
		}
		val, err := proxywasm.GetProperty(path)
		out := string(val)
		if len(val) == 8 && (strings.HasSuffix(v, "port") || strings.HasSuffix(v, "id")) {
			out = strconv.FormatUint(binary.LittleEndian.Uint64(val), 10)
		}
		if err != nil {
			out = "err:" + err.Error()
		}
		_ = proxywasm.AddHttpRequestHeader("x-prop", out)
	}
	if h.has("set-prop") {
		err := proxywasm.SetProperty([]string{"wasmx", "note"}, []byte("hello"))
		v, err2 := proxywasm.GetProperty([]string{"wasmx", "note"})
		_ = proxywasm.AddHttpRequestHeader("x-set-prop", string(v)+"|"+errString(err)+"|"+errString(err2))
	}
	if v, ok := h.acts["setp"]; ok {
		proxywasm.LogInfof("setp %s=%s", v, errString(proxywasm.SetProperty(strings.Split(v, "."), []byte("v"))))
	}
	if h.has("shared-incr") {
		casIncrement("counter")
	}
	if v, ok := h.acts["kv"]; ok {
		// kv=set:k:v:cas/del:k:cas/get:k ... (del passes a NULL value), each logged as "kv <op>=<result>".
		for _, op := range strings.Split(v, "/") {
			f := strings.Split(op, ":")
			switch {
			case f[0] == "get" && len(f) == 2:
				val, cas, err := proxywasm.GetSharedData(f[1])
				proxywasm.LogInfof("kv %s=%s|%d|%s", op, val, cas, errString(err))
			case f[0] == "set" && len(f) == 4:
				cas, _ := strconv.ParseUint(f[3], 10, 32)
				proxywasm.LogInfof("kv %s=%s", op, errString(proxywasm.SetSharedData(f[1], []byte(f[2]), uint32(cas))))
			case f[0] == "del" && len(f) == 3:
				cas, _ := strconv.ParseUint(f[2], 10, 32)
				proxywasm.LogInfof("kv %s=%s", op, errString(proxywasm.SetSharedData(f[1], nil, uint32(cas))))
			}
		}
	}
	if h.has("enqueue") {
		id, err := proxywasm.ResolveSharedQueue("", "conformance")
		if err == nil {
			err = proxywasm.EnqueueSharedQueue(id, []byte("item-"+strconv.Itoa(int(h.id))))
		}
		if err != nil {
			proxywasm.LogErrorf("enqueue: %v", err)
		}
	}
	if v, ok := h.acts["foreign"]; ok {
		ret, err := proxywasm.CallForeignFunction(v, []byte("payload payload payload"))
		_ = proxywasm.AddHttpRequestHeader("x-foreign", strconv.Itoa(len(ret))+"|"+errString(err))
	}
	if h.has("callout") {
		timeout := uint32(500)
		if v, err := strconv.Atoi(h.acts["callout-timeout"]); err == nil {
			timeout = uint32(v)
		}
		_, err := proxywasm.DispatchHttpCall("auth", [][2]string{{":method", "POST"}, {":path", "/check"}, {":authority", "auth"}},
			[]byte("check me"), nil, timeout, h.onCallout)
		if err != nil {
			proxywasm.LogErrorf("dispatch: %v", err)
			_ = proxywasm.SendHttpResponse(500, nil, []byte("dispatch failed: "+err.Error()), -1)
			return types.ActionPause
		}
		return types.ActionPause
	}
	if h.has("callout-bad") {
		_, err := proxywasm.DispatchHttpCall("auth", [][2]string{{":method", "POST"}}, nil, nil, 500, h.onCallout)
		_ = proxywasm.AddHttpRequestHeader("x-callout-err", errString(err))
	}
	if h.has("callout-unknown") {
		_, err := proxywasm.DispatchHttpCall("nope", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "x"}}, nil, nil, 500, h.onCallout)
		_ = proxywasm.AddHttpRequestHeader("x-callout-err", errString(err))
	}
	if h.has("deny-headers") {
		_ = proxywasm.SendHttpResponse(403, [][2]string{{"x-denied", "1"}}, []byte("denied"), -1)
		return types.ActionPause
	}
	if h.has("deny-twice") {
		_ = proxywasm.SendHttpResponse(403, nil, []byte("one"), -1)
		_ = proxywasm.SendHttpResponse(404, nil, []byte("two"), -1)
		return types.ActionPause
	}
	if h.has("close") {
		_ = proxyCloseStream(0)
		return types.ActionPause
	}
	if h.has("pause-headers") {
		return types.ActionPause
	}
	if h.has("park") { // wait until a "wake" request resumes this stream
		parked = append(parked, h.id)
		return types.ActionPause
	}
	if h.has("wake") { // resume every parked stream of this VM from this stream's callback
		for _, id := range parked {
			if err := proxywasm.SetEffectiveContext(id); err != nil {
				proxywasm.LogErrorf("wake %d: %v", id, err)
				continue
			}
			_ = proxywasm.ResumeHttpRequest()
		}
		parked = parked[:0]
		_ = proxywasm.SetEffectiveContext(h.id)
	}
	return types.ActionContinue
}

// parked holds the stream contexts waiting for a "wake" request (this VM only).
var parked []uint32

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func (h *httpContext) onCallout(n, size, _ int) {
	hs, _ := proxywasm.GetHttpCallResponseHeaders()
	body, _ := proxywasm.GetHttpCallResponseBody(0, size)
	status := ""
	for _, kv := range hs {
		if kv[0] == ":status" {
			status = kv[1]
		}
	}
	if n == 0 {
		status = "reset"
	}
	proxywasm.LogInfof("callout answered: status=%s body=%q", status, body)
	if string(body) == "deny" {
		_ = proxywasm.SendHttpResponse(403, nil, []byte("denied by callout"), -1)
		return
	}
	_ = proxywasm.AddHttpRequestHeader("x-callout-status", status)
	if h.has("no-resume") {
		return
	}
	_ = proxywasm.ResumeHttpRequest()
}

// ctxOp runs the act ctx=<op>@<phase> when the current callback is that phase, and logs the status:
// ops add-req-hdr, add-resp-hdr, get-req-body, set-resp-body; phases reqhdr, reqbody, resphdr, respbody, log.
func (h *httpContext) ctxOp(phase string) {
	v, ok := h.acts["ctx"]
	if !ok {
		return
	}
	op, at, _ := strings.Cut(v, "@")
	if at != phase {
		return
	}
	var err error
	switch op {
	case "add-req-hdr":
		err = proxywasm.AddHttpRequestHeader("x-ctx", "1")
	case "add-resp-hdr":
		err = proxywasm.AddHttpResponseHeader("x-ctx", "1")
	case "get-req-body":
		_, err = proxywasm.GetHttpRequestBody(0, 1<<20)
	case "set-resp-body":
		err = proxywasm.ReplaceHttpResponseBody([]byte("replaced"))
	}
	proxywasm.LogInfof("ctx %s=%s", v, errString(err))
}

// readPath logs whether the request headers are still readable in this callback.
func (h *httpContext) readPath(where string) {
	if !h.has("read-req") {
		return
	}
	v, err := proxywasm.GetHttpRequestHeader(":path")
	proxywasm.LogInfof("req-in-%s=%s|%s", where, v, errString(err))
	// The same through properties: request.* and response.headers.* as the host answers them here.
	for _, prop := range []string{"request.path", "request.url_path", "request.method", "request.headers.x-tenant", "response.headers.x-up"} {
		val, err := proxywasm.GetProperty(strings.Split(prop, "."))
		proxywasm.LogInfof("prop-in-%s:%s=%s|%s", where, prop, val, errString(err))
	}
}

func (h *httpContext) OnHttpRequestBody(size int, eos bool) types.Action {
	h.readPath("body")
	h.ctxOp("reqbody")
	h.seen++
	proxywasm.LogDebugf("request body size=%d eos=%v", size, eos)
	if h.has("panic-body") {
		panic("conformance: panic in request body")
	}
	if h.has("buffer") || h.has("rewrite") || h.has("deny-body") || h.has("peek") {
		if !eos {
			return types.ActionPause
		}
		body, err := proxywasm.GetHttpRequestBody(0, size)
		if err != nil {
			proxywasm.LogErrorf("get body: %v", err)
		}
		h.p.hist.Record(uint64(len(body)))
		_ = proxywasm.AddHttpRequestHeader("x-body-calls", strconv.Itoa(h.seen)) // after headers went: no effect upstream
		proxywasm.LogInfof("body=%d calls=%d", len(body), h.seen)
		if h.has("deny-body") && strings.Contains(string(body), "evil") {
			_ = proxywasm.SendHttpResponse(403, nil, []byte("blocked"), -1)
			return types.ActionPause
		}
		if h.has("rewrite") {
			_ = proxywasm.ReplaceHttpRequestBody([]byte(strings.ToUpper(string(body))))
		}
	}
	if h.has("mid-inject") {
		err := proxywasm.PrependHttpRequestBody([]byte("x")) // start 0: prepend
		err2 := setBufferMid()
		proxywasm.LogInfof("inject=%v mid=%v", err, err2)
	}
	return types.ActionContinue
}

func (h *httpContext) OnHttpRequestTrailers(n int) types.Action {
	proxywasm.LogInfof("request trailers n=%d", n)
	return types.ActionContinue
}

func (h *httpContext) OnHttpResponseHeaders(n int, eos bool) types.Action {
	h.readPath("resp")
	h.ctxOp("resphdr")
	status, _ := proxywasm.GetHttpResponseHeader(":status")
	proxywasm.LogDebugf("response headers n=%d eos=%v status=%s", n, eos, status)
	_ = proxywasm.AddHttpResponseHeader("x-seen-status", status)
	if h.has("resp-deny") && status == "200" {
		_ = proxywasm.SendHttpResponse(502, nil, []byte("bad upstream"), -1)
		return types.ActionPause
	}
	if h.has("resp-rewrite") {
		_ = proxywasm.RemoveHttpResponseHeader("content-length")
	}
	if h.has("resp-hold") {
		// Hold the response headers until the body is judged (outputguard's hold_headers): resumed from the
		// body callback at its end, which only comes with allow_on_headers_stop_iteration.
		if h.p.held == nil {
			h.p.held = map[uint32]bool{}
		}
		h.p.held[h.id] = true
		return types.ActionPause
	}
	if h.has("resp-callout") {
		_, err := proxywasm.DispatchHttpCall("auth", [][2]string{{":method", "GET"}, {":path", "/r"}, {":authority", "auth"}}, nil, nil, 500, func(int, int, int) {})
		proxywasm.LogInfof("resp-callout: %s", errString(err))
	}
	return types.ActionContinue
}

func (h *httpContext) OnHttpResponseBody(size int, eos bool) types.Action {
	h.readPath("respbody")
	h.ctxOp("respbody")
	if h.has("resp-hold") {
		delete(h.p.held, h.id) // the body arrived: the host delivers it while headers are held
		if !eos {
			return types.ActionPause
		}
		return types.ActionContinue
	}
	if h.has("resp-rewrite") {
		if !eos {
			return types.ActionPause
		}
		body, _ := proxywasm.GetHttpResponseBody(0, size)
		_ = proxywasm.ReplaceHttpResponseBody([]byte("[" + string(body) + "]"))
	}
	if h.has("resp-upper") {
		body, _ := proxywasm.GetHttpResponseBody(0, size)
		_ = proxywasm.ReplaceHttpResponseBody([]byte(strings.ToUpper(string(body))))
	}
	if h.has("resp-deny-late") && eos {
		_ = proxywasm.SendHttpResponse(500, nil, []byte("too late"), -1)
		return types.ActionPause
	}
	return types.ActionContinue
}

func (h *httpContext) OnHttpStreamDone() {
	h.readPath("log")
	h.ctxOp("log")
	if h.has("log-body") {
		b, err := proxywasm.GetHttpRequestBody(0, 1<<20)
		proxywasm.LogInfof("log-body=%s|%s", b, errString(err))
	}
	if h.has("log-reply") {
		err := proxywasm.SendHttpResponse(500, nil, []byte("from on_log"), -1)
		proxywasm.LogInfof("log-reply=%s", errString(err))
	}
	h.p.gauge.Add(-1)
	proxywasm.LogInfof("stream done %d", h.id)
}

// casIncrement is the CAS retry loop a budget filter uses.
func casIncrement(key string) {
	refused := false
	for i := 0; i < 100; i++ {
		v, cas, err := proxywasm.GetSharedData(key)
		var n uint64
		if err == nil && len(v) == 8 {
			n = binary.LittleEndian.Uint64(v)
		}
		missing := err == types.ErrorStatusNotFound
		if missing && !refused {
			// Envoy: a set with cas 0 always succeeds, even when another worker created the key
			// meanwhile; any non-zero cas succeeds on a missing key and fails on an existing one.
			// Kong refuses that (a missing key's cas is 0, and only 0 creates it): after one refusal, 0.
			cas = ^uint32(0)
		}
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], n+1)
		if err := proxywasm.SetSharedData(key, buf[:], cas); err == nil {
			return
		} else if err == types.ErrorStatusCasMismatch && missing {
			refused = refused || cas == ^uint32(0)
		} else if err != types.ErrorStatusCasMismatch {
			proxywasm.LogErrorf("set shared: %v", err)
			return
		}
	}
	proxywasm.LogError("cas: too many retries")
}

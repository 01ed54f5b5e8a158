package hostsim

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type calloutState struct {
	v      *vm
	root   *root // the caller's root context: the response is delivered there
	token  uint32
	req    CalloutRequest
	s      *Stream
	f      *filterState // the stream context that made the call, if any
	result *calloutData
}

// calloutData is what proxy_on_http_call_response can read.
type calloutData struct {
	headers  *headerMap
	body     []byte
	trailers *headerMap
}

// HandleCallouts answers every http_call to a cluster (Envoy) or host:port (Kong) with
// fn. A call to a name without a handler fails with BAD_ARGUMENT, as a call to an
// unknown Envoy cluster does. Handlers run outside the VM lock; they may block.
func (h *Host) HandleCallouts(cluster string, fn CalloutHandler) {
	h.calloutMu.Lock()
	h.handlers[cluster] = fn
	h.calloutMu.Unlock()
}

// HandleCalloutsURL forwards every http_call to a cluster to a real HTTP server at
// baseURL (e.g. an httptest.Server URL): :method and :path are used, other
// pseudo-headers dropped.
func (h *Host) HandleCalloutsURL(cluster, baseURL string) {
	h.HandleCallouts(cluster, URLHandler(baseURL))
}

// URLHandler returns a CalloutHandler that performs the callout against a real HTTP
// server; transport errors become a reset, client timeouts Envoy's synthetic 504.
func URLHandler(baseURL string) CalloutHandler {
	return func(c CalloutRequest) CalloutResponse {
		method, _ := c.Header(":method")
		path, _ := c.Header(":path")
		req, err := http.NewRequest(method, strings.TrimSuffix(baseURL, "/")+path, bytes.NewReader(c.Body))
		if err != nil {
			return CalloutResponse{Reset: true}
		}
		for _, kv := range c.Headers {
			if strings.HasPrefix(kv[0], ":") {
				if kv[0] == ":authority" {
					req.Host = kv[1]
				}
				continue
			}
			req.Header.Add(kv[0], kv[1])
		}
		client := &http.Client{Timeout: c.Timeout}
		resp, err := client.Do(req)
		if err != nil {
			if strings.Contains(err.Error(), "Timeout") || strings.Contains(err.Error(), "deadline") {
				return CalloutResponse{Timeout: true}
			}
			return CalloutResponse{Reset: true}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out := CalloutResponse{Status: resp.StatusCode, Body: body}
		for k, vals := range resp.Header {
			for _, val := range vals {
				out.Headers = append(out.Headers, [2]string{strings.ToLower(k), val})
			}
		}
		return out
	}
}

// Callouts returns every http_call the plugins made so far (canary included).
func (h *Host) Callouts() []CalloutRequest {
	h.calloutMu.Lock()
	defer h.calloutMu.Unlock()
	return append([]CalloutRequest(nil), h.callouts...)
}

func (h *Host) handler(cluster string) (CalloutHandler, bool) {
	h.calloutMu.Lock()
	defer h.calloutMu.Unlock()
	fn, ok := h.handlers[cluster]
	return fn, ok
}

// RunPending delivers pending work that is not tied to a stream: callout responses
// for calls made from root contexts (on_configure, on_tick) and queue notifications.
func (h *Host) RunPending() {
	for rounds := 0; rounds < maxPendingRounds; rounds++ {
		h.calloutMu.Lock()
		cs := h.rootQueue
		qt := h.queueTasks
		h.rootQueue, h.queueTasks = nil, nil
		h.calloutMu.Unlock()
		if len(cs) == 0 && len(qt) == 0 {
			return
		}
		for _, c := range cs {
			h.deliver(c)
		}
		for _, t := range qt {
			h.deliverQueue(t)
		}
	}
}

// RunPending delivers this stream's pending callout responses (and host-level work)
// until nothing is left. The Send*/Respond methods call it after every step.
//
// It first runs what another stream's VM call asked for on this stream's contexts
// (proxy_set_effective_context, then e.g. proxy_continue_stream): those actions wait
// on the context for this stream's goroutine, which may be driving the stream
// concurrently.
func (s *Stream) RunPending() {
	s.runLeftover()
	for rounds := 0; len(s.pending) > 0 || rounds == 0; rounds++ {
		if rounds >= maxPendingRounds {
			s.h.addLog(LogEntry{Level: LogCritical, Message: "callout storm: the plugin keeps dispatching from its callout responses; stopped delivering", Plugin: "hostsim", Worker: s.worker, Source: "hostsim"}, s)
			s.pending = nil
			return
		}
		p := s.pending
		s.pending = nil
		for _, c := range p {
			s.h.deliver(c)
		}
		s.h.RunPending()
	}
}

// runLeftover runs the deferred actions other streams' calls left on this stream's
// contexts.
func (s *Stream) runLeftover() {
	var seen []*vm
	for _, f := range s.filters {
		v := f.v
		if v == nil || slices.Contains(seen, v) {
			continue
		}
		seen = append(seen, v)
		v.mu.Lock()
		var acts []actions
		for _, g := range s.filters {
			if g.v != v {
				continue
			}
			if a := g.take(); !a.empty() {
				acts = append(acts, a)
			}
		}
		v.mu.Unlock()
		s.runDeferred(acts)
	}
}

// maxPendingRounds bounds callout chains (a response that dispatches again, forever).
const maxPendingRounds = 10000

func (h *Host) deliver(cs *calloutState) {
	v := cs.v
	if v.worker < 0 { // the canary is killed before any answer arrives
		return
	}
	fn, _ := h.handler(cs.req.Cluster)
	var resp CalloutResponse
	if fn != nil {
		resp = fn(cs.req)
	} else {
		resp = CalloutResponse{Status: 503, Body: []byte("no healthy upstream")}
	}
	if resp.Never {
		return
	}
	d := &calloutData{}
	reset := resp.Reset
	switch {
	case resp.Reset:
	case resp.Timeout:
		d.headers = &headerMap{pairs: [][2]string{{":status", "504"}, {"content-length", "24"}, {"content-type", "text/plain"}}}
		d.body = []byte("upstream request timeout")
	default:
		st := resp.Status
		if st == 0 {
			st = 200
		}
		d.headers = &headerMap{pairs: [][2]string{{":status", strconv.Itoa(st)}}}
		for _, kv := range resp.Headers {
			d.headers.add(strings.ToLower(kv[0]), kv[1])
		}
		d.body = resp.Body
		if len(resp.Trailers) > 0 {
			d.trailers = newHeaderMap(resp.Trailers)
		}
	}
	nh, nt := 0, 0
	if d.headers != nil {
		nh = len(d.headers.pairs)
	}
	if d.trailers != nil && !h.cfg.Profile.isKong() {
		nt = len(d.trailers.pairs)
	}
	if h.cfg.Profile.isKong() && reset {
		d.headers = &headerMap{pairs: [][2]string{{":dispatch_status", "broken connection"}}}
	}
	v.mu.Lock()
	if v.failed || v.fnHTTPCallResp == nil {
		v.mu.Unlock()
		return
	}
	delete(v.pending, cs.token)
	v.callout = cs
	cs.result = d
	if reset {
		v.lastStatus.code, v.lastStatus.msg = 11, "reset"
	} else {
		v.lastStatus.code, v.lastStatus.msg = 0, ""
	}
	_, err := v.callLocked(cs.s, cbHTTPCallResponse, v.fnHTTPCallResp, cs.root.id,
		uint64(cs.root.id), uint64(cs.token), uint64(nh), uint64(len(d.body)), uint64(nt))
	v.callout = nil
	v.finishRoot(cs.root)
	acts := v.takeActions(cs.s)
	v.mu.Unlock()
	if cs.s != nil && h.recordCallbacks {
		act := -1
		cs.s.res.Callbacks = append(cs.s.res.Callbacks, Callback{Plugin: cs.root.p.spec.Name, Name: cbHTTPCallResponse.String(),
			Args: []uint64{uint64(cs.root.id), uint64(cs.token), uint64(nh), uint64(len(d.body)), uint64(nt)}, Action: act})
	}
	if err != nil {
		if f := cs.f; f != nil && f.s != nil && !f.s.closed {
			f.s.trapped(f)
			if !f.bypass {
				f.s.failedFilter(f)
			} else {
				f.s.resume(dec, f)
			}
		}
		return
	}
	for _, a := range acts {
		a.f.s.runActions(a)
	}
	// Kong resumes the filter chain by itself once every dispatch finished.
	if h.cfg.Profile.isKong() && cs.f != nil && !cs.f.s.closed {
		v.mu.Lock()
		left := 0
		for _, p := range v.pending {
			if p.f == cs.f {
				left++
			}
		}
		v.mu.Unlock()
		if left == 0 {
			cs.f.s.resume(dec, cs.f)
		}
	}
}

func (h *Host) deliverQueue(t queueTask) {
	v := t.v
	v.mu.Lock()
	if v.failed || v.fnQueue == nil || v.worker < 0 {
		v.mu.Unlock()
		return
	}
	_, _ = v.callLocked(nil, cbQueueReady, v.fnQueue, t.root.id, uint64(t.root.id), uint64(t.id))
	acts := v.takeActions(nil)
	v.mu.Unlock()
	for _, a := range acts {
		a.f.s.runActions(a)
	}
}

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }

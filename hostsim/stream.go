package hostsim

import (
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// kongResponseBuffers is ngx_wasm_module's default response buffering (4 × 4 KiB).
const kongResponseBuffers = 16 << 10

// Directions through the filter chain.
const (
	dec = 0 // request path: plugins in order, then the upstream
	enc = 1 // response path: plugins in reverse order, then the client
)

// header-phase states of one filter in one direction.
const (
	hdrNone     = iota // headers not seen yet
	hdrStopAll         // Pause: StopAllIterationAndWatermark (body held, not delivered)
	hdrStopIter        // Pause with allow_on_headers_stop_iteration: body still delivered
	hdrPassed          // headers went on to the next filter
)

type dirState struct {
	hdr     int
	hdrEOS  bool
	buf     []byte // body this filter is working on / buffering
	buffer  bool   // filter returned StopIterationAndBuffer; next chunk is appended
	eos     bool   // filter has seen end of stream in data
	held    []byte // body that arrived while headers were stopped (not delivered yet)
	heldAny bool
	heldEOS bool
	trlHeld bool // trailers wait behind a stop
	inBody  bool // inside this filter's body callback
}

type localReply struct {
	status  int
	details string
	body    []byte
	headers [][2]string
	from    string
}

// filterState is one plugin's HTTP context for one stream.
type filterState struct {
	s       *Stream
	idx     int
	p       *plugin
	v       *vm
	root    *root
	id      uint32
	bypass  bool // fail-open: skip this plugin
	failed  bool // the VM is dead: the plugin answers 503 (fail-closed)
	ds      [2]dirState
	pending *localReply
	cont    [2]bool
	reset   bool
	// live says which maps Envoy's context still points at (request headers, request
	// trailers, response headers, response trailers): set when the callback starts,
	// dropped when the plugin returns Continue or calls proxy_continue_stream.
	live    [4]bool
	created bool
}

type headerMap struct{ pairs [][2]string }

func newHeaderMap(p [][2]string) *headerMap {
	m := &headerMap{pairs: make([][2]string, 0, len(p)+4)}
	for _, kv := range p {
		m.pairs = append(m.pairs, [2]string{strings.ToLower(kv[0]), kv[1]})
	}
	return m
}

func (m *headerMap) get(k string) (string, bool) {
	for _, p := range m.pairs {
		if p[0] == k {
			return p[1], true
		}
	}
	return "", false
}

func (m *headerMap) joined(k string) (string, bool) {
	var vals []string
	for _, p := range m.pairs {
		if p[0] == k {
			vals = append(vals, p[1])
		}
	}
	return strings.Join(vals, ","), len(vals) > 0
}

func (m *headerMap) add(k, v string) { m.pairs = append(m.pairs, [2]string{k, v}) }

func (m *headerMap) remove(k string) {
	out := m.pairs[:0]
	for _, p := range m.pairs {
		if p[0] != k {
			out = append(out, p)
		}
	}
	m.pairs = out
}

func (m *headerMap) replace(k, v string) {
	for i, p := range m.pairs {
		if p[0] == k {
			m.pairs[i][1] = v
			// drop later duplicates
			rest := m.pairs[:i+1]
			for _, q := range m.pairs[i+1:] {
				if q[0] != k {
					rest = append(rest, q)
				}
			}
			m.pairs = rest
			return
		}
	}
	m.add(k, v)
}

func (m *headerMap) clone() [][2]string {
	out := make([][2]string, len(m.pairs))
	copy(out, m.pairs)
	return out
}

// Stream is one HTTP request/response going through the plugin chain on one worker.
// Create it with Host.OpenStream to drive it step by step (interleaving several
// streams or workers), or let Host.Do drive it in one call. A Stream is not safe for
// concurrent use; different streams are.
type Stream struct {
	h       *Host
	worker  int
	req     Request
	filters []*filterState
	hdr     [2]*headerMap
	trl     [2]*headerMap
	props   map[string][]byte // set_property values
	start   time.Time
	connID  uint64

	upHeaders   [][2]string
	upBody      []byte
	upTrailers  [][2]string
	reqComplete bool
	// kongEarlyResp holds response headers a plugin set before the response existed (Kong only).
	kongEarlyResp *headerMap
	upDone        bool // upstream already answered

	respOut      bool // response headers went downstream
	respComplete bool
	stopDec      bool // no more request processing (local reply, reset)
	upAbandoned  bool // upstream response no longer wanted (local reply replaced it)
	closed       bool

	res     Result
	pending []*calloutState
}

// OpenStream starts a stream on a worker (0..Workers-1; -1 picks round-robin) and
// creates every plugin's HTTP context. Nothing is sent yet; call SendRequestHeaders
// and friends, then Close.
func (h *Host) OpenStream(worker int, req Request) *Stream {
	if worker < 0 || worker >= len(h.workers) {
		worker = int(h.rr.Add(1)-1) % len(h.workers)
	}
	s := &Stream{h: h, worker: worker, req: req, start: h.now(), connID: h.connSeq.Add(1)}
	s.buildRequestHeaders()
	w := h.workers[worker]
	for i, p := range h.plugins {
		v := w.vm(h, p)
		f := &filterState{s: s, idx: i, p: p, v: v}
		if v != nil {
			f.root = v.rootOf(p)
		}
		s.filters = append(s.filters, f)
		switch {
		case v == nil || v.failed || f.root == nil:
			if p.policy == FailOpen {
				f.bypass = true
			} else {
				f.failed = true
			}
		default:
			v.mu.Lock()
			f.id = v.nextID
			v.nextID++
			v.ctxs[f.id] = f
			_, err := v.callLocked(s, cbContextCreate, v.fnContextCreate, f.id, uint64(f.id), uint64(f.root.id))
			v.touched = v.touched[:0]
			v.mu.Unlock()
			if err != nil {
				s.trapped(f)
				if p.policy == FailOpen {
					f.bypass = true
				} else {
					f.failed = true
				}
				continue
			}
			f.created = true
		}
	}
	return s
}

func (s *Stream) buildRequestHeaders() {
	r := &s.req
	if r.Method == "" {
		if len(r.Body) > 0 {
			r.Method = "POST"
		} else {
			r.Method = "GET"
		}
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Authority == "" {
		r.Authority = "localhost"
	}
	hm := &headerMap{pairs: make([][2]string, 0, len(r.Headers)+7)}
	hm.add(":authority", r.Authority)
	hm.add(":path", r.Path)
	hm.add(":method", r.Method)
	hm.add(":scheme", "http")
	for _, kv := range r.Headers {
		hm.add(strings.ToLower(kv[0]), kv[1])
	}
	if _, ok := hm.get("x-request-id"); !ok {
		hm.add("x-request-id", "hostsim-"+strconv.FormatUint(s.h.reqSeq.Add(1), 10))
	}
	if len(r.Body) > 0 && !r.NoContentLength {
		if _, ok := hm.get("content-length"); !ok {
			hm.add("content-length", strconv.Itoa(len(r.Body)))
		}
	}
	s.hdr[dec] = hm
}

// ---- driving a stream ----

// SendRequest sends the request headers, the body (in Request.ChunkSize chunks) and
// the trailers, delivering pending callouts and queue notifications after each step.
func (s *Stream) SendRequest() {
	r := &s.req
	body := r.Body
	hasTrailers := len(r.Trailers) > 0
	kong := s.h.cfg.Profile.isKong()
	s.SendRequestHeaders(len(body) == 0 && !hasTrailers)
	if len(body) > 0 {
		size := r.ChunkSize
		if size <= 0 {
			size = s.h.cfg.ChunkSize
		}
		if size <= 0 || kong {
			size = len(body)
		}
		emptyLast := (r.EmptyLastChunk || s.h.cfg.EmptyLastChunk) && !hasTrailers
		for off := 0; off < len(body); off += size {
			end := min(off+size, len(body))
			s.SendRequestBody(body[off:end], end == len(body) && !hasTrailers && !emptyLast)
		}
		if emptyLast {
			s.SendRequestBody(nil, true)
		}
	}
	if hasTrailers {
		s.SendRequestTrailers(r.Trailers)
	}
}

// SendRequestHeaders delivers the request headers through the chain.
func (s *Stream) SendRequestHeaders(endOfStream bool) {
	if s.stopDec {
		return
	}
	s.headers(dec, 0, endOfStream)
	s.RunPending()
}

// SendRequestBody delivers one request body chunk.
func (s *Stream) SendRequestBody(chunk []byte, endOfStream bool) {
	if s.stopDec {
		return
	}
	// A copy: a filter that buffers keeps the chunk past this call, and callers reuse their read buffers.
	s.data(dec, 0, clip(chunk), endOfStream)
	s.RunPending()
}

// SendRequestTrailers delivers request trailers (they end the request).
func (s *Stream) SendRequestTrailers(trailers [][2]string) {
	if s.stopDec {
		return
	}
	s.trl[dec] = newHeaderMap(trailers)
	s.trailers(dec, 0)
	s.RunPending()
}

// UpstreamRequest returns the request as the upstream received it, or nil while the
// request is not complete at the upstream.
func (s *Stream) UpstreamRequest() *UpstreamRequest {
	if !s.reqComplete {
		return nil
	}
	return s.res.Upstream
}

// Respond delivers a whole upstream response (headers, chunks, trailers) through the
// chain. It does nothing when the upstream request was abandoned (local reply, reset).
func (s *Stream) Respond(resp Response) {
	chunks := resp.Chunks
	headers := resp.Headers
	if chunks == nil && len(resp.Body) > 0 {
		if _, ok := lookup(headers, "content-length"); !ok {
			headers = append(append([][2]string(nil), headers...), [2]string{"content-length", strconv.Itoa(len(resp.Body))})
		}
		chunks = [][]byte{resp.Body}
		if n := s.h.cfg.ChunkSize; n > 0 && len(resp.Body) > n {
			chunks = nil
			for off := 0; off < len(resp.Body); off += n {
				chunks = append(chunks, resp.Body[off:min(off+n, len(resp.Body))])
			}
		}
	}
	hasTrailers := len(resp.Trailers) > 0
	emptyLast := (resp.EmptyLastChunk || s.h.cfg.EmptyLastChunk) && !hasTrailers && len(chunks) > 0
	s.SendResponseHeaders(resp.Status, headers, len(chunks) == 0 && !hasTrailers)
	for i, c := range chunks {
		s.SendResponseBody(c, i == len(chunks)-1 && !hasTrailers && !emptyLast)
	}
	if emptyLast {
		s.SendResponseBody(nil, true)
	}
	if hasTrailers {
		s.SendResponseTrailers(resp.Trailers)
	}
}

// ResponseAbandoned reports whether the upstream response is no longer wanted (a local
// reply replaced it, or the stream was reset).
func (s *Stream) ResponseAbandoned() bool { return s.upAbandoned || s.res.Reset }

// SendResponseHeaders delivers the upstream response headers (status 0 means 200)
// through the chain, last plugin first.
func (s *Stream) SendResponseHeaders(status int, headers [][2]string, endOfStream bool) {
	if s.upAbandoned || s.res.Reset || s.upDone {
		return
	}
	s.upDone = true
	if status == 0 {
		status = 200
	}
	hm := &headerMap{pairs: make([][2]string, 0, len(headers)+1)}
	hm.add(":status", strconv.Itoa(status))
	for _, kv := range headers {
		hm.add(strings.ToLower(kv[0]), kv[1])
	}
	if s.kongEarlyResp != nil {
		hm.pairs = append(hm.pairs, s.kongEarlyResp.pairs...)
	}
	s.hdr[enc] = hm
	if endOfStream && s.h.cfg.Profile.isKong() {
		// nginx runs the body filter for a response without a body too: on_response_body(0, eof)
		// (ngx_wasm_module 004-on_http_phases.t TEST 1).
		s.headers(enc, len(s.filters)-1, false)
		s.RunPending()
		if !s.upAbandoned && !s.res.Reset {
			s.data(enc, len(s.filters)-1, nil, true)
		}
		s.RunPending()
		return
	}
	s.headers(enc, len(s.filters)-1, endOfStream)
	s.RunPending()
}

// SendResponseBody delivers one upstream response body chunk; what the client gets
// from it is appended to Result.Chunks as it is released.
func (s *Stream) SendResponseBody(chunk []byte, endOfStream bool) {
	if s.upAbandoned || s.res.Reset || !s.upDone {
		return
	}
	s.data(enc, len(s.filters)-1, clip(chunk), endOfStream)
	s.RunPending()
}

// SendResponseTrailers delivers upstream response trailers (they end the response).
func (s *Stream) SendResponseTrailers(trailers [][2]string) {
	if s.upAbandoned || s.res.Reset || !s.upDone {
		return
	}
	s.trl[enc] = newHeaderMap(trailers)
	s.trailers(enc, len(s.filters)-1)
	s.RunPending()
}

// Close ends the stream the way Envoy destroys a filter: proxy_on_log (when the request
// completed), proxy_on_done and proxy_on_delete for every plugin context. It returns
// the Result. Close is idempotent.
func (s *Stream) Close() Result {
	if s.closed {
		return s.res
	}
	s.closed = true
	s.RunPending()
	if !s.respComplete && !s.res.Reset {
		s.res.Hung = true
		s.res.HungWhy = s.hungWhy()
		s.h.addLog(LogEntry{Level: LogError, Message: "stream hung: " + s.res.HungWhy, Plugin: "hostsim", Worker: s.worker, Source: "hostsim"}, s)
	}
	for _, f := range s.filters {
		if !f.created || f.v.failed {
			continue
		}
		v := f.v
		v.mu.Lock()
		var err error
		// Envoy writes the access log (proxy_on_log) when the stream ends, also when the response hung and
		// a timeout ended it, but not after a reset; Envoy's reference host does the same.
		if (s.reqComplete || s.res.LocalReply) && !s.res.Reset {
			_, err = s.invokeLocked(f, cbLog, v.fnLog)
		}
		if err == nil {
			_, err = s.invokeLocked(f, cbDone, v.fnDone)
		}
		if err == nil {
			_, err = s.invokeLocked(f, cbDelete, v.fnDelete)
		}
		delete(v.ctxs, f.id)
		v.touched = v.touched[:0]
		v.mu.Unlock()
		if err != nil {
			s.trapped(f)
		}
	}
	// Callouts still pending for this stream are cancelled with it.
	s.pending = nil
	return s.res
}

// hungWhy names the first plugin that holds the stream and how.
func (s *Stream) hungWhy() string {
	for _, dir := range []int{dec, enc} {
		side := "request"
		if dir == enc {
			side = "response"
		}
		for _, f := range s.filters {
			ds := &f.ds[dir]
			switch {
			case ds.hdr == hdrStopAll && ds.heldAny:
				return f.p.spec.Name + " paused on_" + side + "_headers and the host holds the body it waits for: " +
					"without allow_on_headers_stop_iteration a headers Pause is StopAllIterationAndWatermark, which " +
					"delivers no body until the plugin resumes (proxy_continue_stream) or sends a local reply"
			case ds.hdr == hdrStopAll || ds.hdr == hdrStopIter:
				return f.p.spec.Name + " paused on_" + side + "_headers and never resumed the stream"
			case ds.buffer && !ds.eos:
				return f.p.spec.Name + " buffers the " + side + " body and the body never ended"
			case ds.buffer:
				return f.p.spec.Name + " paused on the end of the " + side + " body and never resumed the stream"
			}
		}
	}
	return "the stream never completed"
}

// Result returns what happened so far.
func (s *Stream) Result() Result { return s.res }

// Worker returns the worker the stream runs on.
func (s *Stream) Worker() int { return s.worker }

// ---- the filter-manager state machine ----

func (s *Stream) end(dir, i int) bool {
	if dir == dec {
		return i >= len(s.filters)
	}
	return i < 0
}

func next(dir, i int) int {
	if dir == dec {
		return i + 1
	}
	return i - 1
}

func (s *Stream) stopped(dir int) bool {
	if dir == dec {
		return s.stopDec || s.res.Reset
	}
	return s.res.Reset
}

var hdrCb = [2]cbKind{cbRequestHeaders, cbResponseHeaders}
var bodyCb = [2]cbKind{cbRequestBody, cbResponseBody}
var trlCb = [2]cbKind{cbRequestTrailers, cbResponseTrailers}

func hdrFn(v *vm, dir int) api.Function {
	if dir == dec {
		return v.fnReqHeaders
	}
	return v.fnRespHeaders
}

func bodyFn(v *vm, dir int) api.Function {
	if dir == dec {
		return v.fnReqBody
	}
	return v.fnRespBody
}

func trlFn(v *vm, dir int) api.Function {
	if dir == dec {
		return v.fnReqTrailers
	}
	return v.fnRespTrailers
}

// failedFilter handles a plugin whose VM died before this stream reached it
// (fail-closed: 503 from the host, as Envoy's empty context does).
func (s *Stream) failedFilter(f *filterState) {
	status := 503
	if s.h.cfg.Profile.isKong() {
		status = 500
	}
	s.sendLocalReply(f.idx, &localReply{status: status, details: "wasm_fail_stream", from: "hostsim"})
}

func (s *Stream) headers(dir, i int, eos bool) {
	for ; !s.end(dir, i); i = next(dir, i) {
		if s.stopped(dir) {
			return
		}
		f := s.filters[i]
		if f.bypass {
			continue
		}
		if f.failed {
			if dir == dec {
				s.failedFilter(f)
				return
			}
			continue
		}
		ds := &f.ds[dir]
		ds.hdrEOS = eos
		ds.eos = eos
		guestEOS := eos
		if s.h.cfg.Profile.isKong() {
			guestEOS = false
		}
		n := len(s.hdr[dir].pairs)
		f.live[2*dir] = true
		act, acts, ok := s.invoke(f, hdrCb[dir], hdrFn(f.v, dir), uint64(n), b2u(guestEOS))
		if !ok {
			return
		}
		lr := replyOf(acts, f)
		if lr != nil {
			act = 1
		} else if dir == enc && s.h.cfg.Profile.isKong() {
			if act != 0 { // Kong ignores Pause from on_response_headers (006-on_http_next_action.t TEST 3)
				s.h.addLog(LogEntry{Level: LogWarn, Message: `"ResponseHeaders" returned "PAUSE": local response expected but none produced`, Plugin: f.p.spec.Name, Worker: s.worker, Source: "hostsim"}, s)
			}
			act = 0
		}
		if act == 0 || act == 2 { // Continue (2 = ContinueAndEndStream, treated as Continue)
			f.live[2*dir] = false
			ds.hdr = hdrPassed
			s.headers(dir, next(dir, i), eos)
		} else if f.p.spec.AllowOnHeadersStopIteration && act == 1 {
			ds.hdr = hdrStopIter
		} else {
			ds.hdr = hdrStopAll
		}
		if lr != nil {
			s.sendLocalReply(i, lr)
		}
		s.runDeferred(acts)
		return
	}
	if !s.stopped(dir) {
		s.sinkHeaders(dir, eos)
	}
}

func (s *Stream) data(dir, i int, chunk []byte, eos bool) {
	for ; !s.end(dir, i); i = next(dir, i) {
		if s.stopped(dir) {
			return
		}
		f := s.filters[i]
		if f.bypass || f.failed {
			continue
		}
		ds := &f.ds[dir]
		if ds.hdr == hdrStopAll || ds.hdr == hdrNone {
			ds.held = append(ds.held, chunk...)
			ds.heldAny = true
			ds.heldEOS = eos
			return
		}
		kong := s.h.cfg.Profile.isKong()
		kongBuffered := false
		if ds.buffer || (kong && dir == dec) {
			if len(ds.buf)+len(chunk) > s.h.cfg.BufferLimit {
				s.overflow(dir, i)
				return
			}
			kongBuffered = kong && ds.buffer
			ds.buf = append(ds.buf, chunk...)
		} else {
			ds.buf = chunk
		}
		ds.eos = eos
		if kong {
			// Kong reads the whole request body before on_request_body (called once, with
			// eof, never for an empty body); a paused response body is re-delivered only
			// at eof or when its 16 KiB of buffers are full.
			if dir == dec && (!eos || len(ds.buf) == 0) {
				if eos {
					ds.buf = nil
					s.data(dir, next(dir, i), nil, true)
				}
				return
			}
			if kongBuffered && !eos && len(ds.buf) < kongResponseBuffers {
				return
			}
		}
		ds.inBody = true
		act, acts, ok := s.invoke(f, bodyCb[dir], bodyFn(f.v, dir), uint64(len(ds.buf)), b2u(eos))
		ds.inBody = false
		if !ok {
			return
		}
		lr := replyOf(acts, f)
		if lr != nil {
			act = 3
		}
		if kongBuffered && act != 0 && lr == nil {
			s.h.addLog(LogEntry{Level: LogError, Message: "pause after response body buffering is ignored (Kong)", Plugin: f.p.spec.Name, Worker: s.worker, Source: "hostsim"}, s)
			act = 0
		}
		switch act {
		case 0:
			out := ds.buf
			ds.buf, ds.buffer = nil, false
			if ds.hdr == hdrStopIter {
				ds.hdr = hdrPassed
				s.headers(dir, next(dir, i), false)
			}
			s.data(dir, next(dir, i), out, eos)
			if ds.trlHeld {
				ds.trlHeld = false
				s.trailers(dir, next(dir, i))
			}
		case 1, 2: // StopIterationAndBuffer / AndWatermark
			ds.buffer = true
		default: // StopIterationNoBuffer: the chunk is not kept
			ds.buf, ds.buffer = nil, false
		}
		if lr != nil {
			s.sendLocalReply(i, lr)
		}
		s.runDeferred(acts)
		return
	}
	if !s.stopped(dir) {
		s.sinkData(dir, chunk, eos)
	}
}

func (s *Stream) trailers(dir, i int) {
	for ; !s.end(dir, i); i = next(dir, i) {
		if s.stopped(dir) {
			return
		}
		f := s.filters[i]
		if f.bypass || f.failed {
			continue
		}
		ds := &f.ds[dir]
		if ds.hdr == hdrStopAll || ds.hdr == hdrNone {
			ds.trlHeld = true
			return
		}
		f.live[2*dir+1] = true
		act, acts, ok := s.invoke(f, trlCb[dir], trlFn(f.v, dir), uint64(len(s.trl[dir].pairs)), 0)
		if !ok {
			return
		}
		lr := replyOf(acts, f)
		if lr != nil {
			act = 1
		}
		if act == 0 {
			f.live[2*dir+1] = false
			if ds.hdr == hdrStopIter {
				ds.hdr = hdrPassed
				s.headers(dir, next(dir, i), false)
			}
			if ds.buffer || len(ds.buf) > 0 {
				out := ds.buf
				ds.buf, ds.buffer = nil, false
				s.data(dir, next(dir, i), out, false)
			}
			s.trailers(dir, next(dir, i))
		} else {
			ds.trlHeld = true
		}
		if lr != nil {
			s.sendLocalReply(i, lr)
		}
		s.runDeferred(acts)
		return
	}
	if !s.stopped(dir) {
		s.sinkTrailers(dir)
	}
}

// resume is proxy_continue_stream for one direction of one filter, run after the
// callback that asked for it returned.
func (s *Stream) resume(dir int, f *filterState) {
	if s.stopped(dir) || f.bypass || f.failed {
		return
	}
	i := f.idx
	ds := &f.ds[dir]
	switch ds.hdr {
	case hdrNone:
		return
	case hdrStopAll, hdrStopIter:
		wasAll := ds.hdr == hdrStopAll
		ds.hdr = hdrPassed
		if ds.buffer || len(ds.buf) > 0 {
			// StopIteration (opt-in): buffered body goes on with the headers.
			s.headers(dir, next(dir, i), false)
			out := ds.buf
			ds.buf, ds.buffer = nil, false
			s.data(dir, next(dir, i), out, ds.eos && !ds.trlHeld)
		} else {
			s.headers(dir, next(dir, i), ds.hdrEOS)
		}
		if wasAll && ds.heldAny {
			held, heldEOS := ds.held, ds.heldEOS
			ds.held, ds.heldAny = nil, false
			s.data(dir, i, held, heldEOS)
		}
		if ds.trlHeld {
			ds.trlHeld = false
			s.trailers(dir, i)
		}
	case hdrPassed:
		if ds.buffer || len(ds.buf) > 0 {
			out := ds.buf
			ds.buf, ds.buffer = nil, false
			s.data(dir, next(dir, i), out, ds.eos && !ds.trlHeld)
		}
		if ds.trlHeld {
			ds.trlHeld = false
			s.trailers(dir, next(dir, i))
		}
	}
}

// overflow is Envoy's buffer-limit behaviour: request ⇒ 413; response ⇒ 500 before
// the response headers went downstream, otherwise a reset. The VM is not called.
func (s *Stream) overflow(dir, i int) {
	if dir == dec {
		s.sendLocalReply(i, &localReply{status: 413, details: "request_payload_too_large", body: []byte("Payload Too Large"), from: "hostsim"})
		return
	}
	if s.respOut {
		s.resetStream("response_payload_too_large")
		return
	}
	s.sendLocalReply(i, &localReply{status: 500, details: "response_payload_too_large", body: []byte("Internal Server Error"), from: "hostsim"})
}

// sendLocalReply answers the client from filter k: the reply re-enters the response
// callbacks of plugin k and of the plugins before it; after response headers went
// downstream only a reset is possible.
func (s *Stream) sendLocalReply(k int, lr *localReply) {
	if s.res.Reset {
		return
	}
	if s.respOut {
		s.resetStream("local reply after response headers were sent")
		return
	}
	// Envoy: once a response started through the encoder chain (upstream headers
	// arrived, or another local reply is being encoded) but nothing went downstream
	// yet, the local reply bypasses the filter chain and goes straight to the client.
	direct := s.upDone || s.res.LocalReply
	s.stopDec = true
	s.upAbandoned = true
	s.res.LocalReply = true
	s.res.LocalReplyPlugin = lr.from
	s.res.LocalReplyDetails = lr.details
	for _, f := range s.filters {
		f.ds[enc] = dirState{}
	}
	body := lr.body
	if s.h.cfg.Profile.isKong() && len(body) > 0 {
		body = append(append([]byte(nil), body...), '\n')
	}
	hm := &headerMap{}
	hm.add(":status", strconv.Itoa(lr.status))
	for _, kv := range lr.headers {
		hm.add(strings.ToLower(kv[0]), kv[1])
	}
	if len(body) > 0 {
		if _, ok := hm.get("content-type"); !ok {
			hm.add("content-type", "text/plain")
		}
		hm.replace("content-length", strconv.Itoa(len(body)))
	}
	s.hdr[enc] = hm
	s.trl[enc] = nil
	if direct {
		s.sinkHeaders(enc, len(body) == 0)
		if len(body) > 0 {
			s.sinkData(enc, body, true)
		}
		return
	}
	s.headers(enc, k, len(body) == 0)
	if len(body) > 0 {
		s.data(enc, k, body, true)
	}
}

func (s *Stream) resetStream(why string) {
	if s.res.Reset {
		return
	}
	s.res.Reset = true
	s.stopDec = true
	s.upAbandoned = true
	s.h.addLog(LogEntry{Level: LogWarn, Message: "stream reset: " + why, Plugin: "hostsim", Worker: s.worker, Source: "hostsim"}, s)
}

func (s *Stream) sinkHeaders(dir int, eos bool) {
	if dir == dec {
		// Kong (request buffering) only connects upstream once the whole request passed
		// the filters; Envoy's router sends the headers right away.
		s.res.UpstreamHeadersSent = !s.h.cfg.Profile.isKong()
		s.upHeaders = s.hdr[dec].clone()
		if eos {
			s.completeRequest()
		}
		return
	}
	s.respOut = true
	s.res.Headers = s.hdr[enc].clone()
	if st, ok := s.hdr[enc].get(":status"); ok {
		s.res.Status, _ = strconv.Atoi(st)
	}
	if eos {
		s.respComplete = true
	}
}

func (s *Stream) sinkData(dir int, chunk []byte, eos bool) {
	if dir == dec {
		s.upBody = append(s.upBody, chunk...)
		if eos {
			s.completeRequest()
		}
		return
	}
	if len(chunk) > 0 {
		s.res.Body = append(s.res.Body, chunk...)
		s.res.Chunks = append(s.res.Chunks, chunk)
	}
	if eos {
		s.respComplete = true
	}
}

func (s *Stream) sinkTrailers(dir int) {
	if dir == dec {
		s.upTrailers = s.trl[dec].clone()
		s.completeRequest()
		return
	}
	s.res.Trailers = s.trl[enc].clone()
	s.respComplete = true
}

func (s *Stream) completeRequest() {
	if s.reqComplete {
		return
	}
	s.reqComplete = true
	s.res.UpstreamHeadersSent = true
	u := &UpstreamRequest{Headers: s.upHeaders, Body: s.upBody, Trailers: s.upTrailers}
	u.Method, _ = lookup(u.Headers, ":method")
	u.Path, _ = lookup(u.Headers, ":path")
	u.Authority, _ = lookup(u.Headers, ":authority")
	if u.Body == nil {
		u.Body = []byte{}
	}
	s.res.Upstream = u
}

// ---- calling the guest ----

// invoke calls a stream callback of plugin f. On a trap it applies the failure policy
// and returns ok=false, unless the policy is fail-open (then Continue, ok=true).
//
// The deferred actions the call asked for (local replies, resets, resumes) are taken
// out of the VM under its lock, before another goroutine's stream can call the same
// VM: the caller runs them with runDeferred after looking at its own filter's reply.
func (s *Stream) invoke(f *filterState, cb cbKind, fn api.Function, a, b uint64) (uint64, []actions, bool) {
	v := f.v
	v.mu.Lock()
	var r uint64
	var err error
	if cb == cbRequestTrailers || cb == cbResponseTrailers {
		r, err = s.invokeLocked(f, cb, fn, a)
	} else {
		r, err = s.invokeLocked(f, cb, fn, a, b)
	}
	acts := v.takeActions(s)
	v.mu.Unlock()
	if err != nil {
		s.trapped(f)
		if f.bypass {
			return 0, nil, true
		}
		status := 503
		if s.h.cfg.Profile.isKong() {
			status = 500
		}
		s.sendLocalReply(f.idx, &localReply{status: status, details: "wasm_fail_stream", from: "hostsim"})
		return 0, nil, false
	}
	return r, acts, true
}

func (s *Stream) invokeLocked(f *filterState, cb cbKind, fn api.Function, args ...uint64) (uint64, error) {
	v := f.v
	full := make([]uint64, 1+len(args)) // one allocation: call arguments and the record
	full[0] = uint64(f.id)
	copy(full[1:], args)
	r, err := v.callLocked(s, cb, fn, f.id, full...)
	act := -1
	if err == nil && fn != nil && len(fn.Definition().ResultTypes()) > 0 {
		act = int(uint32(r))
	}
	if s.h.recordCallbacks {
		s.res.Callbacks = append(s.res.Callbacks, Callback{Plugin: f.p.spec.Name, Name: cb.String(), Args: full[1:], Action: act})
	}
	return uint64(uint32(r)), err
}

// trapped records a trap and applies the plugin's failure policy to the VM.
func (s *Stream) trapped(f *filterState) {
	s.res.Trapped = true
	s.res.Traps = append(s.res.Traps, f.v.trapMsg)
	switch f.p.policy {
	case FailOpen:
		f.bypass = true
	default:
		f.failed = true
	}
}

// actions is what a plugin asked for, during one VM call, for one stream context
// (Envoy's after-VM-call actions): a local reply, a stream reset, resumes.
type actions struct {
	f     *filterState
	reply *localReply
	reset bool
	cont  [2]bool
}

func (a *actions) empty() bool { return a.reply == nil && !a.reset && !a.cont[dec] && !a.cont[enc] }

// take moves the deferred actions out of f (v.mu held: host functions set them during
// a call).
func (f *filterState) take() actions {
	a := actions{f: f, reply: f.pending, reset: f.reset, cont: f.cont}
	f.pending, f.reset, f.cont = nil, false, [2]bool{}
	return a
}

// takeActions (v.mu held) takes the deferred actions of the stream contexts the call
// just made touched, in the order it touched them, and clears v.touched. With s set
// (a call made for stream s) only s's contexts are taken, plus what an earlier call
// left on s's contexts of this VM: another stream's contexts keep their actions for
// their own stream's next call, because only the goroutine driving a stream may act
// on it. With s nil (ticks, queue notifications, root callouts) every touched
// context's actions are taken.
func (v *vm) takeActions(s *Stream) []actions {
	var out []actions
	for _, t := range v.touched {
		if s != nil && t.s != s {
			continue
		}
		if a := t.take(); !a.empty() {
			out = append(out, a)
		}
	}
	v.touched = v.touched[:0]
	if s != nil {
		for _, f := range s.filters {
			if f.v != v {
				continue
			}
			if a := f.take(); !a.empty() {
				out = append(out, a)
			}
		}
	}
	return out
}

// replyOf removes and returns f's local reply from acts.
func replyOf(acts []actions, f *filterState) *localReply {
	for i := range acts {
		if acts[i].f == f && acts[i].reply != nil {
			lr := acts[i].reply
			acts[i].reply = nil
			return lr
		}
	}
	return nil
}

// runDeferred runs the actions taken after a callback of this stream.
func (s *Stream) runDeferred(acts []actions) {
	for _, a := range acts {
		a.f.s.runActions(a)
	}
}

// runActions runs one context's deferred actions on its stream.
func (s *Stream) runActions(a actions) {
	f := a.f
	if a.reply != nil {
		s.sendLocalReply(f.idx, a.reply)
	}
	if a.reset {
		s.resetStream("proxy_close_stream")
	}
	for dir := dec; dir <= enc; dir++ {
		if a.cont[dir] {
			s.resume(dir, f)
		}
	}
}

// clip copies a caller's body chunk: the host keeps chunks beyond the call (a buffering filter's ds.buf,
// Result.Chunks), while callers such as the gateway read the next chunk into the same array.
func clip(chunk []byte) []byte {
	if len(chunk) == 0 {
		return nil
	}
	return append([]byte(nil), chunk...)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
)

// Options are the settings of a gateway that are not in its config file.
type Options struct {
	// Dist is the directory relative wasm paths are resolved against (default DefaultDist()).
	Dist string
	// Logger receives the gateway's and the filters' logs (default: the standard logger).
	Logger *log.Logger
	// NoFilters serves the config's upstream without its plugins: the baseline for overhead measurements.
	NoFilters bool
}

// Server is a running development gateway.
type Server struct {
	cfg      *Config
	eng      engine
	logger   *log.Logger
	upstream *url.URL
	client   *http.Client

	mockSrv *http.Server

	requests, localReplies, upstreamErrors, resets atomic.Int64
	latency                                        histogram
}

// New prepares a gateway: loads and configures every plugin on every worker VM (a plugin whose configure fails
// stops New with its logs), and starts the mock upstream when the config asks for it.
func New(cfg *Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = log.Default()
	}
	if opts.Dist == "" {
		opts.Dist = DefaultDist()
	}
	s := &Server{cfg: cfg, logger: opts.Logger}
	s.client = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true, // forward content-encoding as received, like Envoy
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.Upstream == "mock" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("gateway: mock upstream: %w", err)
		}
		s.mockSrv = &http.Server{Handler: NewMockLLM(MockOptions{
			ChunkDelay: time.Duration(cfg.Mock.ChunkDelayMS) * time.Millisecond, Answer: cfg.Mock.Answer}),
			ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.mockSrv.Serve(ln) }()
		s.upstream = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	} else {
		u, err := url.Parse(cfg.Upstream)
		if err != nil {
			return nil, fmt.Errorf("gateway: upstream: %w", err)
		}
		s.upstream = u
	}
	if opts.NoFilters || len(cfg.Plugins) == 0 {
		s.eng = passthrough{}
	} else {
		eng, err := newWasmEngine(cfg, opts, s.logger)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.eng = eng
	}
	return s, nil
}

// UpstreamURL is where requests are forwarded (the mock's address when the upstream is "mock").
func (s *Server) UpstreamURL() string { return s.upstream.String() }

// Close stops the mock upstream and releases the VMs. Serve's listeners are closed by Serve.
func (s *Server) Close() {
	if s.mockSrv != nil {
		_ = s.mockSrv.Close()
	}
	if s.eng != nil {
		s.eng.close()
	}
}

// Serve serves the gateway on ln and, when admin is not nil, the admin endpoints on admin, until ctx is done;
// then it stops accepting, lets in-flight requests finish (up to drain), and returns.
func (s *Server) Serve(ctx context.Context, ln, admin net.Listener, drain time.Duration) error {
	main := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: s.logger}
	srvs := []*http.Server{main}
	errc := make(chan error, 2)
	go func() { errc <- main.Serve(ln) }()
	if admin != nil {
		a := &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.logger}
		srvs = append(srvs, a)
		go func() { errc <- a.Serve(admin) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	for _, hs := range srvs {
		if e := hs.Shutdown(sctx); e != nil && err == nil && !errors.Is(e, context.DeadlineExceeded) {
			err = e
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// AdminHandler serves /stats/prometheus (Envoy's path: Prometheus text), /stats (the same as plain
// "name: value" lines) and /ready.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats/prometheus", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "text/plain; version=0.0.4")
		s.WritePrometheus(w)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "text/plain")
		for _, m := range s.Metrics() {
			fmt.Fprintf(w, "%s: %d\n", m.Name, m.Value)
		}
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "LIVE\n") })
	return mux
}

// Metrics returns the gateway's own counters followed by the filters' metrics (summed over VMs), sorted by name.
func (s *Server) Metrics() []Metric {
	ms := []Metric{
		{"hostsim_gateway_requests_total", "counter", s.requests.Load()},
		{"hostsim_gateway_local_replies_total", "counter", s.localReplies.Load()},
		{"hostsim_gateway_upstream_errors_total", "counter", s.upstreamErrors.Load()},
		{"hostsim_gateway_stream_resets_total", "counter", s.resets.Load()},
	}
	fm := s.eng.metrics()
	sort.Slice(fm, func(i, j int) bool { return fm[i].Name < fm[j].Name })
	return append(ms, fm...)
}

// WritePrometheus writes every metric in the Prometheus text exposition format, plus the gateway's request
// latency histogram. Tagged filter metrics ("wasmguard_x_total.action.block", sdk/telemetry.Tagged) become
// labels (wasmguard_x_total{action="block"}), as Envoy's stats_tags would make them.
func (s *Server) WritePrometheus(w io.Writer) {
	typed := map[string]bool{}
	for _, m := range s.Metrics() {
		name, labels := splitTags(m.Name)
		typ := m.Type
		if typ == "histogram" { // proxy-wasm histograms have no readable value; expose the last recorded one
			typ = "gauge"
		}
		if !typed[name] {
			typed[name] = true
			fmt.Fprintf(w, "# TYPE %s %s\n", name, typ)
		}
		fmt.Fprintf(w, "%s%s %d\n", name, labels, m.Value)
	}
	s.latency.writePrometheus(w, "hostsim_gateway_request_duration_seconds")
}

// splitTags turns "name.k1.v1.k2.v2" into a Prometheus name and label set.
func splitTags(n string) (string, string) {
	parts := strings.Split(n, ".")
	name := promName(parts[0])
	if len(parts) < 3 || len(parts)%2 == 0 {
		return promName(n), ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 1; i+1 < len(parts); i += 2 {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", promName(parts[i]), parts[i+1])
	}
	b.WriteByte('}')
	return name, b.String()
}

// promName turns a proxy-wasm metric name (any bytes) into a Prometheus one.
func promName(n string) string {
	var b strings.Builder
	for i, r := range n {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == ':', r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

var hopByHop = map[string]bool{"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true, "proxy-authenticate": true, "proxy-authorization": true}

// requestPairs builds the proxy-wasm view of a request's headers: pseudo-headers first, names lower-cased.
func requestPairs(r *http.Request) [][2]string {
	h := make([][2]string, 0, len(r.Header)+5)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h = append(h, [2]string{":authority", r.Host}, [2]string{":path", r.URL.RequestURI()},
		[2]string{":method", r.Method}, [2]string{":scheme", scheme})
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range vs {
			h = append(h, [2]string{lk, v})
		}
	}
	if r.ContentLength >= 0 && r.Header.Get("content-length") == "" && r.ContentLength > 0 {
		h = append(h, [2]string{"content-length", strconv.FormatInt(r.ContentLength, 10)})
	}
	h = append(h, [2]string{"x-forwarded-proto", scheme})
	return h
}

func pairGet(h [][2]string, name string) string {
	for _, kv := range h {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__hostsim/") {
		http.StripPrefix("/__hostsim", s.AdminHandler()).ServeHTTP(w, r)
		return
	}
	start := time.Now()
	s.requests.Add(1)
	defer func() { s.latency.observe(time.Since(start)) }()
	st, err := s.eng.open(s.cfg.RouteFor(r.URL.Path))
	if err != nil {
		s.logger.Printf("gateway: open stream: %v", err)
		s.writeReply(w, gatewayError(r, 503, "gateway_no_vm", "hostsim: no filter VM available"))
		return
	}
	defer st.close()

	// Request: headers, then the body in Envoy-sized chunks (16 KiB); filters that pause get it buffered.
	hasBody := r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
	if r.ContentLength > s.cfg.MaxRequestBytes {
		s.localReplies.Add(1)
		s.writeReply(w, gatewayError(r, 413, "request_too_large", fmt.Sprintf("hostsim: the request body (%d bytes) exceeds the gateway's limit of %d bytes", r.ContentLength, s.cfg.MaxRequestBytes)))
		return
	}
	lr, err := st.requestHeaders(requestPairs(r), !hasBody)
	if s.failed(w, r, err, lr) {
		return
	}
	if hasBody {
		buf := make([]byte, 16<<10)
		var total int64
		for {
			n, rerr := io.ReadFull(r.Body, buf)
			total += int64(n)
			if total > s.cfg.MaxRequestBytes {
				s.localReplies.Add(1)
				s.writeReply(w, gatewayError(r, 413, "request_too_large", fmt.Sprintf("hostsim: the request body exceeds the gateway's limit of %d bytes", s.cfg.MaxRequestBytes)))
				return
			}
			eos := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
			if rerr != nil && !eos {
				s.logger.Printf("gateway: read request body: %v", rerr)
				return
			}
			if n == 0 && !eos {
				continue
			}
			lr, err = st.requestBody(buf[:n], eos)
			if s.failed(w, r, err, lr) {
				return
			}
			if eos {
				break
			}
		}
	}
	upHeaders, upBody, ok := st.upstreamRequest()
	if !ok {
		// A filter paused and nothing resumed it: Envoy would hang until a timeout; answer at once instead.
		s.logger.Printf("gateway: the filter chain never released the request")
		s.writeReply(w, gatewayError(r, 504, "gateway_request_never_released", "hostsim: a filter paused the request and never resumed it"))
		return
	}

	// Upstream.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpstreamTimeout())
	defer cancel()
	resp, err := s.forward(ctx, r, upHeaders, upBody)
	var respPairs [][2]string
	var respBody io.ReadCloser
	if err != nil {
		s.upstreamErrors.Add(1)
		s.logger.Printf("gateway: upstream: %v", err)
		// Envoy's message, in the provider's error shape; it goes through the filters' response side like Envoy's.
		lr := gatewayError(r, 503, "upstream_connect_error", "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
		respPairs = append([][2]string{{":status", "503"}}, lr.Headers...)
		respPairs = append(respPairs, [2]string{"content-length", strconv.Itoa(len(lr.Body))})
		respBody = io.NopCloser(bytes.NewReader(lr.Body))
	} else {
		respPairs = append(respPairs, [2]string{":status", strconv.Itoa(resp.StatusCode)})
		for k, vs := range resp.Header {
			lk := strings.ToLower(k)
			if hopByHop[lk] {
				continue
			}
			for _, v := range vs {
				respPairs = append(respPairs, [2]string{lk, v})
			}
		}
		respBody = resp.Body
	}
	defer respBody.Close()

	// Response: headers, then every chunk as it arrives; whatever the chain releases is written and flushed.
	fl, _ := w.(http.Flusher)
	headersOut := false
	emit := func(rel released, err error) bool {
		if err != nil {
			s.logger.Printf("gateway: filter chain (response): %v", err)
			if !headersOut {
				s.writeReply(w, gatewayError(r, 503, "filter_chain_failed", "hostsim: the filter chain failed"))
				return false
			}
			rel.Reset = true
		}
		if rel.Reset {
			s.resets.Add(1)
			panic(http.ErrAbortHandler) // Envoy resets the stream; so does net/http on this panic
		}
		if rel.Headers != nil && !headersOut {
			headersOut = true
			status, _ := strconv.Atoi(pairGet(rel.Headers, ":status"))
			if status < 100 || status > 999 {
				status = 502
			}
			for _, kv := range rel.Headers {
				if strings.HasPrefix(kv[0], ":") || kv[0] == "content-length" { // filters may change the body size
					continue
				}
				w.Header().Add(kv[0], kv[1])
			}
			w.WriteHeader(status)
		}
		if len(rel.Data) > 0 && headersOut {
			if _, werr := w.Write(rel.Data); werr != nil {
				return false
			}
		}
		if headersOut && fl != nil {
			fl.Flush()
		}
		return !rel.Done
	}
	if !emit(st.responseHeaders(respPairs, resp != nil && resp.ContentLength == 0)) {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := respBody.Read(buf)
		eos := rerr == io.EOF
		if rerr != nil && !eos {
			s.logger.Printf("gateway: upstream body: %v", rerr)
			s.resets.Add(1)
			panic(http.ErrAbortHandler)
		}
		if n == 0 && !eos {
			continue
		}
		if !emit(st.responseBody(buf[:n], eos)) || eos {
			break
		}
	}
	if !headersOut {
		s.logger.Printf("gateway: the filter chain never released the response")
		s.writeReply(w, gatewayError(r, 502, "gateway_response_never_released", "hostsim: a filter paused the response and never resumed it"))
	}
}

// failed handles a request-side error or local reply; it reports whether the exchange is over.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error, lr *LocalReply) bool {
	if err != nil {
		// A trapped VM fails closed, like Envoy's default failure_policy.
		s.logger.Printf("gateway: filter chain: %v", err)
		s.writeReply(w, gatewayError(r, 503, "filter_chain_failed", "hostsim: the filter chain failed"))
		return true
	}
	if lr != nil && lr.Reset {
		s.resets.Add(1)
		s.writeReply(w, gatewayError(r, lr.Status, "stream_reset", "hostsim: a filter reset the stream"))
		return true
	}
	if lr != nil {
		s.localReplies.Add(1)
		s.writeReply(w, lr)
		return true
	}
	return false
}

// gatewayError is one of the gateway's own errors (not a filter's) in the error shape of the provider API the
// request is for (sdk/reply: OpenAI's shape when the path does not say), so the provider's SDK raises its usual
// error with a readable message.
func gatewayError(r *http.Request, status int, code, msg string) *LocalReply {
	h, b := reply.Error(llm.DetectFormat(r.URL.Path, nil), status, code, msg, r.Header.Get(reply.HeaderRequestID))
	return &LocalReply{Status: status, Headers: h, Body: b}
}

func (s *Server) writeReply(w http.ResponseWriter, lr *LocalReply) {
	for _, kv := range lr.Headers {
		if strings.HasPrefix(kv[0], ":") || kv[0] == "content-length" {
			continue
		}
		w.Header().Add(kv[0], kv[1])
	}
	w.Header().Set("content-length", strconv.Itoa(len(lr.Body)))
	if lr.Status == 0 {
		lr.Status = 500
	}
	w.WriteHeader(lr.Status)
	_, _ = w.Write(lr.Body)
}

func (s *Server) forward(ctx context.Context, r *http.Request, h [][2]string, body []byte) (*http.Response, error) {
	method := pairGet(h, ":method")
	if method == "" {
		method = r.Method
	}
	path := pairGet(h, ":path")
	if path == "" {
		path = r.URL.RequestURI()
	}
	u := *s.upstream
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("bad :path %q: %w", path, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, kv := range h {
		if strings.HasPrefix(kv[0], ":") || kv[0] == "content-length" || kv[0] == "host" || hopByHop[kv[0]] {
			continue
		}
		req.Header.Add(kv[0], kv[1])
	}
	if a := pairGet(h, ":authority"); a != "" {
		req.Host = a
	}
	req.ContentLength = int64(len(body))
	return s.client.Do(req)
}

// histogram is a fixed-bucket latency histogram.
type histogram struct {
	mu      sync.Mutex
	counts  [16]int64 // len(latencyBuckets)+1
	sum     time.Duration
	samples int64
}

var latencyBuckets = []time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond,
	2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second}

func (h *histogram) observe(d time.Duration) {
	i := sort.Search(len(latencyBuckets), func(i int) bool { return d <= latencyBuckets[i] })
	h.mu.Lock()
	h.counts[i]++
	h.sum += d
	h.samples++
	h.mu.Unlock()
}

func (h *histogram) writePrometheus(w io.Writer, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# TYPE %s histogram\n", name)
	var cum int64
	for i, b := range latencyBuckets {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b.Seconds(), cum)
	}
	cum += h.counts[len(latencyBuckets)]
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, h.sum.Seconds(), name, h.samples)
}

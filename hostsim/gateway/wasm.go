package gateway

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// HostProfile maps a config profile name onto hostsim's (envoy_full_wasi and envoy-fullwasi are the same).
func HostProfile(name string) (hostsim.Profile, bool) {
	switch name {
	case "", "envoy":
		return hostsim.ProfileEnvoy, true
	case "envoy_full_wasi", string(hostsim.ProfileEnvoyFullWASI):
		return hostsim.ProfileEnvoyFullWASI, true
	case "kong":
		return hostsim.ProfileKong, true
	}
	return "", false
}

// HostConfig builds the hostsim configuration of a gateway config: every plugin's module and configuration,
// the workers, the profile, and the http_call clusters as real HTTP calls with the cluster's timeout.
func HostConfig(cfg *Config, dist string) (hostsim.Config, error) {
	prof, ok := HostProfile(cfg.Profile)
	if !ok {
		return hostsim.Config{}, fmt.Errorf("gateway: profile %q is unknown", cfg.Profile)
	}
	// Each stream prints its own logs (Result.Logs); the host-wide copy only needs to be short.
	hc := hostsim.Config{Profile: prof, Workers: cfg.Workers, KongSharedKV: true, BufferLimit: int(cfg.MaxRequestBytes), LogLimit: 2000,
		Callouts: map[string]hostsim.CalloutHandler{}}
	for i := range cfg.Plugins {
		p := &cfg.Plugins[i]
		wasm, err := os.ReadFile(p.WasmPath(dist))
		if err != nil {
			return hostsim.Config{}, fmt.Errorf("gateway: plugins[%d] (%s): %w (run make build, or set --dist)", i, p.Name, err)
		}
		raw, err := cfg.RawConfig(p)
		if err != nil {
			return hostsim.Config{}, err
		}
		hc.Plugins = append(hc.Plugins, hostsim.PluginSpec{Name: p.Name, Wasm: wasm, Config: raw, RootID: p.Name})
	}
	for name, cl := range cfg.Clusters {
		limit := time.Duration(cl.TimeoutMS) * time.Millisecond
		if limit == 0 {
			limit = 5 * time.Second
		}
		real := hostsim.URLHandler(cl.URL)
		hc.Callouts[name] = func(c hostsim.CalloutRequest) hostsim.CalloutResponse {
			if c.Timeout <= 0 || c.Timeout > limit {
				c.Timeout = limit
			}
			return real(c)
		}
	}
	return hc, nil
}

// wasmEngine runs streams on the host's worker VMs. Each stream is driven by its own goroutine, and streams
// on one worker run concurrently: hostsim serializes every call into a VM (a VM is single-threaded, as an
// Envoy worker thread is), and each stream runs only its own deferred actions, so a step of one stream that
// waits (a slow http_call) does not hold up the worker's other streams.
//
// Ticks: every root context (one per plugin per worker VM) gets its own ticker goroutine that calls
// proxy_on_tick at the period the plugin set with proxy_set_tick_period_milliseconds (0: none), as Envoy and Kong
// do per worker; the first tick comes one period after the period was set. Ticks are serialized with the VM's
// other calls by hostsim; a callout a tick dispatches is made by that root's ticker goroutine. close stops them.
type wasmEngine struct {
	host    *hostsim.Host
	logger  *log.Logger
	workers int
	rr      atomic.Uint32

	stop      chan struct{}
	ticks     sync.WaitGroup
	closeOnce sync.Once
}

// tickPoll is how often a ticker looks for a changed tick period (a plugin may set or change it at any time).
const tickPoll = 100 * time.Millisecond

func newWasmEngine(cfg *Config, opts Options, logger *log.Logger) (engine, error) {
	hc, err := HostConfig(cfg, opts.Dist)
	if err != nil {
		return nil, err
	}
	h, err := hostsim.Start(hc)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	for _, e := range h.Logs() { // start-up logs (configure) of every VM
		logger.Printf("%s", e)
	}
	e := &wasmEngine{host: h, logger: logger, workers: h.Workers(), stop: make(chan struct{})}
	for _, p := range hc.Plugins {
		for w := 0; w < e.workers; w++ {
			e.ticks.Add(1)
			go e.tickLoop(p.Name, w)
		}
	}
	return e, nil
}

// tickLoop fires one root context's ticks until the engine closes.
func (e *wasmEngine) tickLoop(plugin string, worker int) {
	defer e.ticks.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var period time.Duration
	var next time.Time
	for {
		select {
		case <-e.stop:
			return
		case <-timer.C:
		}
		now := time.Now()
		if p := e.host.TickPeriod(plugin, worker); p != period {
			period, next = p, now.Add(p) // set or changed: the first tick one period later
		}
		if period > 0 && !now.Before(next) {
			e.host.TickOn(plugin, worker)
			if next = next.Add(period); next.Before(now) {
				next = now.Add(period) // fell behind (a slow tick): no burst of late ticks
			}
		}
		wait := tickPoll
		if period > 0 {
			wait = min(wait, time.Until(next))
		}
		timer.Reset(max(wait, 0))
	}
}

func (e *wasmEngine) open(route string) (stream, error) {
	w := int(e.rr.Add(1)-1) % e.workers
	return &wasmStream{e: e, route: route, worker: w}, nil
}

// close stops the tickers, waits for a tick in progress, then closes the host.
func (e *wasmEngine) close() {
	e.closeOnce.Do(func() {
		close(e.stop)
		e.ticks.Wait()
		e.host.Close()
	})
}

func (e *wasmEngine) metrics() []Metric {
	var out []Metric
	for name, v := range e.host.Metrics() {
		typ := "gauge"
		if base, _, _ := strings.Cut(name, "."); strings.HasSuffix(base, "_total") {
			typ = "counter"
		}
		out = append(out, Metric{Name: name, Type: typ, Value: v})
	}
	return out
}

// wasmStream is one exchange; its steps are made by one goroutine (see stream).
type wasmStream struct {
	e      *wasmEngine
	route  string
	worker int
	s      *hostsim.Stream

	// response side
	headersOut bool
	sent       int // chunks of Result.Chunks already released
}

func (w *wasmStream) requestHeaders(h [][2]string, eos bool) (*LocalReply, error) {
	req := hostsim.Request{Route: w.route}
	for _, kv := range h {
		switch kv[0] {
		case ":method":
			req.Method = kv[1]
		case ":path":
			req.Path = kv[1]
		case ":authority":
			req.Authority = kv[1]
		case ":scheme":
		default:
			req.Headers = append(req.Headers, kv)
		}
	}
	w.s = w.e.host.OpenStream(w.worker, req)
	w.s.SendRequestHeaders(eos)
	return w.requestReply(), nil
}

func (w *wasmStream) requestBody(chunk []byte, eos bool) (*LocalReply, error) {
	w.s.SendRequestBody(chunk, eos)
	return w.requestReply(), nil
}

// requestReply reports the local reply (a filter's, or the host's after a trap) or reset of the request phase.
func (w *wasmStream) requestReply() *LocalReply {
	r := w.s.Result()
	if r.Status != 0 || r.LocalReply {
		return &LocalReply{Status: r.Status, Headers: r.Headers, Body: r.Body}
	}
	if r.Reset {
		return &LocalReply{Status: 503, Reset: true}
	}
	return nil
}

func (w *wasmStream) upstreamRequest() ([][2]string, []byte, bool) {
	u := w.s.UpstreamRequest()
	if u == nil {
		return nil, nil, false
	}
	return u.Headers, u.Body, true
}

func (w *wasmStream) responseHeaders(h [][2]string, eos bool) (released, error) {
	status := 200
	var rest [][2]string
	for _, kv := range h {
		if kv[0] == ":status" {
			status, _ = strconv.Atoi(kv[1])
		} else {
			rest = append(rest, kv)
		}
	}
	w.s.SendResponseHeaders(status, rest, eos)
	return w.released(eos), nil
}

func (w *wasmStream) responseBody(chunk []byte, eos bool) (released, error) {
	w.s.SendResponseBody(chunk, eos)
	return w.released(eos), nil
}

// released diffs the stream's Result against what was already handed to the client.
func (w *wasmStream) released(eos bool) released {
	r := w.s.Result()
	var out released
	if !w.headersOut && len(r.Headers) > 0 {
		w.headersOut = true
		out.Headers = r.Headers
	}
	for ; w.sent < len(r.Chunks); w.sent++ {
		out.Data = append(out.Data, r.Chunks[w.sent]...)
	}
	out.Reset = r.Reset
	// After a local reply replaced the upstream's answer, the rest of the upstream body is not wanted.
	out.Done = eos || (w.s.ResponseAbandoned() && !r.Reset)
	return out
}

func (w *wasmStream) close() {
	if w.s == nil {
		return
	}
	r := w.s.Close()
	for _, e := range r.Logs {
		w.e.logger.Printf("%s", e)
	}
}

package hostsim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// compilationCache is shared by every Host in the process so each .wasm compiles once
// (compiling a standard-Go module takes ~1.5 s).
var compilationCache = wazero.NewCompilationCache()

func runtimeConfig() wazero.RuntimeConfig {
	// 16384 pages = 1 GiB, V8's cap in Envoy.
	return wazero.NewRuntimeConfig().WithCompilationCache(compilationCache).WithMemoryLimitPages(16384)
}

type plugin struct {
	idx    int
	spec   PluginSpec
	cm     wazero.CompiledModule
	abi    string
	policy FailurePolicy
	group  []*plugin // plugins sharing this plugin's VM (same code, vm_id, vm config), in chain order
}

type worker struct {
	idx int
	mu  sync.Mutex
	vms []*vm
}

// vm returns the worker's VM for a plugin, replacing a failed one first when the
// plugin's policy is fail_reload.
func (w *worker) vm(h *Host, p *plugin) *vm {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := w.vms[p.idx]
	if v != nil && v.failed && p.policy == FailReload {
		nv, err := h.newVM(p.group, w.idx)
		if err == nil {
			err = nv.start()
		}
		if err != nil {
			h.addLog(LogEntry{Level: LogCritical, Message: fmt.Sprintf("reload failed: %v", err), Plugin: p.spec.Name, Worker: w.idx, Source: "hostsim"}, nil)
			if nv != nil && nv.mod != nil {
				nv.failed = true
				nv.trapMsg = err.Error()
				w.vms[p.idx] = nv
			}
			return w.vms[p.idx]
		}
		// Every plugin of the group that reloads moves to the new VM; the old one is
		// closed once nobody uses it.
		for _, gp := range p.group {
			if w.vms[gp.idx] == v && gp.policy == FailReload {
				w.vms[gp.idx] = nv
			}
		}
		still := false
		for _, o := range w.vms {
			still = still || o == v
		}
		if !still {
			v.close()
		}
		h.reloads.Add(1)
		v = nv
	}
	return v
}

// Host is a simulated proxy-wasm gateway running real .wasm plugins: a chain of
// plugins, each with one VM per worker (plus a canary at start), shared data, queues,
// metrics and callouts shared by every VM as in one Envoy process. Its methods are
// safe for concurrent use; each VM runs one call at a time.
type Host struct {
	t       testing.TB
	cfg     Config
	rt      wazero.Runtime
	plugins []*plugin
	workers []*worker
	env     []string
	base    time.Time

	logMu sync.Mutex
	logs  []LogEntry

	shared  sharedStore
	queues  queueStore
	metrics metricStore

	calloutMu  sync.Mutex
	handlers   map[string]CalloutHandler
	callouts   []CalloutRequest
	rootQueue  []*calloutState
	queueTasks []queueTask

	foreign map[string]func([]byte) ([]byte, error)

	tracer          *tracer
	recordCallbacks bool
	rr              atomic.Uint32
	reqSeq          atomic.Uint64
	connSeq         atomic.Uint64
	reloads         atomic.Int64
	closeOnce       sync.Once

	timeAllocs atomic.Bool
	allocMu    sync.Mutex
	allocs     []AllocSample
}

// New starts a Host for a test: it fails the test (with the plugins' logs) when a
// plugin does not load or its configuration is rejected, closes the Host when the test
// ends, and prints the ABI trace (Config.Trace) if the test failed.
func New(t testing.TB, cfg Config) *Host {
	t.Helper()
	h, err := Start(cfg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	h.t = t
	t.Cleanup(func() {
		if t.Failed() && h.tracer != nil {
			t.Logf("hostsim ABI trace (last %d calls):\n%s", h.cfg.TraceLimit, strings.Join(h.Trace(), "\n"))
		}
		h.Close()
	})
	return h
}

// Start starts a Host and returns an error, including the failing plugin's error and
// critical logs, when a plugin cannot load, traps while starting, or rejects its
// configuration. Call Close when done.
func Start(cfg Config) (*Host, error) {
	if cfg.Profile == "" {
		cfg.Profile = ProfileEnvoy
	}
	if !cfg.Profile.valid() {
		return nil, fmt.Errorf("hostsim: unknown profile %q (want %s, %s or %s)", cfg.Profile, ProfileEnvoy, ProfileEnvoyFullWASI, ProfileKong)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.BufferLimit <= 0 {
		cfg.BufferLimit = 1 << 20
	}
	if cfg.LogLimit <= 0 {
		cfg.LogLimit = 100000
	}
	if cfg.TraceLimit <= 0 {
		cfg.TraceLimit = 5000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Plugins) == 0 {
		return nil, errors.New("hostsim: Config.Plugins is empty")
	}
	h := &Host{cfg: cfg, base: time.Now(), handlers: map[string]CalloutHandler{}, recordCallbacks: true}
	h.shared.init()
	h.queues.init()
	h.metrics.init()
	h.environ()
	for k, fn := range cfg.Callouts {
		h.handlers[k] = fn
	}
	h.foreign = defaultForeign(cfg.Profile)
	for k, fn := range cfg.ForeignFunctions {
		h.foreign[k] = fn
	}
	if cfg.Trace {
		h.tracer = &tracer{limit: cfg.TraceLimit}
	}
	h.timeAllocs.Store(cfg.TimeAllocations)
	ctx := context.Background()
	h.rt = wazero.NewRuntimeWithConfig(ctx, runtimeConfig())
	if err := h.registerHostModules(ctx); err != nil {
		h.Close()
		return nil, err
	}
	for i, spec := range cfg.Plugins {
		if spec.Name == "" {
			spec.Name = fmt.Sprintf("plugin%d", i)
		}
		if len(spec.Wasm) == 0 {
			h.Close()
			return nil, fmt.Errorf("hostsim: plugin %q: Wasm is empty", spec.Name)
		}
		cm, err := h.rt.CompileModule(ctx, spec.Wasm)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("hostsim: plugin %q: compile: %w", spec.Name, err)
		}
		if err := loadError(spec.Name, cm, cfg.Profile); err != nil {
			h.Close()
			return nil, err
		}
		p := &plugin{idx: i, spec: spec, cm: cm, abi: moduleABI(cm), policy: spec.FailurePolicy}
		if p.policy == "" {
			p.policy = FailClosed
			if cfg.Profile.isKong() {
				p.policy = FailReload
			}
		}
		h.plugins = append(h.plugins, p)
	}
	// Plugins with the same code, vm_id and VM configuration share one VM per worker
	// (Envoy's vm_key; Kong shares an instance per module), each with its own root
	// context: Go globals are shared and a trap kills all of them.
	groups := map[string][]*plugin{}
	for _, p := range h.plugins {
		sum := sha256.Sum256(p.spec.Wasm)
		key := string(sum[:]) + "\x00" + p.spec.VMID + "\x00" + string(p.spec.VMConfig)
		groups[key] = append(groups[key], p)
		p.group = groups[key]
	}
	for _, p := range h.plugins {
		sum := sha256.Sum256(p.spec.Wasm)
		p.group = groups[string(sum[:])+"\x00"+p.spec.VMID+"\x00"+string(p.spec.VMConfig)]
	}
	// Envoy: a throw-away canary VM per plugin validates vm_start/configure first.
	if !cfg.NoCanary && !cfg.Profile.isKong() {
		for _, p := range h.plugins {
			v, err := h.newVM([]*plugin{p}, -1)
			if err == nil {
				err = v.start()
				v.close()
			}
			if err != nil {
				h.Close()
				return nil, h.startError(p, -1, err)
			}
		}
	}
	for w := 0; w < cfg.Workers; w++ {
		wk := &worker{idx: w, vms: make([]*vm, len(h.plugins))}
		h.workers = append(h.workers, wk)
		for _, p := range h.plugins {
			if wk.vms[p.idx] != nil {
				continue // started with an earlier plugin of its group
			}
			v, err := h.newVM(p.group, w)
			if err == nil {
				err = v.start()
			}
			if err != nil {
				h.Close()
				failed := p
				var se *startError
				if errors.As(err, &se) {
					failed = se.p
				}
				return nil, h.startError(failed, w, err)
			}
			for _, gp := range p.group {
				wk.vms[gp.idx] = v
			}
		}
	}
	h.RunPending()
	return h, nil
}

func (h *Host) startError(p *plugin, worker int, err error) error {
	where := fmt.Sprintf("worker %d", worker)
	if worker < 0 {
		where = "canary VM"
	}
	var lines []string
	for _, e := range h.Logs() {
		if e.Plugin == p.spec.Name && e.Level >= LogError {
			lines = append(lines, "  "+e.Level.String()+": "+e.Message)
		}
	}
	msg := fmt.Sprintf("hostsim: plugin %q failed to start (%s, profile %s): %v", p.spec.Name, where, h.cfg.Profile, err)
	if len(lines) > 0 {
		msg += "\nplugin logs:\n" + strings.Join(lines, "\n")
	}
	return errors.New(msg)
}

// Shutdown ends every live worker VM's root context as Envoy does when the plugin's
// configuration is removed: proxy_on_done, then proxy_on_delete when it returned true.
// A plugin whose OnPluginDone returns false stays until it calls proxy_done (from a
// tick or a callout response; see Tick and RunPending); Shutdown returns those still
// pending as "plugin/wN". Close calls Shutdown.
func (h *Host) Shutdown() []string {
	var pending []string
	for _, w := range h.workers {
		w.mu.Lock()
		vms := append([]*vm(nil), w.vms...)
		w.mu.Unlock()
		seen := map[*vm]bool{}
		for _, v := range vms {
			if v == nil || v.failed || seen[v] {
				continue
			}
			seen[v] = true
			v.mu.Lock()
			for _, rt := range v.roots {
				if rt.state == 0 {
					r, err := v.callLocked(nil, cbDone, v.fnDone, rt.id, uint64(rt.id))
					if err == nil {
						if uint32(r) != 0 {
							rt.state = 3
						} else {
							rt.state = 1
						}
					}
				}
				v.finishRoot(rt)
				if rt.state == 1 {
					pending = append(pending, fmt.Sprintf("%s/w%d", rt.p.spec.Name, v.worker))
				}
			}
			v.mu.Unlock()
		}
	}
	return pending
}

// finishRoot runs proxy_on_delete for a root context that is done (v.mu held).
func (v *vm) finishRoot(rt *root) {
	if rt != nil && rt.state == 3 && !v.failed {
		rt.state = 2
		_, _ = v.callLocked(nil, cbDelete, v.fnDelete, rt.id, uint64(rt.id))
	}
}

// Close shuts the plugins down (Shutdown) and releases every VM. It is safe to call
// more than once.
func (h *Host) Close() {
	h.closeOnce.Do(func() {
		if h.rt != nil && h.workers != nil {
			h.Shutdown()
		}
		if h.rt != nil {
			_ = h.rt.Close(context.Background())
		}
	})
}

// Profile returns the host profile.
func (h *Host) Profile() Profile { return h.cfg.Profile }

// Workers returns the number of worker VMs per plugin.
func (h *Host) Workers() int { return len(h.workers) }

// Do sends req through the chain; when the request reaches the upstream complete, the
// upstream answers resp. It returns what the client got.
func (h *Host) Do(req Request, resp Response) Result {
	return h.DoFunc(req, func(*UpstreamRequest) Response { return resp })
}

// DoFunc is Do with an upstream computed from the request as it arrived upstream.
func (h *Host) DoFunc(req Request, upstream func(*UpstreamRequest) Response) Result {
	return h.DoOn(-1, req, upstream)
}

// DoOn is DoFunc on a given worker (-1: round-robin).
func (h *Host) DoOn(worker int, req Request, upstream func(*UpstreamRequest) Response) Result {
	s := h.OpenStream(worker, req)
	s.SendRequest()
	if u := s.UpstreamRequest(); u != nil && !s.upAbandoned && !s.res.Reset {
		s.Respond(upstream(u))
	}
	return s.Close()
}

// Metric returns a metric's value (counter or gauge) summed over every VM, as Envoy's
// process-wide stats are. name is the name the plugin defined (Kong's pw:<filter>:
// prefix is optional).
func (h *Host) Metric(name string) (int64, bool) { return h.metrics.value(name) }

// Histogram returns every value recorded into a histogram metric.
func (h *Host) Histogram(name string) ([]uint64, bool) { return h.metrics.samples(name) }

// Metrics returns every metric name and value (histograms: sample count).
func (h *Host) Metrics() map[string]int64 { return h.metrics.all() }

// SharedData returns a shared-data value and its CAS for a vm_id namespace.
func (h *Host) SharedData(vmID, key string) ([]byte, uint32, bool) { return h.shared.get(vmID, key) }

// SetSharedData writes a shared-data value (CAS ignored) as another process would.
func (h *Host) SetSharedData(vmID, key string, value []byte) {
	h.shared.set(vmID, key, value, 0, false)
}

// SharedDataKeys lists the keys of a vm_id namespace, sorted.
func (h *Host) SharedDataKeys(vmID string) []string { return h.shared.keys(vmID) }

// Logs returns every log entry so far (all plugins, workers and the canary).
func (h *Host) Logs() []LogEntry {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	logs := h.logs
	if len(logs) > h.cfg.LogLimit {
		logs = logs[len(logs)-h.cfg.LogLimit:]
	}
	return append([]LogEntry(nil), logs...)
}

// LogsAt returns the messages logged at level min or above.
func (h *Host) LogsAt(min LogLevel) []string { return logsAt(h.Logs(), min) }

// Reloads reports how many VMs were recreated after a trap (fail_reload).
func (h *Host) Reloads() int64 { return h.reloads.Load() }

// VMFailed reports whether the plugin's VM on a worker is dead (trapped, not reloaded yet).
func (h *Host) VMFailed(plugin string, worker int) bool {
	for _, p := range h.plugins {
		if p.spec.Name == plugin {
			w := h.workers[worker]
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.vms[p.idx] == nil || w.vms[p.idx].failed
		}
	}
	return false
}

// MemorySize returns the size in bytes of the linear memory of the plugin's VM on a
// worker (what the module grew it to: Go's wasm heap never shrinks it). ok is false
// for an unknown plugin or worker, or when the worker has no VM for the plugin (it
// failed to start); a VM that trapped still reports its last size.
func (h *Host) MemorySize(plugin string, worker int) (uint32, bool) {
	if worker < 0 || worker >= len(h.workers) {
		return 0, false
	}
	for _, p := range h.plugins {
		if p.spec.Name != plugin {
			continue
		}
		w := h.workers[worker]
		w.mu.Lock()
		v := w.vms[p.idx]
		w.mu.Unlock()
		if v == nil || v.mem == nil {
			return 0, false
		}
		v.mu.Lock() // a guest call may be growing it
		defer v.mu.Unlock()
		return v.mem.Size(), true
	}
	return 0, false
}

func (h *Host) addLog(e LogEntry, s *Stream) {
	h.logMu.Lock()
	h.logs = append(h.logs, e)
	if len(h.logs) > 2*h.cfg.LogLimit {
		h.logs = append([]LogEntry(nil), h.logs[len(h.logs)-h.cfg.LogLimit:]...)
	}
	h.logMu.Unlock()
	if h.cfg.OnLog != nil {
		h.cfg.OnLog(e)
	}
	if s != nil {
		s.res.Logs = append(s.res.Logs, e)
	}
	if h.tracer != nil {
		h.tracer.add(fmt.Sprintf("    log %s", e))
	}
}

func (h *Host) now() time.Time { return h.cfg.Now() }

func (h *Host) monotonic() int64 { return int64(time.Since(h.base)) + 1 }

// Tick fires proxy_on_tick on every live worker VM whose root context set a tick
// period (Envoy: one tick stream per worker), then delivers pending callouts.
func (h *Host) Tick() {
	for _, w := range h.workers {
		for _, p := range h.plugins {
			v := w.vm(h, p)
			if v == nil || v.fnTick == nil {
				continue
			}
			h.tickRoot(v, p)
		}
	}
	h.RunPending()
}

// TickPeriod returns the tick period the plugin's root context on a worker asked for
// with proxy_set_tick_period_milliseconds (0: no ticks; also for an unknown plugin or
// worker, a VM without proxy_on_tick, a dead VM or a deleted root context). A
// gateway's ticker reads it before every wait: a plugin may change it at any time.
func (h *Host) TickPeriod(plugin string, worker int) time.Duration {
	v, p := h.liveVM(plugin, worker)
	if v == nil || v.fnTick == nil {
		return 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	rt := v.rootOf(p)
	if v.failed || rt == nil || rt.state == 2 {
		return 0
	}
	return msDuration(rt.tickMs)
}

// TickOn fires proxy_on_tick for the plugin's root context on one worker VM, when it
// set a tick period, serialized with the VM's other calls, then delivers pending
// root-context work (callout responses, queue notifications) on the calling
// goroutine. It does not reload a dead VM. It reports whether the tick ran.
func (h *Host) TickOn(plugin string, worker int) bool {
	v, p := h.liveVM(plugin, worker)
	if v == nil || v.fnTick == nil {
		return false
	}
	ran := h.tickRoot(v, p)
	h.RunPending()
	return ran
}

// liveVM returns the plugin's current VM on a worker (nil when there is none).
func (h *Host) liveVM(plugin string, worker int) (*vm, *plugin) {
	if worker < 0 || worker >= len(h.workers) {
		return nil, nil
	}
	for _, p := range h.plugins {
		if p.spec.Name == plugin {
			w := h.workers[worker]
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.vms[p.idx], p
		}
	}
	return nil, nil
}

// tickRoot calls proxy_on_tick for p's root context in v if its tick period is set,
// then runs the deferred actions the tick asked for.
func (h *Host) tickRoot(v *vm, p *plugin) bool {
	v.mu.Lock()
	rt := v.rootOf(p)
	if v.failed || rt == nil || rt.tickMs == 0 || rt.state == 2 {
		v.mu.Unlock()
		return false
	}
	_, _ = v.callLocked(nil, cbTick, v.fnTick, rt.id, uint64(rt.id))
	v.finishRoot(rt)
	acts := v.takeActions(nil)
	v.mu.Unlock()
	for _, a := range acts {
		a.f.s.runActions(a)
	}
	return true
}

// ---- host module registration ----

func (h *Host) registerHostModules(ctx context.Context) error {
	names := make([]string, 0, len(wasiSigs))
	for n := range wasiSigs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, mod := range []string{"wasi_snapshot_preview1", "wasi_unstable"} {
		b := h.rt.NewHostModuleBuilder(mod)
		for _, n := range names {
			sg := wasiSigs[n]
			b.NewFunctionBuilder().
				WithGoModuleFunction(h.hostFunc(mod, n, sg, h.wasiImpl(n)), sg.params, sg.results).
				WithParameterNames(sg.names...).Export(n)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("hostsim: register %s: %w", mod, err)
		}
	}
	b := h.rt.NewHostModuleBuilder("env")
	pn := make([]string, 0, len(proxySigs))
	for n := range proxySigs {
		pn = append(pn, n)
	}
	sort.Strings(pn)
	for _, n := range pn {
		sg := proxySigs[n]
		b.NewFunctionBuilder().
			WithGoModuleFunction(h.hostFunc("env", n, sg, h.proxyImpl(n)), sg.params, sg.results).
			WithParameterNames(sg.names...).Export(n)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("hostsim: register env: %w", err)
	}
	return nil
}

// hostFunc wraps a host function: restricted-callback enforcement, tracing.
func (h *Host) hostFunc(module, name string, sg sig, impl func(v *vm, stack []uint64)) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		v := ctx.Value(vmKey{}).(*vm)
		if v.restrict != restrictNone && !v.allowed(name) {
			phase := "_initialize"
			if v.restrict == restrictAlloc {
				phase = "proxy_on_memory_allocate"
			}
			trap("restricted_callback: %s.%s is not allowed during %s", module, name, phase)
		}
		if h.tracer != nil {
			h.tracer.hostCall(v, module, name, sg, stack)
		}
		impl(v, stack)
		if h.tracer != nil && len(sg.results) > 0 {
			h.tracer.hostRet(v, module, stack[0])
		}
	}
}

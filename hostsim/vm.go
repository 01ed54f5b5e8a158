package hostsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// proxy_status_t values.
const (
	statusOK                  = 0
	statusNotFound            = 1
	statusBadArgument         = 2
	statusSerializationFailed = 3
	statusParseFailure        = 4
	statusInvalidMemoryAccess = 6
	statusEmpty               = 7
	statusCasMismatch         = 8
	statusInternalFailure     = 10
	statusUnimplemented       = 12
)

// restriction levels for host calls (Envoy's restricted callback sets).
const (
	restrictNone = iota
	restrictInit
	restrictAlloc
)

// callback ids: which guest callback is running.
type cbKind int

const (
	cbNone cbKind = iota
	cbInit
	cbContextCreate
	cbVMStart
	cbConfigure
	cbRequestHeaders
	cbRequestBody
	cbRequestTrailers
	cbResponseHeaders
	cbResponseBody
	cbResponseTrailers
	cbLog
	cbDone
	cbDelete
	cbHTTPCallResponse
	cbTick
	cbQueueReady
)

var cbNames = [...]string{
	cbNone: "", cbInit: "_initialize", cbContextCreate: "proxy_on_context_create",
	cbVMStart: "proxy_on_vm_start", cbConfigure: "proxy_on_configure",
	cbRequestHeaders: "proxy_on_request_headers", cbRequestBody: "proxy_on_request_body",
	cbRequestTrailers: "proxy_on_request_trailers", cbResponseHeaders: "proxy_on_response_headers",
	cbResponseBody: "proxy_on_response_body", cbResponseTrailers: "proxy_on_response_trailers",
	cbLog: "proxy_on_log", cbDone: "proxy_on_done", cbDelete: "proxy_on_delete",
	cbHTTPCallResponse: "proxy_on_http_call_response", cbTick: "proxy_on_tick",
	cbQueueReady: "proxy_on_queue_ready",
}

func (c cbKind) String() string { return cbNames[c] }

type vmKey struct{}

// trapError is panicked by a host function to trap the guest, as a real host does.
type trapError struct{ msg string }

func (e *trapError) Error() string { return e.msg }

func trap(format string, args ...any) { panic(&trapError{fmt.Sprintf(format, args...)}) }

// vm is one instance of one plugin's module (one worker thread's VM, or the canary).
type vm struct {
	h      *Host
	p      *plugin
	worker int // -1: canary
	mod    api.Module
	mem    api.Memory
	ctx    context.Context
	mu     sync.Mutex

	fnAlloc, fnContextCreate, fnVMStart, fnConfigure         api.Function
	fnReqHeaders, fnReqBody, fnReqTrailers                   api.Function
	fnRespHeaders, fnRespBody, fnRespTrailers                api.Function
	fnLog, fnDone, fnDelete, fnHTTPCallResp, fnTick, fnQueue api.Function

	stack      [8]uint64
	allocStack [1]uint64

	group  []*plugin // plugins hosted by this VM (same code, vm_id and vm config share one VM)
	roots  []*root   // one root context per hosted plugin, same order as group
	rt     *root     // root context of the current call (its plugin is v.p)
	nextID uint32
	ctxs   map[uint32]*filterState

	// per-call state
	cb        cbKind
	active    uint32 // context id the host called
	effective uint32 // after proxy_set_effective_context
	restrict  int
	stream    *Stream // stream the current call works for (logs, callouts)
	touched   []*filterState
	stderr    []string // stderr lines written during the current call
	callout   *calloutState

	failed     bool
	trapMsg    string
	lineBuf    [3][]byte
	tokens     uint32
	pending    map[uint32]*calloutState
	localCnt   int // Kong: local responses in this call
	lastStatus struct {
		code uint32
		msg  string
	}
}

// root is one plugin's root context inside a VM.
type root struct {
	p      *plugin
	id     uint32
	tickMs uint32
	state  int // 0 running, 1 on_done returned false (waiting for proxy_done), 3 done, 2 deleted
}

// newVM instantiates the module shared by a group of plugins (one root context each).
func (h *Host) newVM(group []*plugin, worker int) (*vm, error) {
	p := group[0]
	v := &vm{h: h, p: p, group: group, worker: worker, nextID: 1, ctxs: map[uint32]*filterState{}, pending: map[uint32]*calloutState{}}
	for _, gp := range group {
		v.roots = append(v.roots, &root{p: gp, id: v.nextID})
		v.nextID++
	}
	v.rt = v.roots[0]
	v.ctx = experimental.WithMemoryAllocator(context.WithValue(context.Background(), vmKey{}, v), memoryAllocator(h.cfg.CopyingMemory))
	mod, err := h.rt.InstantiateModule(v.ctx, p.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("hostsim: plugin %q: instantiate: %w", p.spec.Name, err)
	}
	v.mod = mod
	v.mem = mod.Memory()
	if v.mem == nil {
		return nil, fmt.Errorf("hostsim: plugin %q: module exports no memory", p.spec.Name)
	}
	f := mod.ExportedFunction
	// Both reference hosts call an exported malloc in preference to proxy_on_memory_allocate (proxy-wasm-cpp-host
	// WasmBase::getFunctions; ngx_wasm_module ngx_proxy_wasm_filter_init looks up "malloc" first), and never free
	// what they allocate through it: a module exporting libc's malloc (raw TinyGo output) leaks every body there,
	// so hostsim must call the same function to show it.
	v.fnAlloc = f("malloc")
	if v.fnAlloc == nil {
		v.fnAlloc = f("proxy_on_memory_allocate")
	}
	v.fnContextCreate, v.fnVMStart, v.fnConfigure = f("proxy_on_context_create"), f("proxy_on_vm_start"), f("proxy_on_configure")
	v.fnReqHeaders, v.fnReqBody, v.fnReqTrailers = f("proxy_on_request_headers"), f("proxy_on_request_body"), f("proxy_on_request_trailers")
	v.fnRespHeaders, v.fnRespBody, v.fnRespTrailers = f("proxy_on_response_headers"), f("proxy_on_response_body"), f("proxy_on_response_trailers")
	v.fnLog, v.fnDone, v.fnDelete = f("proxy_on_log"), f("proxy_on_done"), f("proxy_on_delete")
	v.fnHTTPCallResp, v.fnTick, v.fnQueue = f("proxy_on_http_call_response"), f("proxy_on_tick"), f("proxy_on_queue_ready")
	return v, nil
}

// rootOf returns the plugin's root context in this VM.
func (v *vm) rootOf(p *plugin) *root {
	for _, r := range v.roots {
		if r.p == p {
			return r
		}
	}
	return nil
}

// rootByID returns the root context with that id, or nil.
func (v *vm) rootByID(id uint32) *root {
	for _, r := range v.roots {
		if r.id == id {
			return r
		}
	}
	return nil
}

// start runs what Envoy runs in every VM: _initialize (restricted host calls), then
// for every hosted plugin on_context_create(root, 0), on_vm_start and on_configure.
func (v *vm) start() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	init := v.mod.ExportedFunction("_initialize")
	if init == nil {
		init = v.mod.ExportedFunction("_start")
	}
	if init != nil {
		if !v.h.cfg.Profile.isKong() {
			v.restrict = restrictInit
		}
		_, err := v.callLocked(nil, cbInit, init, 0)
		v.restrict = restrictNone
		if err != nil {
			return fmt.Errorf("_initialize trapped: %s", v.trapMsg)
		}
	}
	if v.fnContextCreate == nil || v.fnVMStart == nil || v.fnConfigure == nil {
		return errors.New("module lacks proxy_on_context_create, proxy_on_vm_start or proxy_on_configure")
	}
	for _, rt := range v.roots {
		if err := v.startRoot(rt); err != nil {
			return &startError{p: rt.p, err: err}
		}
	}
	return nil
}

// startError says which plugin of a shared VM failed to start.
type startError struct {
	p   *plugin
	err error
}

func (e *startError) Error() string { return e.err.Error() }

func (v *vm) startRoot(rt *root) error {
	id := uint64(rt.id)
	if _, err := v.callLocked(nil, cbContextCreate, v.fnContextCreate, rt.id, id, 0); err != nil {
		return fmt.Errorf("proxy_on_context_create trapped: %s", v.trapMsg)
	}
	r, err := v.callLocked(nil, cbVMStart, v.fnVMStart, rt.id, id, uint64(len(rt.p.spec.VMConfig)))
	if err != nil {
		return fmt.Errorf("proxy_on_vm_start trapped: %s", v.trapMsg)
	}
	if uint32(r) == 0 {
		return errors.New("proxy_on_vm_start returned false")
	}
	r, err = v.callLocked(nil, cbConfigure, v.fnConfigure, rt.id, id, uint64(len(rt.p.spec.Config)))
	if err != nil {
		return fmt.Errorf("proxy_on_configure trapped: %s", v.trapMsg)
	}
	if uint32(r) == 0 {
		return errors.New("proxy_on_configure returned false (configuration rejected)")
	}
	return nil
}

// callLocked calls a guest export; v.mu must be held. active is the context id the call
// is for (its first argument for context callbacks). It returns the first result.
func (v *vm) callLocked(s *Stream, cb cbKind, fn api.Function, active uint32, args ...uint64) (uint64, error) {
	if v.failed {
		return 0, errors.New(v.trapMsg)
	}
	if fn == nil {
		return 0, nil
	}
	prevCb, prevActive, prevEff, prevStream, prevP, prevRt := v.cb, v.active, v.effective, v.stream, v.p, v.rt
	v.cb, v.active, v.effective, v.stream = cb, active, active, s
	if rt := v.rootByID(active); rt != nil {
		v.p, v.rt = rt.p, rt
	} else if f := v.ctxs[active]; f != nil {
		v.p, v.rt = f.p, f.root
	}
	v.stderr = v.stderr[:0]
	v.localCnt = 0
	stack := v.stack[:]
	copy(stack, args)
	if v.h.tracer != nil {
		v.h.tracer.callback(v, cb, args)
	}
	err := fn.CallWithStack(v.ctx, stack)
	v.flushStd()
	if err != nil {
		v.fail(cb, err)
	}
	v.cb, v.active, v.effective, v.stream, v.p, v.rt = prevCb, prevActive, prevEff, prevStream, prevP, prevRt
	if err != nil {
		return 0, err
	}
	var res uint64
	if len(fn.Definition().ResultTypes()) > 0 {
		res = stack[0]
	}
	if v.h.tracer != nil {
		v.h.tracer.callbackRet(v, cb, res, len(fn.Definition().ResultTypes()) > 0)
	}
	return res, nil
}

// fail marks the VM dead after a trap and logs why.
func (v *vm) fail(cb cbKind, err error) {
	v.failed = true
	msg := err.Error()
	var te *trapError
	if errors.As(err, &te) {
		msg = te.msg
	} else if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	// The Go runtime's own explanation: "panic: ...", "fatal error: ...".
	var why []string
	for _, l := range v.stderr {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "panic during panic") {
			why = append(why, l)
		}
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	v.trapMsg = fmt.Sprintf("%s: %s trapped: %s", v.p.spec.Name, cb, msg)
	v.log(LogEntry{Level: LogCritical, Message: v.trapMsg, Source: "hostsim"})
}

func (v *vm) log(e LogEntry) {
	e.Plugin = v.p.spec.Name
	e.Worker = v.worker
	v.h.addLog(e, v.stream)
}

func (v *vm) close() {
	if v.mod != nil {
		_ = v.mod.Close(context.Background())
	}
}

// ---- guest memory helpers ----

func (v *vm) read(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	return v.mem.Read(ptr, size)
}

func (v *vm) readString(ptr, size uint32) (string, bool) {
	b, ok := v.read(ptr, size)
	return string(b), ok
}

func (v *vm) writeU32(ptr, val uint32) bool { return v.mem.WriteUint32Le(ptr, val) }

func (v *vm) writeU64(ptr uint32, val uint64) bool { return v.mem.WriteUint64Le(ptr, val) }

// alloc copies data into guest memory through proxy_on_memory_allocate, as every host
// does. zeroAlloc makes the host call the allocator even for empty data (Kong does so
// for empty header and shared-data values; the Go SDK panics on it).
func (v *vm) alloc(data []byte, zeroAlloc bool) (uint32, bool) {
	if len(data) == 0 && !zeroAlloc {
		return 0, true
	}
	if v.fnAlloc == nil {
		return 0, false
	}
	prev := v.restrict
	if !v.h.cfg.Profile.isKong() {
		v.restrict = restrictAlloc
	}
	v.allocStack[0] = uint64(len(data))
	var size0 uint32
	var t0 time.Duration
	timed := v.h.timeAllocs.Load()
	if timed {
		size0, t0 = v.mem.Size(), callClock()
	}
	err := v.fnAlloc.CallWithStack(v.ctx, v.allocStack[:])
	if timed {
		v.h.recordAlloc(AllocSample{Plugin: v.p.spec.Name, Size: len(data), CPU: callClock() - t0, Grew: v.mem.Size() != size0})
	}
	v.restrict = prev
	if err != nil {
		// Propagate the guest's trap through the host function that allocated.
		panic(err)
	}
	ptr := uint32(v.allocStack[0])
	if ptr == 0 {
		return 0, false
	}
	if len(data) > 0 && !v.mem.Write(ptr, data) {
		return 0, false
	}
	return ptr, true
}

// writeResult allocates data in the guest and writes its pointer and size to the
// return slots. Envoy writes 0/0 without allocating for empty data.
func (v *vm) writeResult(data []byte, retPtr, retSize uint32, zeroAlloc bool) uint32 {
	ptr, ok := v.alloc(data, zeroAlloc)
	if !ok {
		return statusInvalidMemoryAccess
	}
	if !v.writeU32(retPtr, ptr) || !v.writeU32(retSize, uint32(len(data))) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

// current returns the filter state of the effective context, or nil for the root.
func (v *vm) current() *filterState {
	if v.effective == 0 || v.rootByID(v.effective) != nil {
		return nil
	}
	fs := v.ctxs[v.effective]
	if fs != nil {
		v.touch(fs)
	}
	return fs
}

func (v *vm) touch(fs *filterState) {
	for _, t := range v.touched {
		if t == fs {
			return
		}
	}
	v.touched = append(v.touched, fs)
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

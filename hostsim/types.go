package hostsim

import (
	"fmt"
	"strings"
	"time"
)

// Profile selects which real host hostsim imitates: its WASI surface, its proxy-wasm
// host-function quirks and its stream semantics. See /work/shared/notes/proxy-wasm-hosts.md.
type Profile string

const (
	// ProfileEnvoy is Envoy ≥ 1.33 with proxy-wasm-cpp-host #427 (the default and the
	// strictest realistic target): poll_oneoff answers ENOSYS, so a Go module that owns a
	// timer dies at its next GC; only the #427 WASI functions exist.
	ProfileEnvoy Profile = "envoy"
	// ProfileEnvoyFullWASI is Envoy with cpp-host #533: every wasip1 function is
	// registered and poll_oneoff succeeds with nevents=0.
	ProfileEnvoyFullWASI Profile = "envoy-fullwasi"
	// ProfileKong is Kong Gateway 3.4–3.10 (ngx_wasm_module): ENOTSUP for poll_oneoff and
	// sched_yield, string properties, headers end_of_stream always false, the request
	// body delivered once and complete, allocator called with size 0 for empty values,
	// traps for not-yet-implemented host functions, 500 + instance recycle on a trap.
	ProfileKong Profile = "kong"
)

// Profiles lists every supported profile, strictest first.
var Profiles = []Profile{ProfileEnvoy, ProfileEnvoyFullWASI, ProfileKong}

func (p Profile) valid() bool {
	switch p {
	case ProfileEnvoy, ProfileEnvoyFullWASI, ProfileKong:
		return true
	}
	return false
}

func (p Profile) isKong() bool { return p == ProfileKong }

// FailurePolicy is what the host does after a plugin's VM trapped (Envoy
// failure_policy). The zero value means the profile default: FailClosed for Envoy,
// FailReload with status 500 for Kong.
type FailurePolicy string

const (
	// FailClosed answers 503 on the failing stream and on every later stream that
	// reaches the plugin on that worker (Envoy default).
	FailClosed FailurePolicy = "fail_closed"
	// FailOpen skips the failed plugin for the failing stream and every later one.
	FailOpen FailurePolicy = "fail_open"
	// FailReload fails the current stream (503; Kong: 500) and gives later streams a
	// freshly started VM (Envoy FAIL_RELOAD, Kong's instance recycling).
	FailReload FailurePolicy = "fail_reload"
)

// PluginSpec is one filter in the chain.
type PluginSpec struct {
	Name   string // plugin name (Envoy config.name); also the metric/log label
	Wasm   []byte // the module bytes (see DistWasm)
	Config []byte // plugin configuration, delivered in proxy_on_configure
	// VMConfig is the VM configuration (proxy_on_vm_start); VMID the shared-data and
	// queue namespace (Istio leaves it empty, so every plugin shares ""). RootID is
	// reported as the plugin_root_id property.
	VMConfig []byte
	VMID     string
	RootID   string
	// FailurePolicy after a trap; zero means the profile default.
	FailurePolicy FailurePolicy
	// AllowOnHeadersStopIteration is Envoy ≥ 1.35's allow_on_headers_stop_iteration:
	// Pause from a headers callback becomes StopIteration (body still delivered to
	// the plugin) instead of StopAllIterationAndWatermark.
	AllowOnHeadersStopIteration bool
}

// Config configures a Host.
type Config struct {
	Profile Profile      // default ProfileEnvoy
	Workers int          // worker VMs per plugin (default 2); plus a canary unless NoCanary
	Plugins []PluginSpec // the filter chain, in request order
	// NoCanary skips the throw-away canary VM Envoy starts per plugin before the
	// workers. Kong has no canary, so the Kong profile never starts one.
	NoCanary bool
	// ChunkSize, when set, splits every request Body (Request.ChunkSize 0) and every
	// upstream response Body (Response.Chunks nil) into chunks of this size, like the
	// ≤ 16 KiB reads of a real proxy, so a whole suite exercises chunked delivery.
	ChunkSize int
	// EmptyLastChunk makes every request and response body end with a separate empty
	// end_of_stream chunk (see Request.EmptyLastChunk).
	EmptyLastChunk bool
	// BufferLimit caps what a filter may buffer (Envoy per_connection_buffer_limit_bytes,
	// default 1 MiB): request over it ⇒ 413, response ⇒ 500 or a reset.
	BufferLimit int
	// Env is the environment the module sees through environ_get (Envoy:
	// vm_config.environment_variables; empty by default).
	Env map[string]string
	// Properties are host-wide property values (keys are dot-separated paths, values raw
	// bytes in the profile's encoding, e.g. EnvoyInt); streams can override them.
	Properties map[string][]byte
	// KongSharedKV says a Kong shm_kv zone is configured (nginx_wasm_shm_kv). Without it
	// the Kong profile traps on shared-data calls, as Kong does.
	KongSharedKV bool
	// KongClientBodyBufferSize is Kong's nginx_http_client_body_buffer_size: request
	// bodies larger than it are spilled to a file and unreadable by filters (Kong's
	// default 8 KiB when 0; -1 = unlimited).
	KongClientBodyBufferSize int
	// Callouts registers http_call handlers per cluster (Envoy) or host:port (Kong)
	// before the plugins start; see Host.HandleCallouts.
	Callouts map[string]CalloutHandler
	// ForeignFunctions adds or replaces foreign functions the host offers.
	ForeignFunctions map[string]func(args []byte) ([]byte, error)
	// OnLog, when set, receives every log entry as it is emitted (e.g. to print a
	// development gateway's logs live). It must not call back into the Host.
	OnLog func(LogEntry)
	// CopyingMemory backs each VM's linear memory with a Go []byte that memory.grow reallocates and copies
	// (wazero's default) instead of a reservation of the memory's maximum size that grows in place (Envoy's V8
	// and WAMR, and hostsim by default): only to measure what that copying costs (make bench's allocation cells).
	CopyingMemory bool
	// TimeAllocations records every call of a guest's allocator by the host (Host.AllocSamples): its size, the
	// calling thread's CPU time during the call and whether it grew the linear memory. Lock the calling goroutine
	// to its OS thread (runtime.LockOSThread) for the times to be the guest's.
	TimeAllocations bool
	// LogLimit caps the entries Host.Logs and Host.Callouts keep (default 100000; the
	// oldest are dropped), so a long-running Host does not grow without bound.
	LogLimit int
	// Trace records every ABI call; New prints the trace with t.Log when the test fails.
	Trace bool
	// TraceLimit caps the kept trace lines (default 5000, most recent kept).
	TraceLimit int
	// Now is the host clock (default time.Now).
	Now func() time.Time
}

// Request is what a downstream client sends.
type Request struct {
	Method    string      // default POST when Body is set, else GET
	Path      string      // default "/"
	Authority string      // default "localhost"
	Headers   [][2]string // regular headers (names are lower-cased); pseudo-headers are added
	Body      []byte
	// ChunkSize splits Body into chunks delivered one by one (0 = one chunk). Envoy's
	// real flow-control chunk is 16 KiB.
	ChunkSize int
	Trailers  [][2]string
	// Properties overrides property values for this stream (dot-separated paths).
	Properties map[string][]byte
	// Route is the route name: xds.route_name on Envoy, kong.route_name on Kong.
	Route string
	// NoContentLength stops hostsim adding a content-length header for Body.
	NoContentLength bool
	// EmptyLastChunk ends the body with a separate empty chunk carrying end_of_stream,
	// as Envoy delivers a chunked (HTTP/1.1 Transfer-Encoding: chunked) body: the plugin
	// then sees its last data with end_of_stream=false and a final (0, true) call.
	EmptyLastChunk bool
}

// Response is what the upstream answers.
type Response struct {
	Status   int // default 200
	Headers  [][2]string
	Body     []byte   // used when Chunks is nil
	Chunks   [][]byte // streamed body, delivered chunk by chunk
	Trailers [][2]string
	// EmptyLastChunk ends the body with a separate empty end_of_stream chunk, as a
	// chunked or streamed (SSE) upstream response arrives in Envoy.
	EmptyLastChunk bool
}

// UpstreamRequest is the request as the upstream received it.
type UpstreamRequest struct {
	Method, Path, Authority string
	Headers                 [][2]string // including pseudo-headers
	Body                    []byte
	Trailers                [][2]string
}

// Header returns the first value of a header (case-insensitive) and whether it exists.
func (u *UpstreamRequest) Header(name string) (string, bool) { return lookup(u.Headers, name) }

// LogLevel is a proxy-wasm log level.
type LogLevel int

// Log levels as in the proxy-wasm ABI.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// LogEntry is one log line emitted by a plugin (proxy_log, or a write to stdout/stderr,
// one entry per fd_write as Envoy does) or by hostsim itself (Source "hostsim", e.g. a
// trap).
type LogEntry struct {
	Level   LogLevel
	Message string
	Plugin  string
	Worker  int    // -1 for the canary
	Source  string // "proxy_log", "stdout", "stderr" or "hostsim"
}

func (e LogEntry) String() string {
	return fmt.Sprintf("[%s] %s(w%d) %s: %s", e.Level, e.Plugin, e.Worker, e.Source, e.Message)
}

// Callback records one callback hostsim made into a plugin for a stream, and the
// action the plugin returned (0 Continue, 1 Pause, raw values kept). Action is -1 for
// callbacks without a result.
type Callback struct {
	Plugin string
	Name   string // e.g. "proxy_on_request_body"
	Args   []uint64
	Action int
}

// Result is what happened to one request.
type Result struct {
	// Upstream is the request as the upstream received it; nil when it never received a
	// complete request (blocked, reset or hung). UpstreamHeadersSent reports whether
	// request headers already went upstream, which happens with the Go SDK idiom
	// "Continue headers, Pause body" even when the body is later blocked.
	Upstream            *UpstreamRequest
	UpstreamHeadersSent bool

	Status   int         // status the client got (0 when none: reset or hung)
	Headers  [][2]string // response headers the client got, including ":status"
	Body     []byte      // concatenated body the client got
	Chunks   [][]byte    // the body as released to the client, chunk by chunk
	Trailers [][2]string

	LocalReply        bool   // the response was generated by a plugin or the host
	LocalReplyPlugin  string // who sent it ("hostsim" for host-generated replies)
	LocalReplyDetails string // response code details (e.g. "wasm_fail_stream")
	Reset             bool   // the stream was reset (e.g. local reply after headers went out)
	Hung              bool   // a plugin paused and nothing resumed the stream
	HungWhy           string // which plugin holds a hung stream and why (also logged; see below)
	Trapped           bool   // a plugin VM trapped while handling this request
	Traps             []string
	// HungWhy: e.g. a Pause from on_response_headers without allow_on_headers_stop_iteration: Envoy then holds
	// the body (StopAllIterationAndWatermark) and never delivers it to the plugin that waits for it; a real
	// Envoy ends such a stream only at its route or idle timeout. The text is logged (Source "hostsim").

	Logs      []LogEntry // logs emitted while handling this request
	Callbacks []Callback // every callback made for this stream, in order
	Callouts  []CalloutRequest
}

// Header returns the first value of a response header (case-insensitive).
func (r *Result) Header(name string) (string, bool) { return lookup(r.Headers, name) }

// LogsAt returns the messages logged at level min or above.
func (r *Result) LogsAt(min LogLevel) []string { return logsAt(r.Logs, min) }

func logsAt(logs []LogEntry, min LogLevel) []string {
	var out []string
	for _, e := range logs {
		if e.Level >= min {
			out = append(out, e.Message)
		}
	}
	return out
}

// Action returns the action a plugin returned from the last call of the named
// callback (e.g. "proxy_on_request_body"), or -1 when it was never called.
func (r *Result) Action(plugin, callback string) int {
	for i := len(r.Callbacks) - 1; i >= 0; i-- {
		c := r.Callbacks[i]
		if c.Plugin == plugin && c.Name == callback {
			return c.Action
		}
	}
	return -1
}

// CalloutRequest is one proxy_http_call as the host received it.
type CalloutRequest struct {
	Plugin   string
	Worker   int
	Cluster  string // upstream argument: Envoy cluster name, Kong host[:port]
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	Timeout  time.Duration
}

// Header returns the first value of a callout header.
func (c *CalloutRequest) Header(name string) (string, bool) { return lookup(c.Headers, name) }

// CalloutResponse is a scripted answer to an http_call.
type CalloutResponse struct {
	Status   int // default 200
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	// Reset delivers a transport failure (on_http_call_response with 0 headers; Envoy
	// proxy_get_status = 11 "reset"); Timeout delivers Envoy's synthetic 504.
	Reset   bool
	Timeout bool
	// Never leaves the call unanswered (the plugin waits forever).
	Never bool
}

// CalloutHandler answers one http_call.
type CalloutHandler func(CalloutRequest) CalloutResponse

func lookup(h [][2]string, name string) (string, bool) {
	for _, p := range h {
		if strings.EqualFold(p[0], name) {
			return p[1], true
		}
	}
	return "", false
}

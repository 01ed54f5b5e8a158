package hostsim

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wasi427 is the WASI set proxy-wasm-cpp-host registers after PR #427 (Envoy ≥ 1.33).
var wasi427 = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
	"fd_prestat_get", "fd_prestat_dir_name", "environ_get", "environ_sizes_get", "args_get",
	"args_sizes_get", "clock_time_get", "random_get", "proc_exit", "path_open", "sched_yield",
	"poll_oneoff",
}

// wasiKong is ngx_wasm_module's WASI set (Kong 3.4–3.10).
var wasiKong = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
	"fd_prestat_get", "fd_prestat_dir_name", "environ_get", "environ_sizes_get", "args_get",
	"args_sizes_get", "clock_time_get", "random_get", "proc_exit", "path_open", "sched_yield",
	"poll_oneoff",
}

// proxyCommon is cpp-host's FOR_ALL_HOST_FUNCTIONS (registered whatever the ABI).
var proxyCommon = []string{
	"proxy_log", "proxy_get_status", "proxy_set_property", "proxy_get_property",
	"proxy_send_local_response", "proxy_get_shared_data", "proxy_set_shared_data",
	"proxy_register_shared_queue", "proxy_resolve_shared_queue", "proxy_dequeue_shared_queue",
	"proxy_enqueue_shared_queue", "proxy_get_header_map_value", "proxy_add_header_map_value",
	"proxy_replace_header_map_value", "proxy_remove_header_map_value",
	"proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_size",
	"proxy_get_buffer_status", "proxy_get_buffer_bytes", "proxy_set_buffer_bytes",
	"proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream", "proxy_grpc_close",
	"proxy_grpc_cancel", "proxy_grpc_send", "proxy_set_tick_period_milliseconds",
	"proxy_get_current_time_nanoseconds", "proxy_define_metric", "proxy_increment_metric",
	"proxy_record_metric", "proxy_get_metric", "proxy_set_effective_context", "proxy_done",
	"proxy_call_foreign_function",
}

// kongNYI are the proxy-wasm functions Kong registers but traps on when called.
var kongNYI = map[string]bool{
	"proxy_get_log_level": true, "proxy_done": true, "proxy_close_stream": true,
	"proxy_resolve_shared_queue": true, "proxy_grpc_call": true, "proxy_grpc_stream": true,
	"proxy_grpc_close": true, "proxy_grpc_cancel": true, "proxy_grpc_send": true,
	"proxy_get_status": true, "proxy_get_header_map_size": true, "proxy_get_buffer_status": true,
	"proxy_continue_request": true, "proxy_continue_response": true,
	"proxy_clear_route_cache": true, "proxy_get_configuration": true,
}

// abiVersions maps the proxy_abi_version_* export to the ABI it declares.
var abiVersions = []string{"0_2_1", "0_2_0", "0_1_0"}

// proxyFuncsFor returns the proxy-wasm functions a profile links for a module ABI.
func proxyFuncsFor(p Profile, abi string) map[string]bool {
	m := map[string]bool{}
	for _, n := range proxyCommon {
		m[n] = true
	}
	m["pthread_equal"] = true
	m["emscripten_notify_memory_growth"] = true
	if p.isKong() {
		// Kong registers every name of every ABI version; NYI ones trap when called.
		for n := range kongNYI {
			m[n] = true
		}
		m["proxy_continue_stream"] = true
		delete(m, "pthread_equal")
		delete(m, "emscripten_notify_memory_growth")
		return m
	}
	m["envoy_resolve_dns"] = true
	switch abi {
	case "0_1_0":
		for _, n := range []string{"proxy_get_configuration", "proxy_continue_request", "proxy_continue_response", "proxy_clear_route_cache"} {
			m[n] = true
		}
	case "0_2_1":
		m["proxy_get_log_level"] = true
		fallthrough
	default:
		m["proxy_continue_stream"] = true
		m["proxy_close_stream"] = true
	}
	return m
}

func wasiFuncsFor(p Profile) map[string]bool {
	m := map[string]bool{}
	switch p {
	case ProfileEnvoyFullWASI:
		for n := range wasiSigs {
			m[n] = true
		}
	case ProfileKong:
		for _, n := range wasiKong {
			m[n] = true
		}
	default:
		for _, n := range wasi427 {
			m[n] = true
		}
	}
	return m
}

// ModuleReport describes a module and how each profile would treat it.
type ModuleReport struct {
	ABI      string   // e.g. "0.2.0"; "" when the module exports no proxy_abi_version_*
	Exports  []string // exported functions, sorted
	Imports  []string // "module.name", in import order
	Memory   bool     // exports "memory"
	Profiles []ProfileReport
}

// ProfileReport says whether a profile loads the module and what to watch for.
type ProfileReport struct {
	Profile  Profile
	Loads    bool
	Missing  []string // imports the host does not offer ("module.name")
	Problems []string // other load errors (no ABI export, no memory, ...)
	Warnings []string // APIs whose semantics differ on this host
}

// CheckModule compiles a module (using the process-wide cache) and reports its ABI,
// exports, imports, and per profile whether it loads and which imported APIs behave
// differently there. It never runs the module.
func CheckModule(wasm []byte) (*ModuleReport, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("hostsim: compile module: %w", err)
	}
	return reportFor(cm), nil
}

func moduleABI(cm wazero.CompiledModule) string {
	ex := cm.ExportedFunctions()
	for _, v := range abiVersions {
		if _, ok := ex["proxy_abi_version_"+v]; ok {
			return v
		}
	}
	return ""
}

func reportFor(cm wazero.CompiledModule) *ModuleReport {
	r := &ModuleReport{}
	abi := moduleABI(cm)
	r.ABI = strings.ReplaceAll(abi, "_", ".")
	for name := range cm.ExportedFunctions() {
		r.Exports = append(r.Exports, name)
	}
	sort.Strings(r.Exports)
	_, r.Memory = cm.ExportedMemories()["memory"]
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		r.Imports = append(r.Imports, mod+"."+name)
	}
	for _, p := range Profiles {
		r.Profiles = append(r.Profiles, checkProfile(cm, p, abi))
	}
	return r
}

func checkProfile(cm wazero.CompiledModule, p Profile, abi string) ProfileReport {
	pr := ProfileReport{Profile: p}
	if abi == "" {
		pr.Problems = append(pr.Problems, "missing or unknown proxy-wasm ABI version (no proxy_abi_version_* export)")
	} else if abi == "0_1_0" {
		pr.Problems = append(pr.Problems, "proxy-wasm ABI 0.1.0 is not supported by hostsim")
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		pr.Problems = append(pr.Problems, "module does not export its memory")
	}
	if _, ok := cm.ExportedFunctions()["_initialize"]; !ok {
		if _, ok := cm.ExportedFunctions()["_start"]; !ok {
			pr.Warnings = append(pr.Warnings, "no _initialize or _start export: the runtime is never initialised")
		}
	}
	ex := cm.ExportedFunctions()
	if _, ok := ex["proxy_on_memory_allocate"]; !ok {
		if _, ok := ex["malloc"]; !ok {
			pr.Problems = append(pr.Problems, "no proxy_on_memory_allocate (or malloc) export")
		}
	}
	if _, ok := ex["malloc"]; ok {
		pr.Warnings = append(pr.Warnings, "exports malloc: Envoy and Kong allocate every value they pass to the module with it, "+
			"in preference to proxy_on_memory_allocate, and never free it (a libc malloc, as TinyGo exports, leaks each body; "+
			"tools/unexport strips it)")
	}
	proxy := proxyFuncsFor(p, abi)
	wasi := wasiFuncsFor(p)
	seen := map[string]bool{}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		full := mod + "." + name
		ok := false
		switch mod {
		case "env":
			ok = proxy[name]
			if ok {
				if sig, known := proxySigs[name]; known && !sameTypes(sig.params, f.ParamTypes()) {
					pr.Problems = append(pr.Problems, fmt.Sprintf("import type mismatch: %s", full))
				}
			}
		case "wasi_snapshot_preview1", "wasi_unstable":
			ok = wasi[name]
			if ok {
				if sig, known := wasiSigs[name]; known && !sameTypes(sig.params, f.ParamTypes()) {
					pr.Problems = append(pr.Problems, fmt.Sprintf("import type mismatch: %s", full))
				}
			}
		}
		if !ok {
			if !seen[full] {
				pr.Missing = append(pr.Missing, full)
				seen[full] = true
			}
			continue
		}
		if w := importWarning(p, name); w != "" && !seen["w:"+name] {
			seen["w:"+name] = true
			pr.Warnings = append(pr.Warnings, name+": "+w)
		}
	}
	pr.Loads = len(pr.Missing) == 0 && len(pr.Problems) == 0
	return pr
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// importWarning explains, per host, semantics that differ from the other hosts (§13).
func importWarning(p Profile, name string) string {
	if p.isKong() {
		if kongNYI[name] {
			return "registered but not implemented: calling it traps"
		}
		switch name {
		case "poll_oneoff", "sched_yield":
			return "answers ENOTSUP: a Go module with a live timer crashes at its next GC"
		case "proc_exit":
			return "not implemented: a Go panic traps (500, instance recycled)"
		case "proxy_get_header_map_value":
			return "an empty header value makes the host allocate 0 bytes, which panics the Go SDK"
		case "proxy_get_shared_data", "proxy_set_shared_data":
			return "needs an shm_kv zone (nginx_wasm_shm_kv) or the call traps; a NULL value deletes"
		case "proxy_register_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue":
			return "needs an shm_queue zone; proxy_on_queue_ready is never called"
		case "proxy_set_tick_period_milliseconds":
			return "root context only and only once, else the call traps"
		case "proxy_get_buffer_bytes", "proxy_set_buffer_bytes":
			return "bodies only in their own phase (else trap); request bodies over client_body_buffer_size (8k) are unreadable"
		case "proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value", "proxy_set_header_map_pairs":
			return "wrong phase traps; trailer maps are not implemented"
		case "proxy_send_local_response":
			return "appends \"\\n\" to the body, a second call traps, status must be 100..999"
		case "proxy_http_call":
			return "upstream is host:port (not a cluster), only in request/tick/callout phases, the chain resumes automatically"
		case "proxy_get_property", "proxy_set_property":
			return "every value is a string and the catalog differs (no xds.*, request.host is the server name)"
		case "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric":
			return "errors trap instead of returning a status; names become pw:<filter>:<name>"
		case "environ_get", "environ_sizes_get":
			return "exposes the nginx worker's full environment to the module"
		case "random_get":
			return "ngx_random(): not a CSPRNG"
		}
		return ""
	}
	switch name {
	case "poll_oneoff":
		if p == ProfileEnvoy {
			return "answers ENOSYS before cpp-host #533: a Go module with a live timer crashes at its next GC"
		}
	case "proxy_get_header_map_value":
		return "returns only the first value of a repeated header; use the pairs API for security checks"
	case "proxy_set_buffer_bytes":
		return "no mid-buffer injection (0 < start < len is BAD_ARGUMENT)"
	case "proxy_send_local_response":
		return "deferred until the callback returns, re-enters the plugin's response callbacks, resets the stream after response headers were sent"
	case "proxy_http_call":
		return "upstream must be an existing cluster and :method/:path/:authority are required; the plugin must resume the stream itself"
	case "proxy_increment_metric":
		return "a counter increment <= 0 is BAD_ARGUMENT (the Go SDK panics)"
	case "proxy_get_metric":
		return "reading a histogram is BAD_ARGUMENT (the Go SDK panics)"
	case "proxy_get_property":
		return "typed binary values (8-byte little-endian ints, 1-byte bools)"
	case "proxy_continue_stream":
		return "deferred; afterwards request headers/body are no longer accessible"
	case "proxy_set_tick_period_milliseconds":
		return "ticks fire in every worker VM"
	case "random_get":
		return "more than 64 KiB per call is EINVAL (crypto/rand then aborts)"
	}
	return ""
}

// missingImports returns the imports the profile cannot satisfy for this module, and
// other load problems, as one error naming every missing module.function.
func loadError(name string, cm wazero.CompiledModule, p Profile) error {
	pr := checkProfile(cm, p, moduleABI(cm))
	if pr.Loads {
		return nil
	}
	var parts []string
	if len(pr.Missing) > 0 {
		parts = append(parts, "missing imports: "+strings.Join(pr.Missing, ", "))
		for _, m := range pr.Missing {
			if strings.Contains(m, ".path_") || strings.Contains(m, ".fd_filestat") || strings.Contains(m, ".fd_readdir") {
				parts = append(parts, "(WASI file-system imports come from Go code using os/io/fs file APIs, often pulled in through net/http; the real gateway refuses to load such a module)")
				break
			}
		}
	}
	parts = append(parts, pr.Problems...)
	return fmt.Errorf("hostsim: plugin %q cannot load on profile %s: %s", name, p, strings.Join(parts, "; "))
}

package hostsim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// proxySigs lists every proxy-wasm host function hostsim registers under "env", with
// its parameter names. All return a proxy_status_t (i32) unless noted.
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1.
var proxySigs = map[string]sig{
	"proxy_log":                          s32("log_level", "message_data", "message_size"),
	"proxy_get_log_level":                s32("return_log_level"),
	"proxy_get_status":                   s32("return_status_code", "return_message_data", "return_message_size"),
	"proxy_set_effective_context":        s32("context_id"),
	"proxy_done":                         s32(),
	"proxy_get_current_time_nanoseconds": s32("return_time"),
	"proxy_get_buffer_bytes":             s32("buffer_type", "start", "max_size", "return_buffer_data", "return_buffer_size"),
	"proxy_set_buffer_bytes":             s32("buffer_type", "start", "size", "buffer_data", "buffer_size"),
	"proxy_get_buffer_status":            s32("buffer_type", "return_length", "return_flags"),
	"proxy_get_header_map_pairs":         s32("map_type", "return_map_data", "return_map_size"),
	"proxy_set_header_map_pairs":         s32("map_type", "map_data", "map_size"),
	"proxy_get_header_map_value":         s32("map_type", "key_data", "key_size", "return_value_data", "return_value_size"),
	"proxy_add_header_map_value":         s32("map_type", "key_data", "key_size", "value_data", "value_size"),
	"proxy_replace_header_map_value":     s32("map_type", "key_data", "key_size", "value_data", "value_size"),
	"proxy_remove_header_map_value":      s32("map_type", "key_data", "key_size"),
	"proxy_get_header_map_size":          s32("map_type", "return_size"),
	"proxy_continue_stream":              s32("stream_type"),
	"proxy_close_stream":                 s32("stream_type"),
	"proxy_send_local_response":          s32("status_code", "status_code_details_data", "status_code_details_size", "body_data", "body_size", "headers_data", "headers_size", "grpc_status"),
	"proxy_http_call":                    s32("upstream_data", "upstream_size", "headers_data", "headers_size", "body_data", "body_size", "trailers_data", "trailers_size", "timeout_ms", "return_call_id"),
	"proxy_grpc_call":                    s32("service_data", "service_size", "service_name_data", "service_name_size", "method_data", "method_size", "initial_metadata_data", "initial_metadata_size", "message_data", "message_size", "timeout_ms", "return_call_id"),
	"proxy_grpc_stream":                  s32("service_data", "service_size", "service_name_data", "service_name_size", "method_data", "method_size", "initial_metadata_data", "initial_metadata_size", "return_call_id"),
	"proxy_grpc_send":                    s32("call_id", "message_data", "message_size", "end_of_stream"),
	"proxy_grpc_cancel":                  s32("call_id"),
	"proxy_grpc_close":                   s32("call_id"),
	"proxy_get_shared_data":              s32("key_data", "key_size", "return_value_data", "return_value_size", "return_cas"),
	"proxy_set_shared_data":              s32("key_data", "key_size", "value_data", "value_size", "cas"),
	"proxy_register_shared_queue":        s32("queue_name_data", "queue_name_size", "return_queue_id"),
	"proxy_resolve_shared_queue":         s32("vm_id_data", "vm_id_size", "queue_name_data", "queue_name_size", "return_queue_id"),
	"proxy_enqueue_shared_queue":         s32("queue_id", "value_data", "value_size"),
	"proxy_dequeue_shared_queue":         s32("queue_id", "return_value_data", "return_value_size"),
	"proxy_define_metric":                s32("metric_type", "metric_name_data", "metric_name_size", "return_metric_id"),
	"proxy_increment_metric":             sigT([]api.ValueType{i32, i64}, "metric_id", "offset"),
	"proxy_record_metric":                sigT([]api.ValueType{i32, i64}, "metric_id", "value"),
	"proxy_get_metric":                   s32("metric_id", "return_value"),
	"proxy_set_tick_period_milliseconds": s32("tick_period"),
	"proxy_get_property":                 s32("property_path_data", "property_path_size", "return_property_value_data", "return_property_value_size"),
	"proxy_set_property":                 s32("property_path_data", "property_path_size", "property_value_data", "property_value_size"),
	"proxy_call_foreign_function":        s32("function_name_data", "function_name_size", "parameters_data", "parameters_size", "return_results_data", "return_results_size"),
	// ABI 0.1.0 names (Kong registers them; Envoy only for 0.1.0 modules).
	"proxy_get_configuration": s32("return_data", "return_size"),
	"proxy_continue_request":  s32(),
	"proxy_continue_response": s32(),
	"proxy_clear_route_cache": s32(),
	// Emscripten/Envoy extras cpp-host registers.
	"pthread_equal":                   s32("left", "right"),
	"emscripten_notify_memory_growth": {params: []api.ValueType{i32}, names: []string{"memory_index"}},
	"envoy_resolve_dns":               s32("dns_address_data", "dns_address_size", "return_token"),
}

// Host functions follow the proxy-wasm ABI 0.2.1 spec
// (https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1) with the statuses
// the real hosts return (Envoy's context.cc / cpp-host exports.cc, Kong's
// ngx_proxy_wasm_host.c), as summarised in /work/shared/notes/proxy-wasm-hosts.md §4.

func u32(x uint64) uint32 { return uint32(x) }

// proxyImpl returns the implementation of one proxy-wasm host function for the Host's
// profile. Every implementation writes its status to stack[0].
func (h *Host) proxyImpl(name string) func(v *vm, stack []uint64) {
	kong := h.cfg.Profile.isKong()
	if kong && kongNYI[name] {
		return func(v *vm, stack []uint64) { trap("host trap (function not yet implemented): %s", name) }
	}
	st := func(code uint32) func(*vm, []uint64) {
		return func(_ *vm, stack []uint64) { stack[0] = uint64(code) }
	}
	switch name {
	case "proxy_log":
		return abiLog
	case "proxy_get_log_level":
		return func(v *vm, stack []uint64) {
			stack[0] = okOrIMA(v.writeU32(u32(stack[0]), uint32(LogInfo)))
		}
	case "proxy_get_status":
		return func(v *vm, stack []uint64) {
			if !v.writeU32(u32(stack[0]), v.lastStatus.code) {
				stack[0] = statusInvalidMemoryAccess
				return
			}
			stack[0] = uint64(v.writeResult([]byte(v.lastStatus.msg), u32(stack[1]), u32(stack[2]), false))
		}
	case "proxy_set_effective_context":
		return abiSetEffectiveContext
	case "proxy_done":
		// OK only for a root context whose proxy_on_done returned false; the host then
		// deletes it after the current call.
		return func(v *vm, stack []uint64) {
			if v.rt == nil || v.rt.state != 1 || v.current() != nil {
				stack[0] = statusNotFound
				return
			}
			v.rt.state = 3
			stack[0] = statusOK
		}
	case "proxy_get_current_time_nanoseconds":
		return func(v *vm, stack []uint64) {
			stack[0] = okOrIMA(v.writeU64(u32(stack[0]), uint64(v.h.now().UnixNano())))
		}
	case "proxy_get_buffer_bytes":
		return abiGetBufferBytes
	case "proxy_set_buffer_bytes":
		return abiSetBufferBytes
	case "proxy_get_buffer_status":
		return func(v *vm, stack []uint64) {
			buf, code := v.buffer(u32(stack[0]))
			if code != statusOK {
				stack[0] = uint64(code)
				return
			}
			if !v.writeU32(u32(stack[1]), uint32(len(buf))) || !v.writeU32(u32(stack[2]), 0) {
				stack[0] = statusInvalidMemoryAccess
				return
			}
			stack[0] = statusOK
		}
	case "proxy_get_header_map_pairs":
		return abiGetHeaderMapPairs
	case "proxy_set_header_map_pairs":
		return abiSetHeaderMapPairs
	case "proxy_get_header_map_value":
		return abiGetHeaderMapValue
	case "proxy_add_header_map_value", "proxy_replace_header_map_value":
		replace := name == "proxy_replace_header_map_value"
		return func(v *vm, stack []uint64) { abiSetHeaderMapValue(v, stack, replace) }
	case "proxy_remove_header_map_value":
		return abiRemoveHeaderMapValue
	case "proxy_get_header_map_size":
		return func(v *vm, stack []uint64) {
			m, code := v.headerMap(u32(stack[0]), false)
			if code != statusOK {
				stack[0] = uint64(code)
				return
			}
			size := 0
			if m != nil {
				for _, p := range m.pairs {
					size += len(p[0]) + len(p[1])
				}
			}
			stack[0] = okOrIMA(v.writeU32(u32(stack[1]), uint32(size)))
		}
	case "proxy_continue_stream":
		return abiContinueStream
	case "proxy_close_stream":
		return abiCloseStream
	case "proxy_send_local_response":
		return abiSendLocalResponse
	case "proxy_http_call":
		return abiHTTPCall
	case "proxy_grpc_call", "proxy_grpc_stream":
		// No gRPC services are configured in hostsim: Envoy answers an unknown service
		// with PARSE_FAILURE.
		return st(statusParseFailure)
	case "proxy_grpc_send", "proxy_grpc_cancel", "proxy_grpc_close":
		return st(statusNotFound)
	case "proxy_get_shared_data":
		return abiGetSharedData
	case "proxy_set_shared_data":
		return abiSetSharedData
	case "proxy_register_shared_queue":
		return abiRegisterSharedQueue
	case "proxy_resolve_shared_queue":
		return abiResolveSharedQueue
	case "proxy_enqueue_shared_queue":
		return abiEnqueueSharedQueue
	case "proxy_dequeue_shared_queue":
		return abiDequeueSharedQueue
	case "proxy_define_metric":
		return abiDefineMetric
	case "proxy_increment_metric":
		return abiIncrementMetric
	case "proxy_record_metric":
		return abiRecordMetric
	case "proxy_get_metric":
		return abiGetMetric
	case "proxy_set_tick_period_milliseconds":
		return abiSetTickPeriod
	case "proxy_get_property":
		return abiGetProperty
	case "proxy_set_property":
		return abiSetProperty
	case "proxy_call_foreign_function":
		return abiCallForeignFunction
	case "proxy_get_configuration":
		return func(v *vm, stack []uint64) {
			stack[0] = uint64(v.writeResult(v.p.spec.Config, u32(stack[0]), u32(stack[1]), false))
		}
	case "proxy_continue_request", "proxy_continue_response", "proxy_clear_route_cache":
		return st(statusOK)
	case "pthread_equal":
		return func(_ *vm, stack []uint64) { stack[0] = b2u(u32(stack[0]) == u32(stack[1])) }
	case "emscripten_notify_memory_growth":
		return func(*vm, []uint64) {}
	case "envoy_resolve_dns":
		return st(statusBadArgument)
	}
	return st(statusUnimplemented)
}

func okOrIMA(ok bool) uint64 {
	if ok {
		return statusOK
	}
	return statusInvalidMemoryAccess
}

// ---- logging / context ----

// abiLog is proxy_log(level, message_data, message_size): level > 5 ⇒ BAD_ARGUMENT.
func abiLog(v *vm, stack []uint64) {
	level := u32(stack[0])
	if level > 5 {
		stack[0] = statusBadArgument
		return
	}
	msg, ok := v.readString(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	v.log(LogEntry{Level: LogLevel(level), Message: msg, Source: "proxy_log"})
	stack[0] = statusOK
}

// abiSetEffectiveContext is proxy_set_effective_context(context_id): Envoy ⇒
// BAD_ARGUMENT for an unknown id; Kong accepts and ignores it.
func abiSetEffectiveContext(v *vm, stack []uint64) {
	id := u32(stack[0])
	if v.h.cfg.Profile.isKong() {
		if f := v.ctxs[id]; f != nil {
			v.effective = id
			v.touch(f)
		}
		stack[0] = statusOK
		return
	}
	if v.rootByID(id) == nil {
		f := v.ctxs[id]
		if f == nil {
			stack[0] = statusBadArgument
			return
		}
		v.touch(f)
	}
	v.effective = id
	stack[0] = statusOK
}

// ---- buffers ----

const (
	bufRequestBody      = 0
	bufResponseBody     = 1
	bufHTTPCallResponse = 4
	bufVMConfiguration  = 6
	bufPluginConfig     = 7
	bufMax              = 8
)

// buffer returns the bytes of a buffer type as the current callback may see them.
func (v *vm) buffer(t uint32) ([]byte, uint32) {
	if t > bufMax {
		return nil, statusBadArgument
	}
	kong := v.h.cfg.Profile.isKong()
	switch t {
	case bufRequestBody, bufResponseBody:
		dir := int(t)
		if kong {
			allowed := (dir == dec && (v.cb == cbRequestBody || v.cb == cbLog)) || (dir == enc && v.cb == cbResponseBody)
			if dir == dec && v.cb == cbRequestHeaders {
				return nil, statusNotFound // not read yet (contexts/113 TEST 5: status 1, no trap)
			}
			if !allowed {
				trap("can only get %s body during on_%s_body", dirName(dir), dirName(dir))
			}
		}
		f := v.current()
		if f == nil {
			return nil, statusNotFound
		}
		if kong && dir == dec && v.h.cfg.KongClientBodyBufferSize >= 0 {
			limit := v.h.cfg.KongClientBodyBufferSize
			if limit == 0 {
				limit = 8 << 10
			}
			if len(f.ds[dir].buf) > limit {
				v.log(LogEntry{Level: LogError, Message: fmt.Sprintf("cannot read request body: %d bytes were buffered to a file (client_body_buffer_size %d; raise nginx_http_client_body_buffer_size)", len(f.ds[dir].buf), limit), Source: "hostsim"})
				return nil, statusNotFound
			}
		}
		if kong && dir == dec && v.cb == cbLog {
			// nginx keeps r->request_body: on_log reads the body as it went on (113 TEST 8).
			if len(f.s.upBody) == 0 {
				return nil, statusNotFound
			}
			return f.s.upBody, statusOK
		}
		return f.ds[dir].buf, statusOK
	case bufHTTPCallResponse:
		if v.cb != cbHTTPCallResponse || v.callout == nil {
			return nil, statusNotFound
		}
		return v.callout.result.body, statusOK
	case bufVMConfiguration:
		return v.p.spec.VMConfig, statusOK
	case bufPluginConfig:
		if v.cb != cbConfigure {
			return nil, statusNotFound
		}
		return v.p.spec.Config, statusOK
	}
	return nil, statusNotFound
}

func dirName(dir int) string {
	if dir == dec {
		return "request"
	}
	return "response"
}

// abiGetBufferBytes is proxy_get_buffer_bytes(type, start, max_size, ret_data, ret_size).
func abiGetBufferBytes(v *vm, stack []uint64) {
	buf, code := v.buffer(u32(stack[0]))
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	start, max := uint64(u32(stack[1])), uint64(u32(stack[2]))
	if start+max > math.MaxUint32*2 {
		stack[0] = statusBadArgument
		return
	}
	if start > uint64(len(buf)) {
		start = uint64(len(buf))
	}
	end := start + max
	if end > uint64(len(buf)) {
		end = uint64(len(buf))
	}
	stack[0] = uint64(v.writeResult(buf[start:end], u32(stack[3]), u32(stack[4]), false))
}

// abiSetBufferBytes is proxy_set_buffer_bytes(type, start, size, data, data_size) with
// Envoy's rules: start == 0 drains size bytes then prepends; start ≥ len appends;
// 0 < start < len is BAD_ARGUMENT; only bodies are mutable.
func abiSetBufferBytes(v *vm, stack []uint64) {
	t := u32(stack[0])
	if t != bufRequestBody && t != bufResponseBody {
		stack[0] = statusBadArgument
		return
	}
	dir := int(t)
	kong := v.h.cfg.Profile.isKong()
	if kong && !((dir == dec && v.cb == cbRequestBody) || (dir == enc && v.cb == cbResponseBody)) {
		trap("can only set %s body during on_%s_body", dirName(dir), dirName(dir))
	}
	f := v.current()
	if f == nil {
		stack[0] = statusBadArgument
		return
	}
	ds := &f.ds[dir]
	if !ds.inBody && !ds.buffer {
		stack[0] = statusBadArgument
		return
	}
	data, ok := v.read(u32(stack[3]), u32(stack[4]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	start, size := int(u32(stack[1])), int(u32(stack[2]))
	buf := ds.buf
	switch {
	case start == 0:
		drain := min(size, len(buf))
		if size < 0 {
			drain = len(buf)
		}
		nb := make([]byte, 0, len(data)+len(buf)-drain)
		nb = append(nb, data...)
		nb = append(nb, buf[drain:]...)
		ds.buf = nb
	case start >= len(buf):
		nb := make([]byte, 0, len(buf)+len(data))
		nb = append(nb, buf...)
		ds.buf = append(nb, data...)
	default:
		stack[0] = statusBadArgument
		return
	}
	stack[0] = statusOK
}

// ---- header maps ----

const (
	mapRequestHeaders       = 0
	mapRequestTrailers      = 1
	mapResponseHeaders      = 2
	mapResponseTrailers     = 3
	mapHTTPCallRespHeaders  = 6
	mapHTTPCallRespTrailers = 7
	mapMax                  = 7
)

// headerMap returns the map of a type for the current context (nil when the map does
// not exist now) or a status for a bad type.
func (v *vm) headerMap(t uint32, write bool) (*headerMap, uint32) {
	if t > mapMax {
		return nil, statusBadArgument
	}
	switch t {
	case mapHTTPCallRespHeaders, mapHTTPCallRespTrailers:
		if v.cb != cbHTTPCallResponse || v.callout == nil {
			return nil, statusOK
		}
		if write {
			return nil, statusBadArgument
		}
		if t == mapHTTPCallRespHeaders {
			return v.callout.result.headers, statusOK
		}
		return v.callout.result.trailers, statusOK
	case mapRequestHeaders, mapRequestTrailers, mapResponseHeaders, mapResponseTrailers:
		f := v.current()
		if f == nil {
			return nil, statusOK
		}
		dir := dec
		if t >= mapResponseHeaders {
			dir = enc
		}
		if !v.h.cfg.Profile.isKong() {
			// Envoy: in proxy_on_log the access-log copies are readable (not writable);
			// otherwise only maps the context still points at.
			if v.cb == cbLog || v.cb == cbDone {
				if write {
					return nil, statusOK
				}
			} else if !f.live[t] {
				return nil, statusOK
			}
		}
		if t == mapResponseHeaders && write && f.s.hdr[enc] == nil && v.h.cfg.Profile.isKong() {
			// nginx's headers_out exist from the start: a response header set in a request phase is sent
			// with the response (contexts/108 TEST 5).
			if f.s.kongEarlyResp == nil {
				f.s.kongEarlyResp = &headerMap{}
			}
			return f.s.kongEarlyResp, statusOK
		}
		if t == mapRequestHeaders || t == mapResponseHeaders {
			return f.s.hdr[dir], statusOK
		}
		return f.s.trl[dir], statusOK
	}
	return nil, statusOK
}

// kongCheckHeaderWrite traps where Kong refuses header mutations.
// writableHeaderMap is the map of type t for a write call (set pairs, add, replace,
// remove): Kong's phase check first, then the map; BAD_ARGUMENT when it is not
// available in this callback.
func (v *vm) writableHeaderMap(t uint32) (*headerMap, uint32) {
	if code := v.kongCheckHeaderWrite(t); code != statusOK {
		return nil, code
	}
	m, code := v.headerMap(t, true)
	if code != statusOK {
		return nil, code
	}
	if m == nil {
		return nil, statusBadArgument
	}
	return m, statusOK
}

func (v *vm) kongCheckHeaderWrite(t uint32) uint32 {
	if !v.h.cfg.Profile.isKong() {
		return statusOK
	}
	switch t {
	case mapRequestHeaders:
		if v.cb != cbRequestHeaders && v.cb != cbRequestBody && v.cb != cbRequestTrailers && v.cb != cbHTTPCallResponse {
			trap("cannot set request headers: not in a request phase")
		}
	case mapResponseHeaders:
		if v.cb == cbResponseBody || v.cb == cbResponseTrailers || v.cb == cbLog || v.cb == cbDone {
			trap("cannot set response headers: headers already sent")
		}
	case mapRequestTrailers, mapResponseTrailers:
		return statusBadArgument
	}
	return statusOK
}

// abiGetHeaderMapPairs is proxy_get_header_map_pairs(map, ret_data, ret_size): every
// entry, duplicates kept; a map that is not available now is OK with ptr 0/size 0.
func abiGetHeaderMapPairs(v *vm, stack []uint64) {
	m, code := v.headerMap(u32(stack[0]), false)
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	if m == nil || len(m.pairs) == 0 {
		stack[0] = okOrIMA(v.writeU32(u32(stack[1]), 0) && v.writeU32(u32(stack[2]), 0))
		return
	}
	stack[0] = uint64(v.writeResult(EncodePairs(m.pairs), u32(stack[1]), u32(stack[2]), false))
}

// abiSetHeaderMapPairs replaces a whole map; malformed or oversized input is treated
// as an empty map (so every header is removed), as Envoy does.
func abiSetHeaderMapPairs(v *vm, stack []uint64) {
	m, code := v.writableHeaderMap(u32(stack[0]))
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	raw, ok := v.read(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	pairs, _ := DecodePairs(raw)
	m.pairs = m.pairs[:0]
	for _, p := range pairs {
		m.add(strings.ToLower(p[0]), p[1])
	}
	stack[0] = statusOK
}

// abiGetHeaderMapValue returns the FIRST value of a header (Envoy); Kong allocates 0
// bytes for an empty value.
func abiGetHeaderMapValue(v *vm, stack []uint64) {
	m, code := v.headerMap(u32(stack[0]), false)
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	if m == nil {
		stack[0] = statusBadArgument
		return
	}
	key, ok := v.readString(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	val, found := m.get(strings.ToLower(key))
	if !found {
		stack[0] = statusNotFound
		return
	}
	stack[0] = uint64(v.writeResult([]byte(val), u32(stack[3]), u32(stack[4]), v.h.cfg.Profile.isKong()))
}

// abiSetHeaderMapValue is proxy_add_header_map_value (append another value) and
// proxy_replace_header_map_value (set, creating it if absent); BAD_ARGUMENT when the
// map is not available now.
func abiSetHeaderMapValue(v *vm, stack []uint64, replace bool) {
	m, code := v.writableHeaderMap(u32(stack[0]))
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	key, ok1 := v.readString(u32(stack[1]), u32(stack[2]))
	val, ok2 := v.readString(u32(stack[3]), u32(stack[4]))
	if !ok1 || !ok2 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	key = strings.ToLower(key)
	if replace {
		m.replace(key, val)
	} else {
		m.add(key, val)
	}
	stack[0] = statusOK
}

// abiRemoveHeaderMapValue is proxy_remove_header_map_value: OK even when absent.
func abiRemoveHeaderMapValue(v *vm, stack []uint64) {
	m, code := v.writableHeaderMap(u32(stack[0]))
	if code != statusOK {
		stack[0] = uint64(code)
		return
	}
	key, ok := v.readString(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	m.remove(strings.ToLower(key))
	stack[0] = statusOK
}

// ---- stream control ----

// abiContinueStream is proxy_continue_stream(type): deferred until the callback
// returns; Envoy then no longer exposes that direction's headers/body to the plugin.
func abiContinueStream(v *vm, stack []uint64) {
	t := u32(stack[0])
	switch {
	case t > 3:
		stack[0] = statusBadArgument
		return
	case t == 3:
		stack[0] = statusUnimplemented
		return
	case t == 2:
		stack[0] = statusOK
		return
	}
	if f := v.current(); f != nil {
		f.cont[t] = true
		// Envoy drops its request headers/body/trailers pointers on any continue.
		f.live[mapRequestHeaders], f.live[mapRequestTrailers] = false, false
	}
	stack[0] = statusOK
}

// abiCloseStream is proxy_close_stream(type): the stream is reset after the callback.
func abiCloseStream(v *vm, stack []uint64) {
	t := u32(stack[0])
	if t > 3 {
		stack[0] = statusBadArgument
		return
	}
	if f := v.current(); f != nil {
		f.reset = true
	}
	stack[0] = statusOK
}

// abiSendLocalResponse queues a local reply; the host sends it when the callback
// returns and forces the callback's action to stop.
func abiSendLocalResponse(v *vm, stack []uint64) {
	status := u32(stack[0])
	details, ok1 := v.readString(u32(stack[1]), u32(stack[2]))
	body, ok2 := v.read(u32(stack[3]), u32(stack[4]))
	rawHeaders, ok3 := v.read(u32(stack[5]), u32(stack[6]))
	if !ok1 || !ok2 || !ok3 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	kong := v.h.cfg.Profile.isKong()
	if kong && (status < 100 || status > 999) {
		stack[0] = statusBadArgument
		return
	}
	f := v.current()
	if f == nil {
		stack[0] = statusOK // Envoy: outside an HTTP context nothing happens
		return
	}
	if kong {
		if f.pending != nil || f.s.res.LocalReply {
			trap("local response already stashed")
		}
		if f.s.respOut {
			trap("response already sent")
		}
	}
	headers, _ := DecodePairs(rawHeaders)
	details = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, details)
	f.pending = &localReply{status: int(status), details: details, body: append([]byte(nil), body...), headers: headers, from: v.p.spec.Name}
	stack[0] = statusOK
}

// ---- http callouts ----

// abiHTTPCall is proxy_http_call. Envoy: the upstream must be a known cluster and
// :method, :path and :authority are required, else BAD_ARGUMENT. Kong: only in request
// phases, on_tick and callout responses (else trap).
func abiHTTPCall(v *vm, stack []uint64) {
	up, ok1 := v.readString(u32(stack[0]), u32(stack[1]))
	rawH, ok2 := v.read(u32(stack[2]), u32(stack[3]))
	body, ok3 := v.read(u32(stack[4]), u32(stack[5]))
	rawT, ok4 := v.read(u32(stack[6]), u32(stack[7]))
	if !ok1 || !ok2 || !ok3 || !ok4 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	kong := v.h.cfg.Profile.isKong()
	if kong {
		switch v.cb {
		case cbRequestHeaders, cbRequestBody, cbTick, cbHTTPCallResponse:
		default:
			trap("proxy_http_call: cannot dispatch during %s", v.cb)
		}
	}
	headers, _ := DecodePairs(rawH)
	trailers, _ := DecodePairs(rawT)
	req := CalloutRequest{Plugin: v.p.spec.Name, Worker: v.worker, Cluster: up, Headers: headers,
		Body: append([]byte(nil), body...), Trailers: trailers, Timeout: msDuration(u32(stack[8]))}
	_, hasM := req.Header(":method")
	_, hasP := req.Header(":path")
	_, hasA := req.Header(":authority")
	if !hasM || !hasP || (!kong && !hasA) || int32(u32(stack[8])) < 0 {
		stack[0] = statusBadArgument
		return
	}
	if _, known := v.h.handler(up); !known {
		stack[0] = statusBadArgument
		return
	}
	if kong && req.Timeout == 0 {
		req.Timeout = 60 * time.Second
	}
	v.tokens++
	token := v.tokens
	if !v.writeU32(u32(stack[9]), token) {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	h := v.h
	h.calloutMu.Lock()
	h.callouts = append(h.callouts, req)
	if len(h.callouts) > 2*h.cfg.LogLimit {
		h.callouts = append([]CalloutRequest(nil), h.callouts[len(h.callouts)-h.cfg.LogLimit:]...)
	}
	h.calloutMu.Unlock()
	cs := &calloutState{v: v, root: v.rt, token: token, req: req, s: v.stream}
	if f := v.current(); f != nil {
		cs.f = f
		cs.s = f.s
	}
	v.pending[token] = cs
	if cs.s != nil {
		cs.s.res.Callouts = append(cs.s.res.Callouts, req)
		cs.s.pending = append(cs.s.pending, cs)
	} else {
		h.calloutMu.Lock()
		h.rootQueue = append(h.rootQueue, cs)
		h.calloutMu.Unlock()
	}
	stack[0] = statusOK
}

// ---- shared data ----

func (v *vm) kongNeedsKV() {
	if v.h.cfg.Profile.isKong() && !v.h.cfg.KongSharedKV {
		trap("could not resolve namespace: no shm_kv zone configured")
	}
}

// abiGetSharedData is proxy_get_shared_data(key, ret_value, ret_size, ret_cas).
func abiGetSharedData(v *vm, stack []uint64) {
	v.kongNeedsKV()
	key, ok := v.readString(u32(stack[0]), u32(stack[1]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	val, cas, found := v.h.shared.get(v.p.spec.VMID, key)
	if !found {
		stack[0] = statusNotFound
		return
	}
	if code := v.writeResult(val, u32(stack[2]), u32(stack[3]), v.h.cfg.Profile.isKong()); code != statusOK {
		stack[0] = uint64(code)
		return
	}
	stack[0] = okOrIMA(v.writeU32(u32(stack[4]), cas))
}

// abiSetSharedData is proxy_set_shared_data(key, value, cas): on Envoy a non-zero CAS must match an
// existing key; Kong's rules are sharedStore.setKong's (its CAS must always match, NULL value deletes).
func abiSetSharedData(v *vm, stack []uint64) {
	v.kongNeedsKV()
	key, ok1 := v.readString(u32(stack[0]), u32(stack[1]))
	val, ok2 := v.read(u32(stack[2]), u32(stack[3]))
	if !ok1 || !ok2 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	if v.h.cfg.Profile.isKong() {
		stack[0] = uint64(v.h.shared.setKong(v.p.spec.VMID, key, val, u32(stack[2]) == 0, u32(stack[4])))
		return
	}
	stack[0] = uint64(v.h.shared.set(v.p.spec.VMID, key, val, u32(stack[4]), true))
}

// ---- shared queues ----

// abiRegisterSharedQueue is proxy_register_shared_queue(name, ret_id): queues are keyed
// by (vm_id, name); the last registrant receives proxy_on_queue_ready.
func abiRegisterSharedQueue(v *vm, stack []uint64) {
	v.kongNeedsKV()
	name, ok := v.readString(u32(stack[0]), u32(stack[1]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	q := &v.h.queues
	q.mu.Lock()
	k := [2]string{v.p.spec.VMID, name}
	qu := q.byName[k]
	if qu == nil {
		q.nextID++
		qu = &queue{id: q.nextID}
		q.byName[k] = qu
		q.byID[qu.id] = qu
	}
	qu.owner, qu.ownerRoot = v, v.rt
	id := qu.id
	q.mu.Unlock()
	stack[0] = okOrIMA(v.writeU32(u32(stack[2]), id))
}

// abiResolveSharedQueue is proxy_resolve_shared_queue(vm_id, name, ret_id): an empty
// vm_id means the caller's; unknown ⇒ NOT_FOUND (Kong: not implemented, traps).
func abiResolveSharedQueue(v *vm, stack []uint64) {
	vmID, ok1 := v.readString(u32(stack[0]), u32(stack[1]))
	name, ok2 := v.readString(u32(stack[2]), u32(stack[3]))
	if !ok1 || !ok2 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	if vmID == "" {
		vmID = v.p.spec.VMID
	}
	q := &v.h.queues
	q.mu.Lock()
	qu := q.byName[[2]string{vmID, name}]
	q.mu.Unlock()
	if qu == nil {
		stack[0] = statusNotFound
		return
	}
	stack[0] = okOrIMA(v.writeU32(u32(stack[4]), qu.id))
}

// abiEnqueueSharedQueue is proxy_enqueue_shared_queue(id, data): unknown id ⇒ NOT_FOUND;
// notifies the registrant after the current step (never on Kong).
func abiEnqueueSharedQueue(v *vm, stack []uint64) {
	data, ok := v.read(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	q := &v.h.queues
	q.mu.Lock()
	qu := q.byID[u32(stack[0])]
	if qu == nil {
		q.mu.Unlock()
		stack[0] = statusNotFound
		return
	}
	qu.items = append(qu.items, append([]byte(nil), data...))
	owner, ownerRoot, id := qu.owner, qu.ownerRoot, qu.id
	q.mu.Unlock()
	if owner != nil && !v.h.cfg.Profile.isKong() {
		v.h.calloutMu.Lock()
		v.h.queueTasks = append(v.h.queueTasks, queueTask{v: owner, root: ownerRoot, id: id})
		v.h.calloutMu.Unlock()
	}
	stack[0] = statusOK
}

// abiDequeueSharedQueue is proxy_dequeue_shared_queue(id, ret_data, ret_size): EMPTY
// when nothing is queued.
func abiDequeueSharedQueue(v *vm, stack []uint64) {
	q := &v.h.queues
	q.mu.Lock()
	qu := q.byID[u32(stack[0])]
	if qu == nil {
		q.mu.Unlock()
		stack[0] = statusNotFound
		return
	}
	if len(qu.items) == 0 {
		q.mu.Unlock()
		stack[0] = statusEmpty
		return
	}
	item := qu.items[0]
	qu.items = qu.items[1:]
	q.mu.Unlock()
	stack[0] = uint64(v.writeResult(item, u32(stack[1]), u32(stack[2]), false))
}

// ---- metrics ----

// kongErr turns a metric error status into a trap on Kong.
func (v *vm) metricErr(code uint32, what string) uint64 {
	if v.h.cfg.Profile.isKong() && code != statusOK {
		trap("metric %s failed (status %d)", what, code)
	}
	return uint64(code)
}

// abiDefineMetric is proxy_define_metric(type, name, ret_id): type > 2 ⇒ BAD_ARGUMENT
// (Kong: trap); the stat is process-wide, a redefinition binds a new id to it.
func abiDefineMetric(v *vm, stack []uint64) {
	typ := u32(stack[0])
	if typ > 2 {
		stack[0] = v.metricErr(statusBadArgument, "define: unknown type")
		return
	}
	name, ok := v.readString(u32(stack[1]), u32(stack[2]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	if v.h.cfg.Profile.isKong() {
		name = "pw:" + v.p.spec.Name + ":" + name
		if len(name) > 256 {
			trap("metric name too long: %q", name)
		}
	}
	id := v.h.metrics.define(typ, name)
	stack[0] = okOrIMA(v.writeU32(u32(stack[3]), id))
}

// abiIncrementMetric: counter delta ≤ 0 and any histogram ⇒ BAD_ARGUMENT (Envoy).
func abiIncrementMetric(v *vm, stack []uint64) {
	m := v.h.metrics.lookup(u32(stack[0]))
	if m == nil {
		stack[0] = v.metricErr(statusNotFound, "increment: unknown id")
		return
	}
	delta := int64(stack[1])
	switch {
	case m.typ == 2:
		stack[0] = v.metricErr(statusBadArgument, "increment: histogram")
		return
	case m.typ == 0 && delta <= 0:
		stack[0] = v.metricErr(statusBadArgument, "increment: counter delta <= 0")
		return
	}
	ms := &v.h.metrics
	ms.mu.Lock()
	m.value += delta
	ms.mu.Unlock()
	stack[0] = statusOK
}

// abiRecordMetric: counter ⇒ adds, gauge ⇒ sets, histogram ⇒ records a sample.
func abiRecordMetric(v *vm, stack []uint64) {
	m := v.h.metrics.lookup(u32(stack[0]))
	if m == nil {
		stack[0] = v.metricErr(statusNotFound, "record: unknown id")
		return
	}
	val := stack[1]
	ms := &v.h.metrics
	ms.mu.Lock()
	switch m.typ {
	case 0:
		m.value += int64(val)
	case 1:
		m.value = int64(val)
	default:
		m.samples = append(m.samples, val)
	}
	ms.mu.Unlock()
	stack[0] = statusOK
}

// abiGetMetric: histogram ⇒ BAD_ARGUMENT (Envoy; the Go SDK then panics).
func abiGetMetric(v *vm, stack []uint64) {
	m := v.h.metrics.lookup(u32(stack[0]))
	if m == nil {
		stack[0] = v.metricErr(statusNotFound, "get: unknown id")
		return
	}
	if m.typ == 2 {
		stack[0] = v.metricErr(statusBadArgument, "get: histogram")
		return
	}
	ms := &v.h.metrics
	ms.mu.Lock()
	val := m.value
	ms.mu.Unlock()
	stack[0] = okOrIMA(v.writeU64(u32(stack[1]), uint64(val)))
}

// ---- timers ----

// abiSetTickPeriod applies to the VM's root context. Kong: root context only, and a
// second non-zero period traps.
func abiSetTickPeriod(v *vm, stack []uint64) {
	ms := u32(stack[0])
	if v.h.cfg.Profile.isKong() {
		if v.current() != nil {
			trap("can only set tick_period in root context")
		}
		if v.rt.tickMs != 0 && ms != 0 {
			trap("tick_period already set")
		}
	}
	v.rt.tickMs = ms
	stack[0] = statusOK
}

// ---- foreign functions ----

// abiCallForeignFunction is proxy_call_foreign_function(name, args, ret_data,
// ret_size): unknown names ⇒ NOT_FOUND; a failing function ⇒ INTERNAL_FAILURE.
func abiCallForeignFunction(v *vm, stack []uint64) {
	name, ok1 := v.readString(u32(stack[0]), u32(stack[1]))
	args, ok2 := v.read(u32(stack[2]), u32(stack[3]))
	if !ok1 || !ok2 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	fn := v.h.foreign[name]
	if fn == nil {
		stack[0] = statusNotFound
		return
	}
	out, err := fn(append([]byte(nil), args...))
	if err != nil {
		stack[0] = statusInternalFailure
		return
	}
	stack[0] = uint64(v.writeResult(out, u32(stack[4]), u32(stack[5]), false))
}

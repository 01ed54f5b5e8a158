package hostsim

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"strconv"
	"strings"
)

// EnvoyInt encodes an integer property value as Envoy does (8 bytes little-endian).
func EnvoyInt(n int64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

// EnvoyBool encodes a boolean property value as Envoy does (1 byte).
func EnvoyBool(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

func propertyKey(path []byte) string {
	return strings.ReplaceAll(strings.TrimRight(string(path), "\x00"), "\x00", ".")
}

// abiGetProperty is proxy_get_property(path, ret_value, ret_size): path segments are
// NUL-separated; values use the profile's encoding.
func abiGetProperty(v *vm, stack []uint64) {
	path, ok := v.read(u32(stack[0]), u32(stack[1]))
	if !ok {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	key := propertyKey(path)
	if v.h.cfg.Profile.isKong() && v.current() == nil && strings.Contains(key, ".") {
		// ngx_proxy_wasm_properties_get: a scoped (dotted) property outside of a request (on_configure,
		// on_tick, ...) is an error, which proxy_get_property returns as INTERNAL_FAILURE
		// (117-proxy_properties_get.t TEST 19/20).
		v.h.addLog(LogEntry{Level: LogError, Message: "cannot get scoped properties outside of a request", Plugin: v.p.spec.Name, Worker: v.worker, Source: "hostsim"}, nil)
		stack[0] = statusInternalFailure
		return
	}
	val, found := v.property(key)
	if !found {
		stack[0] = statusNotFound
		return
	}
	stack[0] = uint64(v.writeResult(val, u32(stack[2]), u32(stack[3]), false))
}

// abiSetProperty is proxy_set_property: Envoy stores the value in the stream's filter
// state (NOT_FOUND without a stream); Kong only accepts wasmx.*, ngx.* and kong.*.
func abiSetProperty(v *vm, stack []uint64) {
	path, ok1 := v.read(u32(stack[0]), u32(stack[1]))
	val, ok2 := v.read(u32(stack[2]), u32(stack[3]))
	if !ok1 || !ok2 {
		stack[0] = statusInvalidMemoryAccess
		return
	}
	key := propertyKey(path)
	f := v.current()
	if v.h.cfg.Profile.isKong() {
		// ngx_proxy_wasm_properties_set: a scoped property outside of a request, or one of the proxy-wasm
		// properties mapped onto nginx variables (request.path = $request_uri, ...: "variable is not
		// changeable") is an error = INTERNAL_FAILURE (121-proxy_properties_set.t TEST 1, 3-6); anything
		// but wasmx.*, ngx.* and kong.* is NOT_FOUND (TEST 2).
		scoped := strings.Contains(key, ".")
		mapped := false
		for _, p := range []string{"request.", "response.", "upstream.", "connection.", "source.", "destination."} {
			mapped = mapped || strings.HasPrefix(key, p)
		}
		switch {
		case (f == nil && scoped) || mapped:
			stack[0] = statusInternalFailure
			return
		case !strings.HasPrefix(key, "wasmx.") && !strings.HasPrefix(key, "ngx.") && !strings.HasPrefix(key, "kong."):
			stack[0] = statusNotFound
			return
		}
	}
	if f == nil {
		stack[0] = statusNotFound
		return
	}
	if f.s.props == nil {
		f.s.props = map[string][]byte{}
	}
	f.s.props[key] = append([]byte(nil), val...)
	stack[0] = statusOK
}

// property resolves a property for the current context: stream values set by the
// plugin or the test, host values, then the built-in catalog of the profile.
func (v *vm) property(key string) ([]byte, bool) {
	f := v.current()
	var s *Stream
	if f != nil {
		s = f.s
		if val, ok := s.props[key]; ok {
			return val, true
		}
		if val, ok := s.req.Properties[key]; ok {
			return val, true
		}
	}
	if val, ok := v.h.cfg.Properties[key]; ok {
		return val, true
	}
	kong := v.h.cfg.Profile.isKong()
	str := func(x string) ([]byte, bool) { return []byte(x), true }
	num := func(n int64) ([]byte, bool) {
		if kong {
			return []byte(strconv.FormatInt(n, 10)), true
		}
		return EnvoyInt(n), true
	}
	switch key {
	case "plugin_name":
		return str(v.p.spec.Name)
	case "plugin_root_id":
		if kong {
			return str(strconv.Itoa(int(v.rt.id)))
		}
		return str(v.p.spec.RootID)
	case "plugin_vm_id":
		if kong {
			return nil, false
		}
		return str(v.p.spec.VMID)
	}
	if s == nil {
		return nil, false
	}
	// Envoy answers request.* (but request.time, .protocol, .size) from the request headers only while the
	// context holds them: from on_request_headers until it returns Continue (or the plugin calls
	// proxy_continue_stream), and from the access-log copy in proxy_on_log (Context::getProperty's
	// activation headers = request_headers_ or access_log_request_headers_). So a body callback after headers
	// returned Continue gets NOT_FOUND for request.path and request.headers.<h>; likewise response.headers.*
	// after on_response_headers returned Continue. Kong reads nginx's request (r->headers_in, $request_uri,
	// ...) in every phase of the request (117-proxy_properties_get.t TEST 2 and 4).
	req, resp := s.hdr[dec], s.hdr[enc]
	if !kong && v.cb != cbLog {
		if !f.live[mapRequestHeaders] {
			req = nil
		}
		if !f.live[mapResponseHeaders] {
			resp = nil
		}
	} else if !kong && !s.respOut {
		resp = nil // the access log has response headers only when they went downstream
	}
	hdr := func(name string) ([]byte, bool) {
		if req == nil {
			return nil, false
		}
		val, ok := req.get(name)
		return []byte(val), ok
	}
	switch key {
	case "request.path":
		return hdr(":path")
	case "request.url_path", "request.query":
		p, ok := hdr(":path")
		if !ok {
			return nil, false
		}
		path, query, _ := strings.Cut(string(p), "?")
		if key == "request.query" {
			return str(query)
		}
		return str(path)
	case "request.host":
		if kong {
			return str("hostsim") // Kong: the server's hostname, not the Host header
		}
		return hdr(":authority")
	case "request.scheme":
		return hdr(":scheme")
	case "request.method":
		return hdr(":method")
	case "request.id":
		return hdr("x-request-id")
	case "request.useragent":
		return hdr("user-agent")
	case "request.referer":
		return hdr("referer")
	case "request.protocol":
		return str("HTTP/1.1")
	case "request.time":
		if kong {
			return str(strconv.FormatFloat(float64(s.start.UnixMilli())/1000, 'f', 3, 64))
		}
		return EnvoyInt(s.start.UnixNano()), true
	case "request.size":
		if kong { // $content_length: the header's value, not found without one
			return hdr("content-length")
		}
		return num(int64(len(s.req.Body)))
	case "response.code":
		if s.hdr[enc] == nil {
			return nil, false
		}
		c, _ := s.hdr[enc].get(":status")
		n, _ := strconv.ParseInt(c, 10, 64)
		return num(n)
	case "response.code_details":
		if kong || !s.res.LocalReply {
			return nil, false
		}
		return str(s.res.LocalReplyDetails)
	case "source.address":
		if kong {
			return str("127.0.0.1")
		}
		return str("127.0.0.1:50000")
	case "source.port":
		return num(50000)
	case "destination.address":
		if kong {
			return nil, false
		}
		return str("127.0.0.1:8080")
	case "destination.port":
		if kong {
			return nil, false
		}
		return num(8080)
	case "connection.id":
		return num(int64(s.connID))
	case "connection.mtls":
		if kong {
			return str("false")
		}
		return EnvoyBool(false), true
	case "xds.route_name", "route_name":
		if kong || s.req.Route == "" {
			return nil, false
		}
		return str(s.req.Route)
	case "xds.cluster_name", "cluster_name":
		if kong {
			return nil, false
		}
		return str("hostsim_upstream")
	case "kong.route_name":
		if !kong || s.req.Route == "" {
			return nil, false
		}
		return str(s.req.Route)
	case "request.headers":
		if kong || req == nil {
			return nil, false
		}
		return EncodePairs(req.pairs), true
	case "response.headers":
		if kong || resp == nil {
			return nil, false
		}
		return EncodePairs(resp.pairs), true
	}
	if name, ok := strings.CutPrefix(key, "request.headers."); ok && req != nil {
		val, found := req.joined(strings.ToLower(name))
		return []byte(val), found
	}
	if name, ok := strings.CutPrefix(key, "response.headers."); ok && resp != nil {
		val, found := resp.joined(strings.ToLower(name))
		return []byte(val), found
	}
	return nil, false
}

// defaultForeign is the foreign-function catalog of a profile (Envoy: compress,
// uncompress, clear_route_cache, declare_property, set_envoy_filter_state).
func defaultForeign(p Profile) map[string]func([]byte) ([]byte, error) {
	m := map[string]func([]byte) ([]byte, error){}
	if p.isKong() {
		return m
	}
	m["clear_route_cache"] = func([]byte) ([]byte, error) { return nil, nil }
	m["declare_property"] = func([]byte) ([]byte, error) { return nil, nil }
	m["set_envoy_filter_state"] = func([]byte) ([]byte, error) { return nil, nil }
	m["compress"] = func(in []byte) ([]byte, error) {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		if _, err := w.Write(in); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	m["uncompress"] = func(in []byte) ([]byte, error) {
		r, err := zlib.NewReader(bytes.NewReader(in))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	return m
}

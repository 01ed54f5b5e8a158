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
	val, found := v.property(propertyKey(path))
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
	if v.h.cfg.Profile.isKong() && !strings.HasPrefix(key, "wasmx.") && !strings.HasPrefix(key, "ngx.") && !strings.HasPrefix(key, "kong.") {
		stack[0] = statusNotFound
		return
	}
	f := v.current()
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
	req := s.hdr[dec]
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
	case "request.url_path":
		p, _ := req.get(":path")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return str(p)
	case "request.query":
		p, _ := req.get(":path")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			return str(p[i+1:])
		}
		return str("")
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
		if kong || s.hdr[enc] == nil {
			return nil, false
		}
		return EncodePairs(s.hdr[enc].pairs), true
	}
	if name, ok := strings.CutPrefix(key, "request.headers."); ok && req != nil {
		val, found := req.joined(strings.ToLower(name))
		return []byte(val), found
	}
	if name, ok := strings.CutPrefix(key, "response.headers."); ok && s.hdr[enc] != nil {
		val, found := s.hdr[enc].joined(strings.ToLower(name))
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

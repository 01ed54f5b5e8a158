package hostsim

import (
	"fmt"
	"strings"
	"testing"
)

// Expectations of ngx_wasm_module's own proxy-wasm test suite (Kong/ngx_wasm_module @3bed2783,
// t/03-proxy_wasm/...) that apply to wasmguard's filters, held against hostsim's kong profile. No Kong runs
// here; each test names the test file and case it ports. (Properties: fidelity_test.go, 117/121.)

func kongHost(t *testing.T, mod ...func(*Config)) *Host {
	t.Helper()
	return conformance(t, ProfileKong, "", append([]func(*Config){func(c *Config) { c.KongSharedKV = true; c.Workers = 1 }}, mod...)...)
}

// callbackTrace is "name(arg0,arg1)" for each HTTP callback of one plugin.
func callbackTrace(res Result) []string {
	var out []string
	for _, c := range res.Callbacks {
		switch c.Name {
		case "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_response_body":
			out = append(out, fmt.Sprintf("%s(%d,%d)", strings.TrimPrefix(c.Name, "proxy_"), c.Args[0], c.Args[1]))
		case "proxy_on_log":
			out = append(out, "on_log")
		}
	}
	return out
}

// 004-on_http_phases.t TEST 1 (no request body, no response body): on_request_headers with eof false, no
// on_request_body, on_response_headers, on_response_body 0 bytes eof true, on_log. TEST 4 (request body,
// chunked response body): on_request_body once with the whole body and eof, on_response_body per chunk then
// 0 bytes eof true. TEST 5 (proxy_pass, content-length answer): on_response_body 5 bytes eof true.
func TestKongPhases(t *testing.T) {
	h := kongHost(t)
	cases := []struct {
		name string
		req  Request
		resp Response
		want []string // after on_request_headers(<n>,0), which every case starts with
	}{
		{"004 TEST 1", Request{Method: "GET", Path: "/t"}, Response{},
			[]string{"on_response_headers", "on_response_body(0,1)", "on_log"}},
		{"004 TEST 4", Request{Method: "POST", Path: "/t", Body: []byte("Hello world")},
			Response{Chunks: [][]byte{[]byte("ok\n")}, EmptyLastChunk: true},
			[]string{"on_request_body(11,1)", "on_response_headers", "on_response_body(3,0)", "on_response_body(0,1)", "on_log"}},
		{"004 TEST 5", Request{Method: "GET", Path: "/t"}, Response{Body: []byte("Hello")},
			[]string{"on_response_headers", "on_response_body(5,1)", "on_log"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := callbackTrace(h.Do(tc.req, tc.resp))
			if len(got) == 0 || !strings.HasPrefix(got[0], "on_request_headers(") || !strings.HasSuffix(got[0], ",0)") {
				t.Fatalf("first callback %v, want on_request_headers with eof false", got)
			}
			got = got[1:]
			for i := range got {
				if strings.HasPrefix(got[i], "on_response_headers(") {
					got[i] = "on_response_headers" // header counts differ from nginx's
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("callbacks %v, want %v", got, tc.want)
			}
		})
	}
}

// 006-on_http_next_action.t TEST 1: on_request_headers -> Pause leaves the request paused (nginx times out;
// nothing reaches the upstream). TEST 3: on_response_headers -> Pause without a local response is not honoured:
// the response goes on (200) and Kong logs that a local response was expected.
func TestKongNextAction(t *testing.T) {
	h := kongHost(t)
	res := h.Do(Request{Path: "/t", Headers: act("pause-headers;no-resume")}, Response{})
	if res.Upstream != nil || !res.Hung {
		t.Errorf("TEST 1: Pause on request headers: upstream %v hung %v", res.Upstream != nil, res.Hung)
	}
	res = h.Do(Request{Path: "/t", Headers: act("resp-hold")}, Response{Body: []byte("answer")})
	if res.Hung || res.Status != 200 || string(res.Body) != "answer" {
		t.Errorf("TEST 3: Pause on response headers: hung %v status %d body %q", res.Hung, res.Status, res.Body)
	}
	if !strings.Contains(strings.Join(res.LogsAt(LogWarn), "\n")+strings.Join(res.LogsAt(LogError), "\n"), "local response expected but none produced") {
		t.Errorf("TEST 3: no log that a local response was expected: %v", res.Logs)
	}
}

// 102-proxy_send_local_response.t TEST 16: send_local_response() from on_log traps ("response already sent");
// the client already has its answer.
func TestKongLocalResponseFromLog(t *testing.T) {
	h := kongHost(t)
	res := h.Do(Request{Path: "/t", Headers: act("log-reply")}, Response{Body: []byte("ok")})
	if res.Status != 200 || string(res.Body) != "ok" || !res.Trapped || !strings.Contains(strings.Join(res.Traps, " "), "response already sent") {
		t.Errorf("status %d body %q trapped %v traps %v", res.Status, res.Body, res.Trapped, res.Traps)
	}
}

// 113-proxy_get_http_request_body.t TEST 8: the request body is readable from on_log.
func TestKongRequestBodyInLog(t *testing.T) {
	h := kongHost(t)
	res := h.Do(Request{Method: "POST", Path: "/t", Body: []byte("Hello from main request body"), Headers: act("log-body")}, Response{Body: []byte("ok")})
	if !strings.Contains(strings.Join(res.LogsAt(LogInfo), "\n"), "log-body=Hello from main request body|ok") {
		t.Errorf("logs %v", res.LogsAt(LogInfo))
	}
}

// 121-proxy_properties_set.t TEST 1: setting request.path (an nginx variable that is not changeable) is an
// error, INTERNAL_FAILURE; TEST 2: an unknown property is NOT_FOUND; wasmx.* is settable (TestSetPropertyPerProfile).
func TestKongSetProperty(t *testing.T) {
	h := kongHost(t)
	for prop, want := range map[string]string{
		"request.path":         errInternal,
		"nonexistent_property": errNotFound,
		"wasmx.note":           "ok",
	} {
		res := h.Do(Request{Path: "/t", Headers: act("setp=" + prop)}, Response{})
		if got := strings.Join(res.LogsAt(LogInfo), "\n"); !strings.Contains(got, "setp "+prop+"="+want) {
			t.Errorf("%s: want %q in %s", prop, want, got)
		}
	}
}

// shm/001-kv_get_set.t: TEST 1 get of an existing key (cas 1) and of a missing one (NOT_FOUND, cas 0); TEST 3
// delete (NULL value) with the key's cas, then NOT_FOUND; TEST 5 deleting a missing key writes nothing; TEST 6
// set with cas 0 on an existing key is refused (CAS_MISMATCH, value kept), set with its cas 1 succeeds and the
// cas becomes 2. Envoy's rules differ (cas 0 is an unconditional set, a missing key takes any cas); the same
// script shows both.
func TestKongSharedData(t *testing.T) {
	const mismatch = "error status returned by host: cas mismatch"
	script := "set:k:hello:0/get:k/get:nop/set:k:world:0/get:k/set:k:world:1/get:k/del:k:2/get:k/del:k:0/get:k/set:new:v:7/get:new"
	for _, tc := range []struct {
		p    Profile
		want []string
	}{
		{ProfileKong, []string{"set:k:hello:0=ok", "get:k=hello|1|ok", "get:nop=|0|" + errNotFound,
			"set:k:world:0=" + mismatch, "get:k=hello|1|ok", "set:k:world:1=ok", "get:k=world|2|ok",
			"del:k:2=ok", "get:k=|0|" + errNotFound, "del:k:0=" + mismatch, "get:k=|0|" + errNotFound,
			"set:new:v:7=" + mismatch, "get:new=|0|" + errNotFound}},
		{ProfileEnvoy, []string{"set:k:hello:0=ok", "get:k=hello|1|ok", "get:nop=|0|" + errNotFound,
			"set:k:world:0=ok", "get:k=world|2|ok", "set:k:world:1=" + mismatch, "get:k=world|2|ok",
			"set:new:v:7=ok", "get:new=v|"}},
	} {
		t.Run(string(tc.p), func(t *testing.T) {
			h := conformance(t, tc.p, "", func(c *Config) { c.KongSharedKV = true; c.Workers = 1 })
			res := h.Do(Request{Path: "/t", Headers: act("kv=" + script)}, Response{})
			got := strings.Join(res.LogsAt(LogInfo), "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, "kv "+w) {
					t.Errorf("missing %q in:\n%s", "kv "+w, got)
				}
			}
		})
	}
}

// The host-function-by-phase rules of hfuncs/contexts/: 107 add_http_request_header (allowed in
// on_request_headers/on_request_body, traps "can only set request headers before response is produced" in
// response phases and on_log), 108 add_http_response_header (allowed from on_request_headers to
// on_response_headers, traps from on_response_body on), 113 get_http_request_body (NOT_FOUND in
// on_request_headers (TEST 5 "status: 1"), the body in on_request_body and on_log, traps in response phases),
// 116 set_http_response_body (only in on_response_body, traps elsewhere).
func TestKongHostFunctionsByPhase(t *testing.T) {
	h := kongHost(t)
	for _, tc := range []struct {
		act, want string // want: the logged status, or "trap"
	}{
		{"add-req-hdr@reqhdr", "ok"}, {"add-req-hdr@reqbody", "ok"}, // 107 TEST 5, 6
		{"add-req-hdr@resphdr", "trap"}, {"add-req-hdr@respbody", "trap"}, {"add-req-hdr@log", "trap"}, // 107 TEST 7-9
		{"add-resp-hdr@reqhdr", "ok"}, {"add-resp-hdr@resphdr", "ok"}, // 108 TEST 5, 7
		{"add-resp-hdr@respbody", "trap"}, {"add-resp-hdr@log", "trap"}, // 108 TEST 8, 9
		{"get-req-body@reqhdr", errNotFound}, {"get-req-body@reqbody", "ok"}, {"get-req-body@log", "ok"}, // 113 TEST 5, 6, 9
		{"get-req-body@resphdr", "trap"}, {"get-req-body@respbody", "trap"}, // 113 TEST 7, 8
		{"set-resp-body@respbody", "ok"}, {"set-resp-body@reqhdr", "trap"}, {"set-resp-body@reqbody", "trap"}, // 116 TEST 8, 5, 6
		{"set-resp-body@resphdr", "trap"}, {"set-resp-body@log", "trap"}, // 116 TEST 7, 9
	} {
		res := h.Do(Request{Method: "POST", Path: "/t", Body: []byte("payload"), Headers: act("ctx=" + tc.act)}, Response{Body: []byte("ok")})
		logs := strings.Join(res.LogsAt(LogInfo), "\n")
		switch {
		case tc.want == "trap" && !res.Trapped:
			t.Errorf("%s: want a trap; logs %s", tc.act, logs)
		case tc.want != "trap" && (res.Trapped || !strings.Contains(logs, "ctx "+tc.act+"="+tc.want)):
			t.Errorf("%s: want %q; trapped %v %v, logs %s", tc.act, tc.want, res.Trapped, res.Traps, logs)
		case strings.HasPrefix(tc.act, "add-resp-hdr@") && tc.want == "ok" && header(res.Headers, "x-ctx") != "1":
			t.Errorf("%s: the header did not reach the client: %v", tc.act, res.Headers) // 108 TEST 5 "foo: bar"
		}
	}
}

// 102-proxy_send_local_response.t TEST 12: a local response from on_request_headers is the response (with a
// text/plain content type when the plugin set none) and on_log still runs; TEST 13-15: one from
// on_response_headers replaces the upstream's answer (status and body), and on_log runs.
func TestKongLocalResponses(t *testing.T) {
	h := kongHost(t)
	res := h.Do(Request{Path: "/t", Headers: act("deny-headers")}, Response{Body: []byte("fail")})
	if res.Status != 403 || res.Upstream != nil || !strings.HasPrefix(header(res.Headers, "content-type"), "text/plain") {
		t.Errorf("TEST 12: status %d upstream %v headers %v", res.Status, res.Upstream != nil, res.Headers)
	}
	ran := func(r Result) bool {
		for _, c := range r.Callbacks {
			if c.Name == "proxy_on_log" {
				return true
			}
		}
		return false
	}
	if !ran(res) {
		t.Errorf("TEST 12: on_log did not run")
	}
	res = h.Do(Request{Path: "/t", Headers: act("resp-deny")}, Response{Status: 200, Body: []byte("[original response body]")})
	if res.Status != 502 || strings.Contains(string(res.Body), "original") || !ran(res) {
		t.Errorf("TEST 15: status %d body %q on_log %v", res.Status, res.Body, ran(res))
	}
}

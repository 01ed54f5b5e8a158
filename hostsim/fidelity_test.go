package hostsim

import (
	"strings"
	"testing"
)

const (
	errNotFound = "error status returned by host: not found"
	errInternal = "error status returned by host: internal failure"
)

// TestRequestPropertiesLifetime: Envoy answers request.* properties from the request headers only while the
// context holds them (Context::getProperty reads request_headers_, set in decodeHeaders and dropped when
// on_request_headers returns Continue or the plugin calls proxy_continue_stream, or the access-log copy in
// proxy_on_log); the reference host (../shared/tools/realhost) does the same: request.path and
// request.headers.<h> are NOT_FOUND in body and response callbacks; likewise response.headers.<h> after
// on_response_headers returned Continue. Kong answers them from nginx's request in every phase
// (ngx_wasm_module t/03-proxy_wasm/hfuncs/117-proxy_properties_get.t TEST 2 "request properties on:
// request_headers, request_body, response_headers, response_body" and TEST 4 "request.headers.[header_name]"
// in the same phases; TEST 6 response.headers in response_headers and response_body).
func TestRequestPropertiesLifetime(t *testing.T) {
	ok := func(v string) string { return v + "|ok" }
	nf := "|" + errNotFound
	cases := []struct {
		p    Profile
		want map[string]string // "<where>:<property>" -> "value|err"
	}{
		{ProfileEnvoy, map[string]string{
			"hdr:request.path": ok("/x?q=1"), "hdr:request.url_path": ok("/x"), "hdr:request.method": ok("POST"),
			"hdr:request.headers.x-tenant": ok("acme"), "hdr:response.headers.x-up": nf,
			"body:request.path": nf, "body:request.url_path": nf, "body:request.method": nf, "body:request.headers.x-tenant": nf,
			"resp:request.path": nf, "resp:request.headers.x-tenant": nf, "resp:response.headers.x-up": ok("u1"),
			"respbody:request.path": nf, "respbody:response.headers.x-up": nf,
			"log:request.path": ok("/x?q=1"), "log:request.headers.x-tenant": ok("acme"), "log:response.headers.x-up": ok("u1"),
		}},
		{ProfileEnvoyFullWASI, map[string]string{
			"hdr:request.headers.x-tenant": ok("acme"), "body:request.headers.x-tenant": nf, "log:request.headers.x-tenant": ok("acme"),
		}},
		{ProfileKong, map[string]string{
			"hdr:request.path": ok("/x?q=1"), "hdr:request.url_path": ok("/x"), "hdr:request.method": ok("POST"),
			"hdr:request.headers.x-tenant": ok("acme"),
			"body:request.path":            ok("/x?q=1"), "body:request.method": ok("POST"), "body:request.headers.x-tenant": ok("acme"),
			"resp:request.path": ok("/x?q=1"), "resp:request.headers.x-tenant": ok("acme"), "resp:response.headers.x-up": ok("u1"),
			"respbody:request.path": ok("/x?q=1"), "respbody:request.headers.x-tenant": ok("acme"), "respbody:response.headers.x-up": ok("u1"),
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.p), func(t *testing.T) {
			h := conformance(t, tc.p, "", func(c *Config) { c.KongSharedKV = true })
			res := h.Do(Request{Method: "POST", Path: "/x?q=1", Body: []byte("b"), Headers: append(act("read-req"), [2]string{"x-tenant", "acme"})},
				Response{Headers: [][2]string{{"x-up", "u1"}}, Body: []byte("ok")})
			got := map[string]string{}
			for _, m := range res.LogsAt(LogInfo) {
				if rest, found := strings.CutPrefix(m, "prop-in-"); found {
					k, v, _ := strings.Cut(rest, "=")
					got[k] = v
				}
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s = %q, want %q", k, got[k], w)
				}
			}
		})
	}
	// While the headers are paused (opt-in StopIteration delivers the body) they are still held: request.*
	// answers in the body callback, as in Envoy.
	h := New(t, Config{Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance"), AllowOnHeadersStopIteration: true}}})
	res := h.Do(Request{Path: "/x", Body: []byte("b"), Headers: append(act("read-req;pause-headers;buffer"), [2]string{"x-tenant", "acme"})}, Response{})
	if !strings.Contains(strings.Join(res.LogsAt(LogInfo), "\n"), "prop-in-body:request.headers.x-tenant=acme|ok") {
		t.Fatalf("paused headers must stay readable as properties: %v", res.LogsAt(LogInfo))
	}
}

// TestScopedPropertyOutsideRequest: Kong refuses a scoped (dotted) property outside of a request with an error
// ("cannot get scoped properties outside of a request"), which proxy_get_property returns as INTERNAL_FAILURE
// (117-proxy_properties_get.t TEST 19 request.id on tick, TEST 20 response.* on tick); plugin_name stays
// readable there (TEST 16). Envoy answers NOT_FOUND (no stream info in a root context).
func TestScopedPropertyOutsideRequest(t *testing.T) {
	for _, tc := range []struct {
		p          Profile
		prop, want string
	}{
		{ProfileKong, "request.id", "|" + errInternal},
		{ProfileKong, "response.code", "|" + errInternal},
		{ProfileKong, "plugin_name", "conf|ok"},
		{ProfileEnvoy, "request.id", "|" + errNotFound},
		{ProfileEnvoy, "plugin_name", "conf|ok"},
	} {
		t.Run(string(tc.p)+"/"+tc.prop, func(t *testing.T) {
			h := conformance(t, tc.p, "tick=200,tick-prop="+tc.prop, func(c *Config) { c.Workers = 1; c.KongSharedKV = true })
			if !h.TickOn("conf", 0) {
				t.Fatal("no tick")
			}
			want := "tick-prop " + tc.prop + "=" + tc.want
			for _, e := range h.Logs() {
				if strings.HasPrefix(e.Message, "tick-prop ") {
					if e.Message != want {
						t.Fatalf("%q, want %q", e.Message, want)
					}
					return
				}
			}
			t.Fatalf("no tick-prop log: %v", h.Logs())
		})
	}
}

// TestHeldResponseHeadersHang: a plugin that pauses on_response_headers and waits for the body (outputguard's
// hold_headers) hangs on Envoy without allow_on_headers_stop_iteration, as on the reference host (realhost
// reports "hung"): the Pause is StopAllIterationAndWatermark and the body is never delivered. hostsim reports
// the stream as hung and says why; with the opt-in the body arrives and the response completes.
func TestHeldResponseHeadersHang(t *testing.T) {
	for _, allow := range []bool{false, true} {
		h := New(t, Config{Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance"), AllowOnHeadersStopIteration: allow}}})
		res := h.Do(Request{Path: "/x", Headers: act("resp-hold")}, Response{Body: []byte("answer")})
		if allow {
			if res.Hung || res.Status != 200 || string(res.Body) != "answer" {
				t.Errorf("with allow_on_headers_stop_iteration: hung %v status %d body %q", res.Hung, res.Status, res.Body)
			}
			continue
		}
		if !res.Hung || res.Status != 0 || !strings.Contains(res.HungWhy, "conf paused on_response_headers") ||
			!strings.Contains(res.HungWhy, "allow_on_headers_stop_iteration") {
			t.Errorf("without the opt-in: hung %v status %d why %q", res.Hung, res.Status, res.HungWhy)
		}
	}
}

// TestHeldResponseFailedFromTick: how a filter can fail such a stream clearly, since no host tells a module
// whether allow_on_headers_stop_iteration is on: it remembers the contexts that hold their response headers,
// and its root context's on_tick sets the effective context of one whose body never came and sends a local
// reply. Envoy defers that reply until on_tick returns and, the upstream response having started, sends it
// directly to the client (FilterManager::sendLocalReply → sendDirectLocalReply); hostsim does the same.
func TestHeldResponseFailedFromTick(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "tick=100,watchdog", func(c *Config) { c.Workers = 1 })
	s := h.OpenStream(0, Request{Path: "/x", Headers: act("resp-hold")})
	s.SendRequestHeaders(true)
	s.SendResponseHeaders(200, [][2]string{{"content-type", "application/json"}}, false)
	s.SendResponseBody([]byte(`{"answer":"held"}`), true)
	if r := s.Result(); r.Status != 0 || len(r.Body) != 0 {
		t.Fatalf("the held response went out: %d %q", r.Status, r.Body)
	}
	if !h.TickOn("conf", 0) {
		t.Fatal("no tick")
	}
	res := s.Close()
	if res.Hung || res.Status != 502 || !res.LocalReply || !strings.Contains(string(res.Body), "never arrived") ||
		header(res.Headers, "x-wasmguard-reason") != "response_hold_never_released" {
		t.Fatalf("hung %v status %d local %v body %q headers %v", res.Hung, res.Status, res.LocalReply, res.Body, res.Headers)
	}
}

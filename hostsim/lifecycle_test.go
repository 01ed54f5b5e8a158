package hostsim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestPassThroughAllProfiles(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			h := conformance(t, p, "")
			res := h.Do(Request{Path: "/v1/chat", Body: []byte(`{"q":"hi"}`), Headers: act("pairs")},
				Response{Status: 201, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"ok":true}`)})
			if res.Upstream == nil || string(res.Upstream.Body) != `{"q":"hi"}` {
				t.Fatalf("upstream = %+v", res.Upstream)
			}
			if got := header(res.Upstream.Headers, "x-pairs"); got == "" || got == "0" {
				t.Fatalf("x-pairs = %q (pairs API not delivered)", got)
			}
			if res.Status != 201 || string(res.Body) != `{"ok":true}` || header(res.Headers, "x-seen-status") != "201" {
				t.Fatalf("client got %d %q %v", res.Status, res.Body, res.Headers)
			}
			if res.LocalReply || res.Trapped || res.Hung || res.Reset {
				t.Fatalf("unexpected flags: %+v", res)
			}
			if errs := res.LogsAt(LogError); len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			want := []string{"proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_response_body", "proxy_on_log", "proxy_on_done", "proxy_on_delete"}
			var got []string
			for _, c := range res.Callbacks {
				got = append(got, c.Name)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("callbacks = %v, want %v", got, want)
			}
			if n, ok := h.Metric("conformance_requests_total"); !ok || n != 1 {
				t.Fatalf("requests metric = %d %v", n, ok)
			}
			if n, _ := h.Metric("conformance_inflight"); n != 0 {
				t.Fatalf("inflight gauge = %d after the stream ended", n)
			}
			// Kong reports end_of_stream=false for headers, even without a body.
			res = h.Do(Request{Method: "GET"}, Response{})
			eos := res.Callbacks[0].Args[1]
			if wantEOS := uint64(b2u(p != ProfileKong)); eos != wantEOS {
				t.Fatalf("headers eos = %d, want %d", eos, wantEOS)
			}
		})
	}
}

func TestCanaryAndWorkersRunStartEachTime(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 3 })
	started := 0
	for _, e := range h.Logs() {
		if e.Message == "conformance: started" {
			started++
		}
	}
	if started != 4 { // canary + 3 workers
		t.Fatalf("OnPluginStart ran %d times, want 4 (canary + 3 workers)", started)
	}
	kong := conformance(t, ProfileKong, "", func(c *Config) { c.Workers = 2 })
	started = 0
	for _, e := range kong.Logs() {
		if e.Message == "conformance: started" {
			started++
		}
	}
	if started != 2 {
		t.Fatalf("Kong: OnPluginStart ran %d times, want 2 (no canary)", started)
	}
}

func TestConfigRejectedStartError(t *testing.T) {
	_, err := Start(Config{Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance"), Config: []byte("reject")}}})
	if err == nil {
		t.Fatal("Start accepted a configuration the plugin rejected")
	}
	for _, want := range []string{`"conf"`, "configuration rejected", "reject: configuration rejected on purpose"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q lacks %q", err, want)
		}
	}
}

func TestBodyChunksBufferCumulativeAndRewrite(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			h := conformance(t, p, "")
			body := []byte(`{"messages":[{"role":"user","content":"hello world, this is a long body"}]}`)
			res := h.Do(Request{Body: body, ChunkSize: 7, Headers: act("rewrite;remove-cl")}, Response{Body: []byte("ok")})
			if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, bytes.ToUpper(body)) {
				t.Fatalf("upstream body = %q", res.Upstream)
			}
			var sizes []uint64
			for _, c := range res.Callbacks {
				if c.Name == "proxy_on_request_body" {
					sizes = append(sizes, c.Args[0])
				}
			}
			if p == ProfileKong {
				// Kong hands the whole body once, with eof.
				if len(sizes) != 1 || sizes[0] != uint64(len(body)) {
					t.Fatalf("Kong body calls = %v", sizes)
				}
				return
			}
			want := (len(body) + 6) / 7
			if len(sizes) != want {
				t.Fatalf("body calls = %d, want %d", len(sizes), want)
			}
			for i, s := range sizes { // cumulative while paused
				if exp := min(7*(i+1), len(body)); s != uint64(exp) {
					t.Fatalf("call %d size = %d, want cumulative %d", i, s, exp)
				}
			}
			if got := res.Action("conf", "proxy_on_request_body"); got != 0 {
				t.Fatalf("last body action = %d", got)
			}
		})
	}
}

func TestLocalReplyFromBodyReentersResponseCallbacks(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Body: []byte(`{"content":"something evil here"}`), ChunkSize: 5, Headers: act("deny-body")}, Response{Body: []byte("never")})
	if res.Status != 403 || string(res.Body) != "blocked" || !res.LocalReply || res.LocalReplyPlugin != "conf" {
		t.Fatalf("got %d %q local=%v from=%q", res.Status, res.Body, res.LocalReply, res.LocalReplyPlugin)
	}
	if res.Upstream != nil {
		t.Fatal("upstream got a complete request")
	}
	if !res.UpstreamHeadersSent {
		t.Fatal("headers continued: upstream must have seen the headers (Envoy starts the upstream request)")
	}
	// The local reply re-entered the plugin's response callbacks.
	if header(res.Headers, "x-seen-status") != "403" {
		t.Fatalf("on_response_headers did not see the local reply: %v", res.Headers)
	}
	if header(res.Headers, "content-type") != "text/plain" {
		t.Fatalf("content-type = %q", header(res.Headers, "content-type"))
	}
	// Clean body passes.
	res = h.Do(Request{Body: []byte(`{"content":"fine"}`), ChunkSize: 5, Headers: act("deny-body")}, Response{Body: []byte("ok")})
	if res.Status != 200 || res.Upstream == nil {
		t.Fatalf("clean body: %d upstream=%v", res.Status, res.Upstream)
	}
}

func TestLocalReplyFromHeaders(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			h := conformance(t, p, "")
			res := h.Do(Request{Body: []byte("x"), Headers: act("deny-headers")}, Response{})
			want := "denied"
			if p == ProfileKong {
				want = "denied\n" // Kong appends a newline
			}
			if res.Status != 403 || string(res.Body) != want || header(res.Headers, "x-denied") != "1" {
				t.Fatalf("got %d %q %v", res.Status, res.Body, res.Headers)
			}
			if res.UpstreamHeadersSent || res.Upstream != nil {
				t.Fatal("upstream saw the request")
			}
			if got := res.Action("conf", "proxy_on_request_headers"); got != 1 {
				t.Fatalf("headers action = %d", got)
			}
			for _, c := range res.Callbacks {
				if c.Name == "proxy_on_request_body" {
					t.Fatal("body delivered after a local reply")
				}
			}
		})
	}
}

func TestSecondLocalReplyTrapsOnKong(t *testing.T) {
	h := conformance(t, ProfileKong, "")
	res := h.Do(Request{Headers: act("deny-twice")}, Response{})
	if !res.Trapped || res.Status != 500 {
		t.Fatalf("Kong: a second local response must trap: %+v", res)
	}
	e := conformance(t, ProfileEnvoy, "")
	res = e.Do(Request{Headers: act("deny-twice")}, Response{})
	if res.Trapped || res.Status != 404 {
		t.Fatalf("Envoy: the last local response wins: status %d trapped %v", res.Status, res.Trapped)
	}
}

func TestHeaderPauseHoldsBodyUntilResume(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	h.HandleCallouts("auth", func(c CalloutRequest) CalloutResponse {
		if string(c.Body) != "check me" || c.Timeout.Milliseconds() != 500 {
			t.Errorf("callout = %+v", c)
		}
		return CalloutResponse{Status: 200, Body: []byte("allow")}
	})
	res := h.Do(Request{Body: []byte("0123456789"), ChunkSize: 3, Headers: act("callout")}, Response{Body: []byte("ok")})
	if res.Status != 200 || res.Upstream == nil || string(res.Upstream.Body) != "0123456789" {
		t.Fatalf("got %d upstream %+v", res.Status, res.Upstream)
	}
	if header(res.Upstream.Headers, "x-callout-status") != "200" {
		t.Fatalf("request header set in the callout callback missing: %v", res.Upstream.Headers)
	}
	if len(res.Callouts) != 1 || res.Callouts[0].Cluster != "auth" {
		t.Fatalf("callouts = %+v", res.Callouts)
	}
	// The held body is delivered after the resume (as one chunk here).
	var bodyCalls int
	for _, c := range res.Callbacks {
		if c.Name == "proxy_on_request_body" {
			bodyCalls++
		}
	}
	if bodyCalls == 0 {
		t.Fatal("body never delivered after resume")
	}

	// A deny answer from the callout becomes a local reply.
	h.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{Body: []byte("deny")} })
	res = h.Do(Request{Body: []byte("x"), Headers: act("callout")}, Response{})
	if res.Status != 403 || res.Upstream != nil || res.UpstreamHeadersSent {
		t.Fatalf("deny via callout: %d upstream=%v", res.Status, res.Upstream)
	}

	// Forgetting to resume hangs on Envoy...
	h.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{} })
	res = h.Do(Request{Headers: act("callout;no-resume")}, Response{})
	if !res.Hung || res.Status != 0 {
		t.Fatalf("no resume on Envoy must hang: %+v", res)
	}
	// ...but Kong resumes the chain by itself.
	k := conformance(t, ProfileKong, "")
	k.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{} })
	res = k.Do(Request{Headers: act("callout;no-resume")}, Response{Body: []byte("ok")})
	if res.Hung || res.Status != 200 {
		t.Fatalf("Kong auto-resume: %+v", res)
	}
}

func TestCalloutFailures(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	h.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{Timeout: true} })
	res := h.Do(Request{Headers: act("callout")}, Response{})
	if res.Status != 200 || header(res.Upstream.Headers, "x-callout-status") != "504" {
		t.Fatalf("timeout must arrive as a synthetic 504: %+v", res.Upstream)
	}
	h.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{Reset: true} })
	res = h.Do(Request{Headers: act("callout")}, Response{})
	if header(res.Upstream.Headers, "x-callout-status") != "reset" {
		t.Fatalf("reset must arrive with 0 headers: %v", res.Upstream.Headers)
	}
	res = h.Do(Request{Headers: act("callout-bad;callout-unknown")}, Response{})
	if got := header(res.Upstream.Headers, "x-callout-err"); got != "error status returned by host: bad argument" {
		t.Fatalf("missing pseudo-headers / unknown cluster: %q", got)
	}
}

func TestResponseRewriteAndStreaming(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: act("resp-rewrite")}, Response{Chunks: [][]byte{[]byte("ab"), []byte("cd")}})
	if string(res.Body) != "[abcd]" || len(res.Chunks) != 1 {
		t.Fatalf("buffered rewrite: body %q chunks %q", res.Body, res.Chunks)
	}
	res = h.Do(Request{Headers: act("resp-upper")}, Response{Chunks: [][]byte{[]byte("data: a\n\n"), []byte("data: b\n\n")}})
	if len(res.Chunks) != 2 || string(res.Chunks[0]) != "DATA: A\n\n" || string(res.Chunks[1]) != "DATA: B\n\n" {
		t.Fatalf("streamed chunks = %q", res.Chunks)
	}
	// A local reply after the response headers went downstream can only reset.
	res = h.Do(Request{Headers: act("resp-deny-late")}, Response{Chunks: [][]byte{[]byte("a"), []byte("b")}})
	if !res.Reset || res.Status != 200 || string(res.Body) != "a" {
		t.Fatalf("late local reply: reset=%v status=%d body=%q", res.Reset, res.Status, res.Body)
	}
	// Before headers went downstream it replaces the upstream response.
	res = h.Do(Request{Headers: act("resp-deny")}, Response{Body: []byte("upstream")})
	if res.Status != 502 || string(res.Body) != "bad upstream" || res.Reset {
		t.Fatalf("response local reply: %d %q", res.Status, res.Body)
	}
}

func TestBufferLimit(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.BufferLimit = 64 })
	res := h.Do(Request{Body: bytes.Repeat([]byte("a"), 200), ChunkSize: 16, Headers: act("buffer")}, Response{})
	if res.Status != 413 || res.LocalReplyDetails != "request_payload_too_large" || res.Upstream != nil {
		t.Fatalf("request over the buffer limit: %d %q", res.Status, res.LocalReplyDetails)
	}
	if header(res.Headers, "x-seen-status") != "413" {
		t.Fatal("413 did not re-enter the plugin's response callbacks")
	}
	res = h.Do(Request{Headers: act("resp-rewrite")}, Response{Chunks: [][]byte{bytes.Repeat([]byte("b"), 50), bytes.Repeat([]byte("b"), 50)}})
	// Continue-headers/Pause-body: the headers already went downstream, so Envoy can
	// only reset the stream.
	if !res.Reset || res.Status != 200 || len(res.Body) != 0 {
		t.Fatalf("response over the buffer limit after headers went out: reset=%v status=%d", res.Reset, res.Status)
	}
}

func TestTrailersEndTheBody(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Body: []byte("hello"), Trailers: [][2]string{{"grpc-status", "0"}}, Headers: act("buffer")}, Response{})
	if res.Upstream == nil || string(res.Upstream.Body) != "hello" || header(res.Upstream.Trailers, "grpc-status") != "0" {
		t.Fatalf("upstream = %+v", res.Upstream)
	}
	// The last body call has eos=false: a plugin that only scans at eos never saw it.
	var lastEOS uint64 = 9
	for _, c := range res.Callbacks {
		if c.Name == "proxy_on_request_body" {
			lastEOS = c.Args[1]
		}
	}
	if lastEOS != 0 {
		t.Fatalf("last body eos = %d, want 0 (trailers end the stream)", lastEOS)
	}
}

func TestDuplicateHeadersFirstValueOnly(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: [][2]string{{"x-act", "dup;prop=request.headers.x-dup"}, {"x-dup", "one"}, {"x-dup", "two"}}}, Response{})
	if got := header(res.Upstream.Headers, "x-dup-first"); got != "one" {
		t.Fatalf("get_header_map_value = %q, want the first value", got)
	}
	if got := header(res.Upstream.Headers, "x-prop"); got != "one,two" {
		t.Fatalf("request.headers property = %q, want comma-joined", got)
	}
}

func TestSetHeaderMapPairsOverLimitWipesHeaders(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: [][2]string{{"x-act", "wipe-headers"}, {"authorization", "Bearer x"}}}, Response{})
	if res.Upstream == nil {
		t.Fatal("no upstream")
	}
	if len(res.Upstream.Headers) != 0 {
		t.Fatalf(">1024 pairs must be treated as an empty map: %d headers left", len(res.Upstream.Headers))
	}
}

func TestProperties(t *testing.T) {
	cases := []struct {
		profile Profile
		prop    string
		want    string
	}{
		{ProfileEnvoy, "xds.route_name", "chat"},
		{ProfileEnvoy, "request.path", "/v1/x?y=1"},
		{ProfileEnvoy, "request.url_path", "/v1/x"},
		{ProfileEnvoy, "request.host", "api.example.com"},
		{ProfileEnvoy, "plugin_name", "conf"},
		{ProfileEnvoy, "source.port", "50000"}, // 8-byte little-endian int
		{ProfileEnvoy, "custom.flag", "yes"},
		{ProfileKong, "xds.route_name", "err:error status returned by host: not found"},
		{ProfileKong, "kong.route_name", "chat"},
		{ProfileKong, "request.host", "hostsim"},
		{ProfileKong, "source.port", "50000"}, // string
	}
	for _, tc := range cases {
		t.Run(string(tc.profile)+"/"+tc.prop, func(t *testing.T) {
			h := conformance(t, tc.profile, "")
			res := h.Do(Request{Path: "/v1/x?y=1", Authority: "api.example.com", Route: "chat",
				Headers: act("prop=" + tc.prop), Properties: map[string][]byte{"custom.flag": []byte("yes")}}, Response{})
			if got := header(res.Upstream.Headers, "x-prop"); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.prop, got, tc.want)
			}
		})
	}
}

func TestSetPropertyPerProfile(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: act("set-prop")}, Response{})
	if got := header(res.Upstream.Headers, "x-set-prop"); got != "hello|ok|ok" {
		t.Fatalf("Envoy set/get property = %q", got)
	}
}

func TestForeignFunctions(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: act("foreign=compress")}, Response{})
	got := header(res.Upstream.Headers, "x-foreign")
	if !strings.HasSuffix(got, "|ok") || got == "0|ok" {
		t.Fatalf("compress = %q", got)
	}
	res = h.Do(Request{Headers: act("foreign=nope")}, Response{})
	if got := header(res.Upstream.Headers, "x-foreign"); got != "0|error status returned by host: not found" {
		t.Fatalf("unknown foreign function = %q", got)
	}
}

// TestMapLifetime: Envoy's context forgets the request headers once on_request_headers
// returned Continue (or the plugin called proxy_continue_stream): reading them in the
// body or response callbacks is BAD_ARGUMENT; proxy_on_log reads the access-log copy.
// Kong keeps them readable.
func TestMapLifetime(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		want []string
	}{
		{ProfileEnvoy, []string{"req-in-body=|error status returned by host: bad argument", "req-in-resp=|error status returned by host: bad argument", "req-in-log=/x|ok"}},
		{ProfileKong, []string{"req-in-body=/x|ok", "req-in-resp=/x|ok", "req-in-log=/x|ok"}},
	} {
		t.Run(string(tc.p), func(t *testing.T) {
			h := conformance(t, tc.p, "")
			res := h.Do(Request{Path: "/x", Body: []byte("b"), Headers: act("read-req")}, Response{Body: []byte("ok")})
			got := strings.Join(res.LogsAt(LogInfo), "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("missing %q in logs:\n%s", w, got)
				}
			}
		})
	}
	// While the headers are paused they stay readable in the body callback (opt-in
	// StopIteration delivers the body).
	h := New(t, Config{Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance"), AllowOnHeadersStopIteration: true}}})
	res := h.Do(Request{Path: "/x", Body: []byte("b"), Headers: act("read-req;pause-headers;buffer")}, Response{})
	if !strings.Contains(strings.Join(res.LogsAt(LogInfo), "\n"), "req-in-body=/x|ok") {
		t.Fatalf("paused headers must stay readable: %v", res.LogsAt(LogInfo))
	}
}

func TestLogLimitAndOnLog(t *testing.T) {
	var live int
	h := conformance(t, ProfileEnvoy, "", func(c *Config) {
		c.LogLimit = 10
		c.OnLog = func(LogEntry) { live++ }
	})
	for i := 0; i < 20; i++ {
		h.Do(Request{}, Response{})
	}
	if n := len(h.Logs()); n != 10 {
		t.Fatalf("kept %d logs, want 10", n)
	}
	if live < 20 {
		t.Fatalf("OnLog saw %d entries", live)
	}
}

func TestConfigChunkSize(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.ChunkSize = 4 })
	res := h.Do(Request{Body: []byte("0123456789"), Headers: act("buffer")}, Response{Body: []byte("abcdefghij")})
	calls := 0
	for _, c := range res.Callbacks {
		if c.Name == "proxy_on_request_body" {
			calls++
		}
	}
	if calls != 3 || len(res.Chunks) != 3 || string(res.Body) != "abcdefghij" || string(res.Upstream.Body) != "0123456789" {
		t.Fatalf("request body calls %d, response chunks %q", calls, res.Chunks)
	}
}

// TestUpstreamHeadersLeakBeforeBodyVerdict: with "Continue headers, Pause body" Envoy's
// router already sent the headers upstream when the body gets blocked; Kong buffers the
// request and never connects.
func TestUpstreamHeadersLeakBeforeBodyVerdict(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		leak bool
	}{{ProfileEnvoy, true}, {ProfileKong, false}} {
		h := conformance(t, tc.p, "")
		res := h.Do(Request{Body: []byte(`evil`), Headers: act("deny-body")}, Response{})
		if res.Status != 403 || res.Upstream != nil || res.UpstreamHeadersSent != tc.leak {
			t.Fatalf("%s: status %d upstream %v headers sent %v", tc.p, res.Status, res.Upstream, res.UpstreamHeadersSent)
		}
	}
}

func TestEmptyLastChunk(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Body: []byte("abcdef"), ChunkSize: 3, EmptyLastChunk: true, Headers: act("rewrite;remove-cl")},
		Response{Chunks: [][]byte{[]byte("x"), []byte("y")}, EmptyLastChunk: true})
	var req, resp []string
	for _, c := range res.Callbacks {
		switch c.Name {
		case "proxy_on_request_body":
			req = append(req, fmt.Sprint(c.Args))
		case "proxy_on_response_body":
			resp = append(resp, fmt.Sprint(c.Args))
		}
	}
	// cumulative while paused: 3, 6, then the empty end_of_stream chunk (6, true)
	if strings.Join(req, " ") != "[3 0] [6 0] [6 1]" || strings.Join(resp, " ") != "[1 0] [1 0] [0 1]" {
		t.Fatalf("request calls %v, response calls %v", req, resp)
	}
	if string(res.Upstream.Body) != "ABCDEF" || string(res.Body) != "xy" {
		t.Fatalf("upstream %q client %q", res.Upstream.Body, res.Body)
	}
}

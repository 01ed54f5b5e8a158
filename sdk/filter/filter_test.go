//go:build !wasm

// The lifecycle tests drive the helpers through the SDK's proxytest host emulator, which only exists in
// native builds.

package filter

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// testHTTP is an HttpContext whose callbacks are set per test.
type testHTTP struct {
	types.DefaultHttpContext
	reqHeaders  func(eos bool) types.Action
	reqBody     func(size int, eos bool) types.Action
	reqTrailers func() types.Action
	respBody    func(size int, eos bool) types.Action
}

func (h *testHTTP) OnHttpRequestHeaders(_ int, eos bool) types.Action {
	if h.reqHeaders != nil {
		return h.reqHeaders(eos)
	}
	return types.ActionContinue
}

func (h *testHTTP) OnHttpRequestBody(size int, eos bool) types.Action {
	if h.reqBody != nil {
		return h.reqBody(size, eos)
	}
	return types.ActionContinue
}

func (h *testHTTP) OnHttpRequestTrailers(int) types.Action {
	if h.reqTrailers != nil {
		return h.reqTrailers()
	}
	return types.ActionContinue
}

func (h *testHTTP) OnHttpResponseBody(size int, eos bool) types.Action {
	if h.respBody != nil {
		return h.respBody(size, eos)
	}
	return types.ActionContinue
}

func newHost(t *testing.T, h *testHTTP, opts ...func(*proxytest.EmulatorOption)) (proxytest.HostEmulator, uint32) {
	t.Helper()
	opt := proxytest.NewEmulatorOption().WithHttpContext(func(uint32) types.HttpContext { return h })
	for _, o := range opts {
		o(opt)
	}
	host, reset := proxytest.NewHostEmulator(opt)
	t.Cleanup(reset)
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("StartPlugin = %v", st)
	}
	return host, host.InitializeHttpContext()
}

type startPlugin struct {
	types.DefaultPluginContext
	cfg *config.Routed[testConfig]
}

type testConfig struct {
	config.Common
	Threshold float64
}

func parseTestConfig(raw []byte) (*config.Routed[testConfig], error) {
	return config.ParseRouted(raw, func(o config.Obj) testConfig {
		return testConfig{Common: config.ReadCommon(o), Threshold: o.Float("threshold", 0.5, 0, 1)}
	})
}

func (p *startPlugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, ok := LoadConfig("testf", parseTestConfig)
	if !ok {
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	return types.OnPluginStartStatusOK
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		want     types.OnPluginStartStatus
		wantLogs []string
	}{
		{"empty", "", types.OnPluginStartStatusOK, nil},
		{"valid", `{"threshold":0.9,"mode":"monitor"}`, types.OnPluginStartStatusOK, nil},
		{"invalid json", `{"threshold":`, types.OnPluginStartStatusFailed, []string{"testf: config: must be valid JSON; got invalid JSON at line 1, column 14"}},
		{"bad values", `{"threshold":"high","mode":"block","extra":1}`, types.OnPluginStartStatusFailed, []string{
			`testf: config: extra: unknown key`,
			`testf: config: mode: must be one of enforce, monitor; got "block"`,
			`testf: config: threshold: must be a number between 0 and 1; got "high"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &startPlugin{}
			opt := proxytest.NewEmulatorOption().
				WithPluginContext(func(uint32) types.PluginContext { return p }).
				WithPluginConfiguration([]byte(tc.config))
			host, reset := proxytest.NewHostEmulator(opt)
			defer reset()
			if got := host.StartPlugin(); got != tc.want {
				t.Fatalf("StartPlugin = %v, want %v", got, tc.want)
			}
			logs := host.GetCriticalLogs()
			if strings.Join(logs, "\n") != strings.Join(tc.wantLogs, "\n") {
				t.Fatalf("critical logs\n got: %q\nwant: %q", logs, tc.wantLogs)
			}
			if tc.want == types.OnPluginStartStatusOK && p.cfg == nil {
				t.Fatal("config not stored")
			}
		})
	}
}

func TestReadRequestInfo(t *testing.T) {
	var ri *config.RequestInfo
	h := &testHTTP{reqHeaders: func(bool) types.Action {
		ri = ReadRequestInfo("x-consumer-id", true)
		return types.ActionContinue
	}}
	host, id := newHost(t, h, func(o *proxytest.EmulatorOption) {
		o.WithProperty([]string{"xds", "route_name"}, []byte("chat-route"))
	})
	host.CallOnRequestHeaders(id, [][2]string{
		{":authority", "api.example.com"}, {":path", "/v1/chat/completions?x=1"}, {":method", "POST"},
		{"x-request-id", "req-42"}, {"x-consumer-id", "alice"}, {"x-consumer-id", "mallory"}, {"host", "other"},
	}, false)
	if ri == nil || ri.Host != "api.example.com" || ri.Path != "/v1/chat/completions?x=1" || ri.Method != "POST" ||
		ri.RequestID != "req-42" || ri.Consumer != "alice" || ri.Route != "chat-route" || len(ri.Headers) != 7 {
		t.Fatalf("RequestInfo = %+v", ri)
	}
}

func TestReadRequestInfoKongFallbacks(t *testing.T) {
	var ri *config.RequestInfo
	h := &testHTTP{reqHeaders: func(bool) types.Action {
		ri = ReadRequestInfo("", true)
		return types.ActionContinue
	}}
	// a host without pseudo-headers in the pairs and with Kong's properties
	host, id := newHost(t, h, func(o *proxytest.EmulatorOption) {
		o.WithProperty([]string{"kong", "route_name"}, []byte("kong-route")).
			WithProperty([]string{"request", "path"}, []byte("/v1/messages")).
			WithProperty([]string{"request", "method"}, []byte("POST"))
	})
	host.CallOnRequestHeaders(id, [][2]string{{"host", "llm.internal:8000"}}, false)
	if ri.Host != "llm.internal:8000" || ri.Path != "/v1/messages" || ri.Method != "POST" || ri.Route != "kong-route" {
		t.Fatalf("RequestInfo = %+v", ri)
	}
}

func TestRequestBodyChunks(t *testing.T) {
	var rb RequestBody
	rb.Limit = 100
	var got []byte
	var calls int
	h := &testHTTP{reqBody: func(size int, eos bool) types.Action {
		calls++
		body, step, err := rb.Collect(size, eos)
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		switch step {
		case StepMore:
			return types.ActionPause
		case StepReady:
			got = append([]byte(nil), body...)
		}
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, [][2]string{{":path", "/"}}, false)
	chunks := []string{`{"model":"gpt-4o",`, `"messages":[{"role":"user",`, `"content":"hi"}]}`}
	for i, c := range chunks {
		act := host.CallOnRequestBody(id, []byte(c), i == len(chunks)-1)
		want := types.ActionPause
		if i == len(chunks)-1 {
			want = types.ActionContinue
		}
		if act != want {
			t.Fatalf("chunk %d: action %v, want %v", i, act, want)
		}
	}
	if string(got) != strings.Join(chunks, "") {
		t.Fatalf("body %q", got)
	}
}

func TestRequestBodyTooLarge(t *testing.T) {
	rb := RequestBody{Limit: 10}
	var gotErr error
	h := &testHTTP{reqBody: func(size int, eos bool) types.Action {
		_, step, err := rb.Collect(size, eos)
		if err != nil {
			gotErr = err
			return types.ActionContinue
		}
		if step == StepMore {
			return types.ActionPause
		}
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, nil, false)
	if act := host.CallOnRequestBody(id, []byte("123456"), false); act != types.ActionPause {
		t.Fatalf("first chunk: %v", act)
	}
	if act := host.CallOnRequestBody(id, []byte("7890AB"), false); act != types.ActionContinue {
		t.Fatalf("second chunk: %v", act)
	}
	if !errors.Is(gotErr, ErrBodyTooLarge) || gotErr.Error() != "request body of 12 bytes: body exceeds max_body_bytes (10)" {
		t.Fatalf("err = %v", gotErr)
	}
	// later chunks are skipped, not re-reported
	gotErr = nil
	host.CallOnRequestBody(id, []byte("x"), true)
	if gotErr != nil {
		t.Fatalf("error reported twice: %v", gotErr)
	}
}

func TestRequestBodyEndsWithTrailers(t *testing.T) {
	var rb RequestBody
	var got []byte
	h := &testHTTP{
		reqBody: func(size int, eos bool) types.Action {
			if _, step, _ := rb.Collect(size, eos); step == StepMore {
				return types.ActionPause
			}
			return types.ActionContinue
		},
		reqTrailers: func() types.Action {
			body, step, err := rb.CollectAtTrailers()
			if err != nil || step != StepReady {
				t.Fatalf("CollectAtTrailers: %v %v", step, err)
			}
			got = append([]byte(nil), body...)
			return types.ActionContinue
		},
	}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, nil, false)
	host.CallOnRequestBody(id, []byte("part one, "), false)
	host.CallOnRequestBody(id, []byte("part two"), false)
	host.CallOnRequestTrailers(id, [][2]string{{"grpc-status", "0"}})
	if string(got) != "part one, part two" {
		t.Fatalf("body at trailers %q", got)
	}
}

func TestResponseBodyCollect(t *testing.T) {
	var rb ResponseBody
	var got []byte
	var emitted [][]byte
	var host proxytest.HostEmulator
	var id uint32
	h := &testHTTP{respBody: func(size int, eos bool) types.Action {
		body, step, err := rb.Collect(size, eos)
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if step == StepReady {
			got = append([]byte(nil), body...)
		}
		return types.ActionContinue
	}}
	host, id = newHost(t, h)
	host.CallOnRequestHeaders(id, nil, true)
	host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
	chunks := []string{`{"id":"chatcmpl-1",`, `"choices":[{"message":{"content":"hello"}}]`, `}`}
	for i, c := range chunks {
		if act := host.CallOnResponseBody(id, []byte(c), i == len(chunks)-1); act != types.ActionContinue {
			t.Fatalf("chunk %d: action %v", i, act)
		}
		emitted = append(emitted, append([]byte(nil), host.GetCurrentResponseBody(id)...))
	}
	full := strings.Join(chunks, "")
	if string(got) != full {
		t.Fatalf("collected %q", got)
	}
	if len(emitted[0]) != 0 || len(emitted[1]) != 0 || string(emitted[2]) != full {
		t.Fatalf("client saw %q", emitted)
	}
}

func TestResponseBodyOverLimitPassesThrough(t *testing.T) {
	rb := ResponseBody{Limit: 8}
	var errs []error
	h := &testHTTP{respBody: func(size int, eos bool) types.Action {
		if _, _, err := rb.Collect(size, eos); err != nil {
			errs = append(errs, err)
		}
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, nil, true)
	host.CallOnResponseBody(id, []byte("12345"), false)
	if len(host.GetCurrentResponseBody(id)) != 0 {
		t.Fatal("first chunk not held")
	}
	host.CallOnResponseBody(id, []byte("6789"), false)
	if got := string(host.GetCurrentResponseBody(id)); got != "123456789" {
		t.Fatalf("held bytes not written back in front of the chunk: %q", got)
	}
	host.CallOnResponseBody(id, []byte("tail"), true)
	if got := string(host.GetCurrentResponseBody(id)); got != "tail" {
		t.Fatalf("later chunk changed: %q", got)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrBodyTooLarge) {
		t.Fatalf("errors %v", errs)
	}
}

func TestResponseBodyDrop(t *testing.T) {
	rb := ResponseBody{Limit: 4}
	h := &testHTTP{respBody: func(size int, eos bool) types.Action {
		if _, _, err := rb.Collect(size, eos); err != nil {
			rb.Drop()
			_ = ReplaceResponseBody([]byte(`{"error":"blocked"}`))
		}
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, nil, true)
	host.CallOnResponseBody(id, []byte("secret-1"), false)
	if got := string(host.GetCurrentResponseBody(id)); got != `{"error":"blocked"}` {
		t.Fatalf("got %q", got)
	}
	host.CallOnResponseBody(id, []byte("secret-2"), true)
	if got := host.GetCurrentResponseBody(id); len(got) != 0 {
		t.Fatalf("dropped chunk leaked: %q", got)
	}
}

func TestStreamReplyOnce(t *testing.T) {
	s := Stream{Format: llm.FormatAnthropic}
	h := &testHTTP{reqHeaders: func(bool) types.Action {
		s.Info = ReadRequestInfo("", false)
		if err := s.Reply(403, "prompt_injection_detected", "blocked by policy"); err != nil {
			t.Fatal(err)
		}
		if err := s.Reply(500, "other", "second"); err != nil {
			t.Fatal(err)
		}
		return types.ActionPause
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, [][2]string{{"x-request-id", "r-7"}}, false)
	lr := host.GetSentLocalResponse(id)
	if lr == nil || lr.StatusCode != 403 {
		t.Fatalf("local response %+v", lr)
	}
	if gjson.GetBytes(lr.Data, "error.type").String() != "permission_error" || gjson.GetBytes(lr.Data, "request_id").String() != "r-7" {
		t.Fatalf("body %s", lr.Data)
	}
	if !s.Replied() {
		t.Fatal("Replied false")
	}
	var reason string
	for _, hd := range lr.Headers {
		if hd[0] == "x-wasmguard-reason" {
			reason = hd[1]
		}
	}
	if reason != "prompt_injection_detected" {
		t.Fatalf("headers %v", lr.Headers)
	}
}

func TestMetricsAndDecisionLog(t *testing.T) {
	var m *Metrics
	h := &testHTTP{reqHeaders: func(bool) types.Action {
		m = NewMetrics("testf")
		c := m.Counter("requests_total")
		c.Inc()
		c.Add(0) // Envoy rejects 0: must not reach the host
		c.Add(2)
		v := m.CounterVec("decisions_total", "action", "reason")
		v.Inc("block", "prompt_injection_detected")
		v.Inc("block", "prompt_injection_detected")
		v.Add(0, "allow", "")
		v.Inc("allow")
		m.Histogram("score_pct").Record(93)
		g := m.Gauge("inflight")
		g.Add(0)
		g.Add(3)
		LogDecision(telemetry.Decision{Filter: "testf", Action: "block", Reason: "prompt_injection_detected", RequestID: "r1"})
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, nil, true)
	for name, want := range map[string]uint64{
		"wasmguard_testf_requests_total":                                                3,
		"wasmguard_testf_decisions_total.action.block.reason.prompt_injection_detected": 2,
		"wasmguard_testf_decisions_total.action.allow.reason.none":                      1,
	} {
		got, err := host.GetCounterMetric(name)
		if err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, err, want)
		}
	}
	if v, err := host.GetGaugeMetric("wasmguard_testf_inflight"); err != nil || v != 3 {
		t.Errorf("gauge = %d, %v", v, err)
	}
	logs := host.GetInfoLogs()
	var found bool
	for _, l := range logs {
		if d, ok := telemetry.ParseDecision(l); ok && d.Reason == "prompt_injection_detected" && d.RequestID == "r1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no decision line in %q", logs)
	}
}

func TestRestrictAcceptEncoding(t *testing.T) {
	for in, want := range map[string]string{"br, gzip;q=0.8": "gzip;q=0.8", "br": "", "gzip": "gzip"} {
		t.Run(in, func(t *testing.T) { // one emulator per subtest: proxytest holds a global lock until reset
			restrictCase(t, in, want)
		})
	}
}

func restrictCase(t *testing.T, in, want string) {
	h := &testHTTP{reqHeaders: func(bool) types.Action {
		if err := RestrictAcceptEncoding(ReadRequestInfo("", false)); err != nil {
			t.Fatal(err)
		}
		return types.ActionContinue
	}}
	host, id := newHost(t, h)
	host.CallOnRequestHeaders(id, [][2]string{{":path", "/"}, {"accept-encoding", in}}, false)
	got, present := "", false
	for _, hd := range host.GetCurrentRequestHeaders(id) {
		if hd[0] == "accept-encoding" {
			got, present = hd[1], true
		}
	}
	if got != want || present != (want != "") {
		t.Errorf("accept-encoding %q -> %q (present %v), want %q", in, got, present, want)
	}
}

func TestRequestInfoFromHeaders(t *testing.T) {
	ri := RequestInfoFromHeaders([][2]string{{"host", "a.example"}, {"x-kong-request-id", "kong-1"}, {":path", "/p"}}, "")
	if ri.Host != "a.example" || ri.RequestID != "kong-1" || ri.Path != "/p" || ri.Consumer != "" {
		t.Fatalf("%+v", ri)
	}
	ri = RequestInfoFromHeaders([][2]string{{"x-kong-request-id", "kong-1"}, {"x-request-id", "envoy-1"}, {"x-user", "u"}}, "x-user")
	if ri.RequestID != "envoy-1" || ri.Consumer != "u" {
		t.Fatalf("%+v", ri)
	}
}

// TestFailRequestPolicy: on_error decides between a reply and letting the request through, and monitor
// mode never replies: it logs the decision the filter would take (mode "monitor") and continues.
func TestFailRequestPolicy(t *testing.T) {
	tooLarge := fmt.Errorf("request body of 12 bytes: %w (10)", ErrBodyTooLarge)
	tests := []struct {
		name       string
		c          config.Common
		wantAction Action
		wantStatus uint32 // 0: no local reply
		wantLog    telemetry.Decision
	}{
		{"enforce deny", config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorDeny}, Pause, 413,
			telemetry.Decision{Filter: "testf", Rule: "r1", Action: "block", Reason: "request_body_too_large", RequestID: "req-5"}},
		{"enforce allow", config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorAllow}, Continue, 0,
			telemetry.Decision{Filter: "testf", Rule: "r1", Action: "allow", Reason: "request_body_too_large", RequestID: "req-5"}},
		{"monitor deny", config.Common{Mode: config.ModeMonitor, OnError: config.OnErrorDeny}, Continue, 0,
			telemetry.Decision{Filter: "testf", Rule: "r1", Action: "block", Reason: "request_body_too_large", Mode: "monitor", RequestID: "req-5"}},
		{"monitor allow", config.Common{Mode: config.ModeMonitor, OnError: config.OnErrorAllow}, Continue, 0,
			telemetry.Decision{Filter: "testf", Rule: "r1", Action: "allow", Reason: "request_body_too_large", Mode: "monitor", RequestID: "req-5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Stream{Format: llm.FormatOpenAIChat, Rule: "r1"}
			var act Action
			var dec *Decisions
			h := &testHTTP{reqBody: func(int, bool) types.Action {
				act = s.FailRequest(dec, tc.c, telemetry.Decision{Filter: "testf", Reason: ReasonFor(tooLarge, false)}, 0)
				if act == Pause {
					return types.ActionPause
				}
				return types.ActionContinue
			}, reqHeaders: func(bool) types.Action {
				s.Info = ReadRequestInfo("", false)
				return types.ActionContinue
			}}
			host, id := newHost(t, h)
			dec = NewMetrics("testf").Decisions()
			host.CallOnRequestHeaders(id, [][2]string{{":path", "/v1/chat/completions"}, {"x-request-id", "req-5"}}, false)
			host.CallOnRequestBody(id, []byte("123456789012"), true)
			if act != tc.wantAction {
				t.Fatalf("action %v, want %v", act, tc.wantAction)
			}
			lr := host.GetSentLocalResponse(id)
			switch {
			case tc.wantStatus == 0 && lr != nil:
				t.Fatalf("replied %d %s", lr.StatusCode, lr.Data)
			case tc.wantStatus != 0 && (lr == nil || lr.StatusCode != tc.wantStatus):
				t.Fatalf("local response %+v, want status %d", lr, tc.wantStatus)
			}
			if s.Replied() != (tc.wantStatus != 0) {
				t.Fatalf("Replied = %v", s.Replied())
			}
			var ds []telemetry.Decision
			for _, l := range host.GetInfoLogs() {
				if d, ok := telemetry.ParseDecision(l); ok {
					ds = append(ds, d)
				}
			}
			if len(ds) != 1 || !reflect.DeepEqual(ds[0], tc.wantLog) {
				t.Fatalf("decisions %+v, want %+v", ds, tc.wantLog)
			}
		})
	}
}

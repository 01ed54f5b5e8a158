//go:build !wasm

package filter

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// The pipeline natively, through the SDK's host emulator: two stages in one module.

type trace struct{ events []string }

func (t *trace) add(s string) { t.events = append(t.events, s) }

// testStage collects the request, parses it through the exchange, optionally rewrites "secret" or blocks on
// "attack", and rewrites "model" to "MODEL" in the response chunk when it is stage b.
type testStage struct {
	name string
	tr   *trace
	seen map[string]*llm.Request // request parsed, by stage
	mask bool
	opts llm.Options // parse options ({"residual": true} -> piimask's, {"markers": true} -> promptguard's)
}

func (s *testStage) Name() string { return s.name }
func (s *testStage) Configure(raw []byte) error {
	o, err := config.Parse(raw)
	if err != nil {
		return err
	}
	s.mask = o.Bool("mask", false)
	if o.Bool("residual", false) {
		s.opts = llm.Options{Generic: true, Residual: true, ContentType: "application/json"}
	}
	if o.Bool("markers", false) {
		s.opts = llm.Options{DocumentMarkers: []string{"<doc>"}, ContentType: "application/json"}
	}
	return o.Err()
}
func (s *testStage) NewHandler(x *Exchange) Handler { return &testHandler{s: s, x: x} }

type testHandler struct {
	BaseHandler
	s   *testStage
	x   *Exchange
	req RequestBody
}

func (h *testHandler) OnRequestHeaders(bool) Action {
	h.s.tr.add(h.s.name + ":reqheaders")
	h.x.RequestInfo("", false)
	return Continue
}

func (h *testHandler) OnRequestBody(size int, eos bool) Action {
	raw, step, err := h.req.Collect(size, eos)
	switch {
	case err != nil:
		return Continue
	case step == StepMore:
		return Pause
	case step == StepSkip:
		return Continue
	}
	h.s.tr.add(h.s.name + ":body:" + string(raw))
	req, err := h.x.ParseRequest(llm.FormatOpenAIChat, raw, h.s.opts)
	if err != nil {
		h.s.tr.add(h.s.name + ":parse error")
		return Continue
	}
	h.s.seen[h.s.name] = req
	if strings.Contains(string(raw), "attack") {
		_ = h.x.Reply(llm.FormatOpenAIChat, 403, "blocked", "no", "")
		_ = h.x.Reply(llm.FormatOpenAIChat, 500, "second", "no", "") // ignored: one reply per exchange
		return Pause
	}
	if h.s.mask && strings.Contains(string(raw), "secret") {
		_ = ReplaceRequestBody(bytes.ReplaceAll(raw, []byte("secret"), []byte("XXXXXX")))
	}
	return Continue
}

func (h *testHandler) OnResponseBody(size int, eos bool) Action {
	b, _ := GetResponseBody(0, size)
	h.s.tr.add(h.s.name + ":resp:" + string(b))
	if h.s.name == "b" {
		_ = ReplaceResponseBody(bytes.ReplaceAll(b, []byte("model"), []byte("MODEL")))
	}
	return Continue
}

func startPipeline(t *testing.T, cfg string) (proxytest.HostEmulator, *trace, map[string]*llm.Request) {
	t.Helper()
	tr := &trace{}
	seen := map[string]*llm.Request{}
	vm := &vmContext{name: "both", combined: true, stages: []NewStage{
		func() Stage { return &testStage{name: "a", tr: tr, seen: seen} },
		func() Stage { return &testStage{name: "b", tr: tr, seen: seen} },
	}}
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration([]byte(cfg)))
	t.Cleanup(reset)
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("StartPlugin = %v", st)
	}
	return host, tr, seen
}

var chatHeaders = [][2]string{{":path", "/v1/chat/completions"}, {":method", "POST"}, {"content-type", "application/json"}}

func TestPipelineOrderSharedParseAndRewrite(t *testing.T) {
	host, tr, seen := startPipeline(t, `{"a":{},"b":{}}`)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, chatHeaders, false)
	body := `{"model":"m","messages":[{"role":"user","content":"hello secret"}]}`
	if a := host.CallOnRequestBody(id, []byte(body), true); a != types.ActionContinue {
		t.Fatalf("request body: %v", a)
	}
	if seen["a"] == nil || seen["a"] != seen["b"] {
		t.Fatalf("the two stages did not share one parse of the same body: %p %p", seen["a"], seen["b"])
	}
	host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, false)
	host.CallOnResponseBody(id, []byte(`{"model":"m"}`), true)
	want := []string{"a:reqheaders", "b:reqheaders", "a:body:" + body, "b:body:" + body,
		`b:resp:{"model":"m"}`, `a:resp:{"MODEL":"m"}`}
	if strings.Join(tr.events, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(tr.events, "\n"), strings.Join(want, "\n"))
	}
	if got := string(host.GetCurrentResponseBody(id)); got != `{"MODEL":"m"}` {
		t.Fatalf("client gets %s", got)
	}

}

// TestPipelineOneParseForOtherOptions: stages asking for other parse options (piimask's residual fields,
// promptguard's document markers) share one parse of the body, and each gets what a parse with its own
// options gives.
func TestPipelineOneParseForOtherOptions(t *testing.T) {
	host, _, seen := startPipeline(t, `{"a":{"markers":true},"b":{"residual":true}}`)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, chatHeaders, false)
	body := `{"model":"m","x_note":"jane@example.com","messages":[{"role":"user","content":"hello"},{"role":"user","content":"<doc> text"}]}`
	host.CallOnRequestBody(id, []byte(body), true)
	a, b := seen["a"], seen["b"]
	if a == nil || b == nil {
		t.Fatal("a stage did not parse")
	}
	wantA, _ := llm.ParseRequestWith(llm.FormatOpenAIChat, []byte(body), llm.Options{DocumentMarkers: []string{"<doc>"}})
	wantB, _ := llm.ParseRequestWith(llm.FormatOpenAIChat, []byte(body), llm.Options{Generic: true, Residual: true})
	if !reflect.DeepEqual(a.Segments, wantA.Segments) || !reflect.DeepEqual(b.Segments, wantB.Segments) {
		t.Fatalf("a: %+v\nwant %+v\nb: %+v\nwant %+v", a.Segments, wantA.Segments, b.Segments, wantB.Segments)
	}
	if len(b.Segments) != 3 || b.Segments[2].Provenance != llm.ProvMetadata || a.Segments[1].Provenance != llm.ProvDocument {
		t.Fatalf("views: a %+v, b %+v", a.Segments, b.Segments)
	}
	// One parse: the user segment's text is the same string in both views (a second parse would copy it again).
	if unsafe.StringData(a.Segments[0].Text) != unsafe.StringData(b.Segments[0].Text) {
		t.Fatal("the stages parsed the body twice")
	}
}

// a masks: b reads (and parses) the rewritten body, as the next filter of a chain would.
func TestPipelineRewriteSeenByNextStage(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hello secret"}]}`
	host, tr, seen := startPipeline(t, `{"a":{"mask":true},"b":{}}`)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, chatHeaders, false)
	host.CallOnRequestBody(id, []byte(body), true)
	masked := strings.ReplaceAll(body, "secret", "XXXXXX")
	if tr.events[3] != "b:body:"+masked || seen["a"] == seen["b"] || string(host.GetCurrentRequestBody(id)) != masked {
		t.Fatalf("after a's rewrite: events %q, upstream %s", tr.events, host.GetCurrentRequestBody(id))
	}
}

func TestPipelineReplyStopsLaterStages(t *testing.T) {
	host, tr, _ := startPipeline(t, `{"a":{},"b":{}}`)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, chatHeaders, false)
	if a := host.CallOnRequestBody(id, []byte(`{"model":"m","messages":[{"role":"user","content":"attack"}]}`), true); a != types.ActionPause {
		t.Fatalf("blocked request: %v", a)
	}
	r := host.GetSentLocalResponse(id)
	if r == nil || r.StatusCode != 403 {
		t.Fatalf("local reply %+v", r)
	}
	for _, e := range tr.events {
		if strings.HasPrefix(e, "b:body") {
			t.Fatalf("stage b saw the blocked body: %q", tr.events)
		}
	}
}

func TestPipelineStageOff(t *testing.T) {
	host, tr, _ := startPipeline(t, `{"b":{}}`)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, chatHeaders, false)
	if len(tr.events) != 1 || tr.events[0] != "b:reqheaders" {
		t.Fatalf("only b is configured: %q", tr.events)
	}
}

func TestConfigureCombinedErrors(t *testing.T) {
	news := []NewStage{func() Stage { return &testStage{name: "a"} }, func() Stage { return &testStage{name: "b"} }}
	_, err := Configure(news, true, []byte(`{"a":{"mask":"yes"},"c":{},"b":[]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"a.mask: ", "c: unknown stage", "b: must be an object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	stages, err := Configure(news, true, nil)
	if err != nil || len(stages) != 0 {
		t.Fatalf("empty combined config: %d stages, %v", len(stages), err)
	}
}

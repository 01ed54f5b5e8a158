package tokenbudget

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
)

// These tests run the BUILT dist/tokenbudget.wasm in hostsim (`make tokenbudget` first).

const prefix = defaultKeyPrefix

func newHost(t *testing.T, workers int, cfg string, callouts map[string]hostsim.CalloutHandler) *hostsim.Host {
	t.Helper()
	return hostsim.New(t, hostsim.Config{
		Workers:  workers,
		Plugins:  []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(t, "tokenbudget"), Config: []byte(cfg)}},
		Callouts: callouts,
	})
}

// used reads a local counter straight from the host's shared data.
func used(t *testing.T, h *hostsim.Host, key string) int64 {
	t.Helper()
	v, _, ok := h.SharedData("", key)
	if !ok {
		return 0
	}
	if len(v) != 16 {
		t.Fatalf("counter %s: %d bytes", key, len(v))
	}
	return int64(binary.LittleEndian.Uint64(v[8:]))
}

func modelKey(budgetName, model string, p budget.Period) string {
	return budget.CounterKey(prefix, budgetName, []string{model}, p)
}

func chatReq(model string, maxTokens int, stream bool, extra ...[2]string) hostsim.Request {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the team and wish them a good week."}]`, model)
	if maxTokens > 0 {
		body += fmt.Sprintf(`,"max_tokens":%d`, maxTokens)
	}
	if stream {
		body += `,"stream":true`
	}
	body += "}"
	return hostsim.Request{Method: "POST", Path: "/v1/chat/completions", Headers: append([][2]string{{"content-type", "application/json"}}, extra...), Body: []byte(body)}
}

func jsonResp(body string) hostsim.Response {
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(body)}
}

func sseResp(events ...string) hostsim.Response {
	chunks := make([][]byte, len(events))
	for i, e := range events {
		chunks[i] = []byte(e)
	}
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunks}
}

const chatJSON = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello team, have a good week!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`

func chatUsage(in, out int) hostsim.Response {
	return jsonResp(fmt.Sprintf(chatJSON, in, out, in+out))
}

func chatChunk(text string) string {
	return `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":` + strconv.Quote(text) + `},"finish_reason":null}]}` + "\n\n"
}

func chatUsageChunk(in, out int) string {
	return fmt.Sprintf(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", in, out, in+out)
}

const localTotal = `{"budgets":[{"name":"m","key":["model"],"windows":{"minute":%d}}]%s}`

// TestReserveBeforeSpend: a request reserves its estimated input plus max_tokens before it is forwarded,
// so a second concurrent request that would cross the limit is refused with 429 and rate-limit headers
// even though nothing has been spent yet; when the first one completes, its unused reservation is refunded.
func TestReserveBeforeSpend(t *testing.T) {
	h := newHost(t, 2, fmt.Sprintf(localTotal, 1000, ""), nil)
	key := modelKey("m", "gpt-4o", budget.Minute)

	first := h.OpenStream(0, chatReq("gpt-4o", 600, false))
	first.SendRequest()
	if first.UpstreamRequest() == nil {
		t.Fatal("first request not forwarded")
	}
	reserved := used(t, h, key)
	if reserved < 600+20 || reserved > 600+60 {
		t.Fatalf("reserved %d, want 600 + an input estimate of ~20-60", reserved)
	}

	// Concurrent second request on the other worker: 2×~640 > 1000.
	r := h.DoOn(1, chatReq("gpt-4o", 600, false), func(*hostsim.UpstreamRequest) hostsim.Response { return chatUsage(20, 10) })
	if r.Status != 429 || r.Upstream != nil {
		t.Fatalf("second: status %d upstream %v", r.Status, r.Upstream != nil)
	}
	hdr := func(n string) string { v, _ := r.Header(n); return v }
	if hdr("x-ratelimit-limit-tokens") != "1000" || hdr("x-ratelimit-remaining-tokens") != strconv.FormatInt(1000-reserved, 10) {
		t.Fatalf("headers: limit %q remaining %q (reserved %d)", hdr("x-ratelimit-limit-tokens"), hdr("x-ratelimit-remaining-tokens"), reserved)
	}
	ra, err := strconv.Atoi(hdr("retry-after"))
	if err != nil || ra < 1 || ra > 60 || !strings.HasSuffix(hdr("x-ratelimit-reset-tokens"), "s") {
		t.Fatalf("retry-after %q reset %q", hdr("retry-after"), hdr("x-ratelimit-reset-tokens"))
	}
	if code := gjson.GetBytes(r.Body, "error.code").String(); code != reasonExceeded {
		t.Fatalf("error body %s", r.Body)
	}
	if gjson.GetBytes(r.Body, "error.type").String() != "rate_limit_error" {
		t.Fatalf("error type in %s", r.Body)
	}
	if used(t, h, key) != reserved {
		t.Fatalf("a refused request left a charge: %d", used(t, h, key))
	}

	// The first request completes using 20 + 10 tokens: the rest of its reservation comes back.
	first.Respond(chatUsage(20, 10))
	res := first.Close()
	if res.Status != 200 {
		t.Fatalf("first status %d", res.Status)
	}
	if v, _ := res.Header("x-ratelimit-limit-tokens"); v != "1000" {
		t.Fatalf("allowed response lacks rate headers: %v", res.Headers)
	}
	if got := used(t, h, key); got != 30 {
		t.Fatalf("after reconciliation the counter is %d, want the real usage 30", got)
	}
	r = h.DoOn(1, chatReq("gpt-4o", 600, false), func(*hostsim.UpstreamRequest) hostsim.Response { return chatUsage(20, 10) })
	if r.Status != 200 {
		t.Fatalf("after refund: %d", r.Status)
	}
	if n, _ := h.Metric("wasmguard_tokenbudget_requests_total.action.block.reason." + reasonExceeded); n != 1 {
		t.Fatalf("deny metric %d", n)
	}
}

// TestClamp lowers max_tokens to what is left instead of refusing.
func TestClamp(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 1000, `,"clamp_max_tokens":true`), nil)
	key := modelKey("m", "gpt-4o", budget.Minute)
	first := h.OpenStream(0, chatReq("gpt-4o", 600, false))
	first.SendRequest()
	reservedFirst := used(t, h, key)
	var upstreamMax int64
	r := h.DoOn(0, chatReq("gpt-4o", 600, false), func(u *hostsim.UpstreamRequest) hostsim.Response {
		upstreamMax = gjson.GetBytes(u.Body, "max_tokens").Int()
		return chatUsage(20, 10)
	})
	if r.Status != 200 {
		t.Fatalf("clamped request: %d %s", r.Status, r.Body)
	}
	input := reservedFirst - 600
	if upstreamMax != 1000-reservedFirst-input {
		t.Fatalf("upstream max_tokens %d, want %d", upstreamMax, 1000-reservedFirst-input)
	}
	afterSecond := used(t, h, key)
	if afterSecond != reservedFirst+30 {
		t.Fatalf("after the clamped request settled: %d, want %d", afterSecond, reservedFirst+30)
	}
	// A third request is clamped to the new room; a fourth finds less than min_clamp_tokens and is refused.
	third := h.OpenStream(0, chatReq("gpt-4o", 600, false))
	third.SendRequest()
	if third.UpstreamRequest() == nil {
		t.Fatal("third request not forwarded")
	}
	if got := gjson.GetBytes(third.UpstreamRequest().Body, "max_tokens").Int(); got != 1000-afterSecond-input {
		t.Fatalf("third clamped to %d, want %d", got, 1000-afterSecond-input)
	}
	r = h.DoOn(0, chatReq("gpt-4o", 600, false), func(*hostsim.UpstreamRequest) hostsim.Response { return chatUsage(20, 10) })
	if r.Status != 429 {
		t.Fatalf("fourth: %d (counter %d)", r.Status, used(t, h, key))
	}
	third.Respond(chatUsage(20, 10))
	third.Close()
	first.Respond(chatUsage(20, 10))
	first.Close()
	if got := used(t, h, key); got != 90 {
		t.Fatalf("final counter %d", got)
	}
	if n, _ := h.Metric("wasmguard_tokenbudget_requests_total.action.clamp.reason." + reasonClamped); n != 2 {
		t.Fatalf("clamp metric %d", n)
	}
}

type providerCase struct {
	name     string
	req      hostsim.Request
	model    string
	json     hostsim.Response
	stream   hostsim.Response
	streamRq hostsim.Request
}

func providerCases() []providerCase {
	anthropicReq := func(stream bool) hostsim.Request {
		b := `{"model":"claude-sonnet-4","max_tokens":300,"system":"Be terse.","messages":[{"role":"user","content":"Say hello to the team."}]`
		if stream {
			b += `,"stream":true`
		}
		return hostsim.Request{Method: "POST", Path: "/v1/messages", Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(b + "}")}
	}
	geminiReq := func(stream bool) hostsim.Request {
		p := "/v1beta/models/gemini-2.0-flash:generateContent"
		if stream {
			p = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
		}
		return hostsim.Request{Method: "POST", Path: p, Headers: [][2]string{{"content-type", "application/json"}},
			Body: []byte(`{"contents":[{"role":"user","parts":[{"text":"Say hello to the team."}]}],"generationConfig":{"maxOutputTokens":300}}`)}
	}
	respReq := func(stream bool) hostsim.Request {
		b := `{"model":"gpt-4o","input":"Say hello to the team.","max_output_tokens":300`
		if stream {
			b += `,"stream":true`
		}
		return hostsim.Request{Method: "POST", Path: "/v1/responses", Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(b + "}")}
	}
	return []providerCase{
		{
			name: "openai_chat", model: "gpt-4o", req: chatReq("gpt-4o", 300, false), json: chatUsage(40, 25),
			streamRq: chatReq("gpt-4o", 300, true),
			stream:   sseResp(chatChunk("Hello"), chatChunk(" team"), chatUsageChunk(40, 25), "data: [DONE]\n\n"),
		},
		{
			name: "anthropic", model: "claude-sonnet-4", req: anthropicReq(false),
			json:     jsonResp(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"text","text":"Hello team"}],"stop_reason":"end_turn","usage":{"input_tokens":40,"output_tokens":25}}`),
			streamRq: anthropicReq(true),
			stream: sseResp(
				"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\n\n",
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello team\"}}\n\n",
				"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":25}}\n\n",
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
		},
		{
			name: "gemini", model: "gemini-2.0-flash", req: geminiReq(false),
			json:     jsonResp(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello team"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":25,"totalTokenCount":65},"modelVersion":"gemini-2.0-flash"}`),
			streamRq: geminiReq(true),
			stream: sseResp(
				"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hello\"}]}}],\"usageMetadata\":{\"promptTokenCount\":40,\"totalTokenCount\":40}}\r\n\r\n",
				"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\" team\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":40,\"candidatesTokenCount\":25,\"totalTokenCount\":65}}\r\n\r\n"),
		},
		{
			name: "openai_responses", model: "gpt-4o", req: respReq(false),
			json:     jsonResp(`{"id":"resp_1","object":"response","status":"completed","model":"gpt-4o","output":[{"type":"message","id":"m1","role":"assistant","content":[{"type":"output_text","text":"Hello team"}]}],"usage":{"input_tokens":40,"output_tokens":25,"total_tokens":65}}`),
			streamRq: respReq(true),
			stream: sseResp(
				"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"model\":\"gpt-4o\"}}\n\n",
				"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"m1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hello team\"}\n\n",
				"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":40,\"output_tokens\":25,\"total_tokens\":65}}}\n\n"),
		},
	}
}

// TestReconcilePerProvider: after a plain and a streamed response of each provider, the counter holds
// exactly the provider's reported usage (40 + 25), whatever was reserved.
func TestReconcilePerProvider(t *testing.T) {
	for _, pc := range providerCases() {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", pc.name, stream), func(t *testing.T) {
				h := newHost(t, 1, fmt.Sprintf(localTotal, 100000, ""), nil)
				req, resp := pc.req, pc.json
				if stream {
					req, resp = pc.streamRq, pc.stream
				}
				r := h.Do(req, resp)
				if r.Status != 200 {
					t.Fatalf("status %d %s", r.Status, r.Body)
				}
				key := modelKey("m", pc.model, budget.Minute)
				if got := used(t, h, key); got != 65 {
					t.Fatalf("counter %d after usage 40+25 (logs: %v)", got, r.LogsAt(hostsim.LogInfo))
				}
				if stream && len(r.Body) < len(resp.Chunks[0]) {
					t.Fatalf("stream body lost: %q", r.Body)
				}
			})
		}
	}
}

// TestStreamUsageInjectedAndHidden: an OpenAI chat stream without stream_options gets include_usage added
// upstream, and the extra usage-only chunk is hidden from the client; a client that asked for it keeps it.
func TestStreamUsageInjectedAndHidden(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 100000, ""), nil)
	up := sseResp(chatChunk("Hello"), chatChunk(" team"), chatUsageChunk(40, 25), "data: [DONE]\n\n")
	var upBody []byte
	r := h.DoOn(0, chatReq("gpt-4o", 300, true), func(u *hostsim.UpstreamRequest) hostsim.Response { upBody = u.Body; return up })
	if !gjson.GetBytes(upBody, "stream_options.include_usage").Bool() {
		t.Fatalf("include_usage not added: %s", upBody)
	}
	if strings.Contains(string(r.Body), `"usage"`) || !strings.Contains(string(r.Body), "data: [DONE]") || !strings.Contains(string(r.Body), " team") {
		t.Fatalf("client body %q", r.Body)
	}
	req := chatReq("gpt-4o", 300, true)
	req.Body = []byte(strings.Replace(string(req.Body), `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1))
	r = h.Do(req, up)
	if !strings.Contains(string(r.Body), `"usage"`) {
		t.Fatalf("usage chunk hidden from a client that asked for it: %q", r.Body)
	}
	if got := used(t, h, modelKey("m", "gpt-4o", budget.Minute)); got != 130 {
		t.Fatalf("counter %d, want 2×65", got)
	}
}

// TestNoUsageChargesCountedOutput: without usage in the stream, the filter charges its input estimate and
// the output it counted, not the full reservation.
func TestNoUsageChargesCountedOutput(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 100000, `,"stream_usage":false`), nil)
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 10) // ~100 tokens
	r := h.Do(chatReq("gpt-4o", 2000, true), sseResp(chatChunk(text), "data: [DONE]\n\n"))
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	got := used(t, h, modelKey("m", "gpt-4o", budget.Minute))
	if got < 100 || got > 200 {
		t.Fatalf("charged %d for ~100 output tokens plus a short prompt", got)
	}
}

// TestMidStreamCutOff: a request without max_tokens reserves default_max_tokens; when the stream outgrows
// it and the budget cannot extend, the client gets the provider's terminal error frame and nothing more.
func TestMidStreamCutOff(t *testing.T) {
	cfg := `{"default_max_tokens":50,"budgets":[{"name":"m","key":["model"],"windows":{"minute":400}}]}`
	h := newHost(t, 1, cfg, nil)
	var chunks []string
	for range 40 {
		chunks = append(chunks, chatChunk("The quick brown fox jumps over the lazy dog. "))
	}
	chunks = append(chunks, chatUsageChunk(30, 400), "data: [DONE]\n\n")
	r := h.Do(chatReq("gpt-4o", 0, true), sseResp(chunks...))
	body := string(r.Body)
	if !strings.Contains(body, reasonCutOff) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("no terminal frame: %q", body[max(0, len(body)-300):])
	}
	if n := strings.Count(body, "quick brown fox"); n >= 40 || n < 5 {
		t.Fatalf("%d content chunks reached the client", n)
	}
	if c, _ := h.Metric("wasmguard_tokenbudget_stream_cutoffs_total"); c != 1 {
		t.Fatalf("cutoff metric %d", c)
	}
	// The upstream cannot be stopped from wasm: it finishes generating, and its final usage (30 + 400) is
	// still read after the cut-off and charged, because that is what the provider bills.
	if got := used(t, h, modelKey("m", "gpt-4o", budget.Minute)); got != 430 {
		t.Fatalf("counter %d, want the provider's usage 430", got)
	}
}

// TestNVMConcurrency: four worker VMs interleave reservations on one shared counter (step by step, then
// truly in parallel); the admitted reservations never exceed the limit and the counter equals their sum.
func TestNVMConcurrency(t *testing.T) {
	const limit = 5000
	h := newHost(t, 4, fmt.Sprintf(localTotal, limit, ""), nil)
	key := modelKey("m", "gpt-4o", budget.Minute)
	// Interleaved: open 12 streams round-robin over the workers, send all requests before any response.
	var streams []*hostsim.Stream
	for i := range 12 {
		s := h.OpenStream(i%4, chatReq("gpt-4o", 1000, false))
		s.SendRequest()
		streams = append(streams, s)
	}
	admitted := 0
	for _, s := range streams {
		if s.UpstreamRequest() != nil {
			admitted++
		}
	}
	per := used(t, h, key) / int64(max(admitted, 1))
	if admitted == 0 || int64(admitted)*per > limit || int64(admitted+1)*per <= limit {
		t.Fatalf("admitted %d reservations of %d on a limit of %d", admitted, per, limit)
	}
	for _, s := range streams {
		if s.UpstreamRequest() != nil {
			s.Respond(chatUsage(20, 10))
		}
		s.Close()
	}
	if got := used(t, h, key); got != int64(admitted)*30 {
		t.Fatalf("after settling: %d, want %d", got, admitted*30)
	}

	// Parallel: 4 goroutines, one per worker, 25 requests each; responses use 120 tokens, no more than
	// reserved (an input estimate of ~30 plus max_tokens 100), so the counter can never pass the limit.
	var ok atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				r := h.DoOn(w, chatReq("gpt-4o", 100, false), func(*hostsim.UpstreamRequest) hostsim.Response { return chatUsage(20, 100) })
				if r.Status == 200 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	final := used(t, h, key)
	if final > limit || final != int64(admitted)*30+ok.Load()*120 {
		t.Fatalf("final counter %d with %d admitted (limit %d)", final, ok.Load(), limit)
	}
	if ok.Load() < (limit-int64(admitted)*30)/160 {
		t.Fatalf("only %d admitted: contention lost requests", ok.Load())
	}
}

const clusterCfg = `{"engine":{"cluster":"webdis","timeout_ms":100,"flush_interval_ms":50},
 "budgets":[{"name":"c","key":["model"],"scope":"cluster","on_engine_error":%q,"windows":{"minute":1000}}]}`

// TestEngineDown: with the engine unreachable, a fail-open budget lets the request through and a
// fail-closed one answers 503.
func TestEngineDown(t *testing.T) {
	down := map[string]hostsim.CalloutHandler{"webdis": func(hostsim.CalloutRequest) hostsim.CalloutResponse {
		return hostsim.CalloutResponse{Reset: true}
	}}
	h := newHost(t, 1, fmt.Sprintf(clusterCfg, "allow"), down)
	r := h.Do(chatReq("gpt-4o", 100, false), chatUsage(20, 10))
	if r.Status != 200 || r.Upstream == nil {
		t.Fatalf("fail-open: %d", r.Status)
	}
	h = newHost(t, 1, fmt.Sprintf(clusterCfg, "deny"), down)
	r = h.Do(chatReq("gpt-4o", 100, false), chatUsage(20, 10))
	if r.Status != 503 || r.Upstream != nil || gjson.GetBytes(r.Body, "error.code").String() != reasonEngineDown {
		t.Fatalf("fail-closed: %d %s", r.Status, r.Body)
	}
	if n, _ := h.Metric("wasmguard_tokenbudget_engine_errors_total"); n < 1 {
		t.Fatal("engine error not counted")
	}
	// A timeout (Envoy's synthetic 504) is an engine failure too.
	h = newHost(t, 1, fmt.Sprintf(clusterCfg, "deny"), map[string]hostsim.CalloutHandler{"webdis": func(hostsim.CalloutRequest) hostsim.CalloutResponse {
		return hostsim.CalloutResponse{Timeout: true}
	}})
	if r = h.Do(chatReq("gpt-4o", 100, false), chatUsage(20, 10)); r.Status != 503 {
		t.Fatalf("timeout: %d", r.Status)
	}
}

// TestClusterReserveAndFlush scripts the engine: the reservation command carries the counter key, amount,
// limit and TTL; an engine refusal becomes a 429; after responses, the refunds of this VM are aggregated
// and sent in one adjust command on the next tick.
func TestClusterReserveAndFlush(t *testing.T) {
	var mu sync.Mutex
	var cmds []string
	deny := false
	// A long flush interval: only the explicit Tick below flushes (requests flush only once an interval passed).
	cfg := strings.Replace(fmt.Sprintf(clusterCfg, "deny"), `"flush_interval_ms":50`, `"flush_interval_ms":60000`, 1)
	h := newHost(t, 1, cfg, map[string]hostsim.CalloutHandler{"webdis": func(c hostsim.CalloutRequest) hostsim.CalloutResponse {
		mu.Lock()
		defer mu.Unlock()
		cmds = append(cmds, string(c.Body))
		if strings.Contains(string(c.Body), "EXISTS") {
			return hostsim.CalloutResponse{Status: 200, Body: []byte(`{"EVAL":1}`)}
		}
		if deny {
			return hostsim.CalloutResponse{Status: 200, Body: []byte(`{"EVAL":[1,990]}`)}
		}
		return hostsim.CalloutResponse{Status: 200, Body: []byte(`{"EVAL":[0,400]}`)}
	}})
	for range 2 {
		if r := h.Do(chatReq("gpt-4o", 300, false), chatUsage(20, 10)); r.Status != 200 {
			t.Fatalf("status %d %s", r.Status, r.Body)
		}
	}
	mu.Lock()
	if len(cmds) != 2 || !strings.HasPrefix(cmds[0], "EVAL/") {
		t.Fatalf("commands %q", cmds)
	}
	parts := strings.Split(cmds[0], "/")
	mu.Unlock()
	wantKey := budget.ClusterKey(budget.CounterKey(prefix, "c", []string{"gpt-4o"}, budget.Minute), time.Now().Unix()/60)
	if len(parts) != 7 || parts[2] != "1" || !strings.HasPrefix(parts[3], strings.ReplaceAll(wantKey[:len(wantKey)-3], "|", "|")) || parts[5] != "1000" {
		t.Fatalf("reserve command %q (key %q)", parts, wantKey)
	}
	amount, _ := strconv.Atoi(parts[4])
	if amount < 300 {
		t.Fatalf("reserved %d < max_tokens", amount)
	}
	h.Tick()
	mu.Lock()
	flush := cmds[len(cmds)-1]
	mu.Unlock()
	if !strings.Contains(flush, "EXISTS") || !strings.HasSuffix(flush, "/"+strconv.Itoa(2*(30-amount))) {
		t.Fatalf("flush command %q, want one aggregated delta %d", flush, 2*(30-amount))
	}
	mu.Lock()
	deny = true
	mu.Unlock()
	r := h.Do(chatReq("gpt-4o", 300, false), chatUsage(20, 10))
	if r.Status != 429 {
		t.Fatalf("engine refusal: %d", r.Status)
	}
	if v, _ := r.Header("x-ratelimit-remaining-tokens"); v != "10" {
		t.Fatalf("remaining %q", v)
	}
}

// TestMonitorMode: over budget in monitor mode, the request passes and the decision says what would have
// happened.
func TestMonitorMode(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 100, `,"mode":"monitor"`), nil)
	r := h.Do(chatReq("gpt-4o", 600, false), chatUsage(20, 10))
	if r.Status != 200 {
		t.Fatalf("monitor blocked: %d", r.Status)
	}
	found := false
	for _, l := range r.LogsAt(hostsim.LogInfo) {
		if strings.Contains(l, `"mode":"monitor"`) && strings.Contains(l, reasonExceeded) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no monitor decision in %v", r.LogsAt(hostsim.LogInfo))
	}
	if got := used(t, h, modelKey("m", "gpt-4o", budget.Minute)); got != 30 {
		t.Fatalf("monitor mode did not count the real usage: %d", got)
	}
}

// TestConsumerKeyHashed: the consumer key is a salted hash; the API key never appears in shared data.
func TestConsumerKeyHashed(t *testing.T) {
	cfg := `{"consumer_header":"authorization","key_salt":"pepper","budgets":[{"name":"u","windows":{"day":100000}}]}`
	h := newHost(t, 1, cfg, nil)
	r := h.Do(chatReq("gpt-4o", 100, false, [2]string{"authorization", "Bearer sk-secret-123"}), chatUsage(20, 10))
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	for _, k := range h.SharedDataKeys("") {
		if strings.Contains(k, "sk-secret") {
			t.Fatalf("clear key in %q", k)
		}
	}
	key := budget.CounterKey(prefix, "u", []string{budget.HashConsumer("pepper", "sk-secret-123")}, budget.Day)
	if got := used(t, h, key); got != 30 {
		t.Fatalf("hashed consumer counter %d (keys %v)", got, h.SharedDataKeys(""))
	}
}

// TestKongProfile: the same reservation and reconciliation under Kong's host (ngx_wasm_module): shared data
// needs an shm_kv zone, and the engine is reached by host:port.
func TestKongProfile(t *testing.T) {
	h := hostsim.New(t, hostsim.Config{
		Profile:      hostsim.ProfileKong,
		Workers:      2,
		KongSharedKV: true,
		Plugins:      []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(t, "tokenbudget"), Config: []byte(fmt.Sprintf(localTotal, 1000, ""))}},
	})
	key := modelKey("m", "gpt-4o", budget.Minute)
	for _, stream := range []bool{false, true} {
		resp := chatUsage(40, 25)
		if stream {
			resp = sseResp(chatChunk("Hello"), chatUsageChunk(40, 25), "data: [DONE]\n\n")
		}
		if r := h.Do(chatReq("gpt-4o", 300, stream), resp); r.Status != 200 {
			t.Fatalf("stream=%v: %d %v", stream, r.Status, r.LogsAt(hostsim.LogWarn))
		}
	}
	if got := used(t, h, key); got != 130 {
		t.Fatalf("counter %d", got)
	}
	if r := h.Do(chatReq("gpt-4o", 900, false), chatUsage(1, 1)); r.Status != 429 {
		t.Fatalf("over budget on Kong: %d", r.Status)
	}
}

// TestCostBudget: a cost_usd budget charges the provider's usage at the model's prices, cached input and
// reasoning tokens at their own rates, and refuses once the money is spent.
func TestCostBudget(t *testing.T) {
	cfg := `{"prices":{"gpt-4o*":{"input":2.5,"cached_input":1.25,"output":10,"reasoning":20}},
	 "budgets":[{"name":"spend","key":["model"],"metric":"cost_usd","windows":{"day":0.02}}]}`
	h := newHost(t, 1, cfg, nil)
	// 1000 prompt tokens of which 400 cached, 300 completion tokens of which 100 reasoning:
	// 600×2.5 + 400×1.25 + 200×10 + 100×20 = 1500 + 500 + 2000 + 2000 = 6000 µ$.
	body := `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
	 "usage":{"prompt_tokens":1000,"completion_tokens":300,"total_tokens":1300,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":100}}}`
	if r := h.Do(chatReq("gpt-4o", 500, false), jsonResp(body)); r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
	key := budget.CounterKey(prefix, "spend", []string{"gpt-4o"}, budget.Day)
	if got := used(t, h, key); got != 6000 {
		t.Fatalf("charged %d µ$, want 6000", got)
	}
	// 20000 µ$ limit: two more such responses fit (18000), a fourth reservation (~5000 µ$ for 500 output
	// tokens plus input) does not.
	h.Do(chatReq("gpt-4o", 500, false), jsonResp(body))
	h.Do(chatReq("gpt-4o", 500, false), jsonResp(body))
	r := h.Do(chatReq("gpt-4o", 500, false), jsonResp(body))
	if r.Status != 429 {
		t.Fatalf("over the spend: %d (counter %d)", r.Status, used(t, h, key))
	}
	if v, _ := r.Header("x-ratelimit-limit-tokens"); v != "20000" {
		t.Fatalf("limit header %q (micro-dollars)", v)
	}
	// A model without a price cannot be metered on a cost budget: on_error (deny) refuses it.
	if r := h.Do(chatReq("claude-x", 10, false), chatUsage(1, 1)); r.Status == 200 {
		t.Fatal("unpriced model passed a cost budget with on_error deny")
	}
}

// TestNonLLMTrafficPasses: uploads and unknown JSON APIs are not metered and never refused by on_error.
func TestNonLLMTrafficPasses(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 10, ""), nil)
	up := hostsim.Request{Method: "POST", Path: "/v1/files", Headers: [][2]string{{"content-type", "multipart/form-data; boundary=x"}}, Body: []byte("--x\r\n\r\nhello\r\n--x--\r\n")}
	if r := h.Do(up, jsonResp(`{"id":"file-1"}`)); r.Status != 200 || string(r.Upstream.Body) != string(up.Body) {
		t.Fatalf("upload: %d", r.Status)
	}
	emb := hostsim.Request{Method: "POST", Path: "/v1/embeddings", Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"model":"text-embedding-3-small","input":["a"]}`)}
	if r := h.Do(emb, jsonResp(`{"data":[]}`)); r.Status != 200 {
		t.Fatalf("embeddings: %d %s", r.Status, r.Body)
	}
	// A chat call with a broken body is an error: on_error deny refuses it.
	bad := chatReq("gpt-4o", 10, false)
	bad.Body = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":`)
	if r := h.Do(bad, chatUsage(1, 1)); r.Status != 400 {
		t.Fatalf("broken chat body: %d", r.Status)
	}
}

// TestPropertyKey: a budget keyed on a host property (here an Envoy metadata string set by an auth filter).
func TestPropertyKey(t *testing.T) {
	h := newHost(t, 1, `{"budgets":[{"name":"p","key":["property:metadata.tenant"],"windows":{"day":100000}}]}`, nil)
	req := chatReq("gpt-4o", 100, false)
	req.Properties = map[string][]byte{"metadata.tenant": []byte("acme")}
	if r := h.Do(req, chatUsage(20, 10)); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if got := used(t, h, budget.CounterKey(prefix, "p", []string{"acme"}, budget.Day)); got != 30 {
		t.Fatalf("property-keyed counter %d (keys %v)", got, h.SharedDataKeys(""))
	}
}

// TestKongRouteKey: a budget keyed on the route reads Kong's route name (kong.route_name) as well as
// Envoy's (xds.route_name), so requests on different Kong routes do not share one counter.
func TestKongRouteKey(t *testing.T) {
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
		t.Run(string(p), func(t *testing.T) {
			h := hostsim.New(t, hostsim.Config{
				Profile:      p,
				Workers:      1,
				KongSharedKV: true,
				Plugins: []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(t, "tokenbudget"),
					Config: []byte(`{"budgets":[{"name":"r","key":["route"],"windows":{"day":100000}}]}`)}},
			})
			req := chatReq("gpt-4o", 100, false, [2]string{"x-request-id", "req-route"})
			req.Route = "chat-route"
			if r := h.Do(req, chatUsage(20, 10)); r.Status != 200 {
				t.Fatalf("status %d", r.Status)
			}
			if got := used(t, h, budget.CounterKey(prefix, "r", []string{"chat-route"}, budget.Day)); got != 30 {
				t.Fatalf("route-keyed counter %d (keys %v)", got, h.SharedDataKeys(""))
			}
		})
	}
}

// TestBodyEndingWithTrailers: on Envoy a request body may end with trailers instead of end_of_stream; the
// request must still be metered (and refused when over budget), not forwarded unchecked.
func TestBodyEndingWithTrailers(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 100, ""), nil)
	req := chatReq("gpt-4o", 600, false)
	req.ChunkSize = 40
	req.Trailers = [][2]string{{"x-checksum", "abc"}}
	r := h.Do(req, chatUsage(20, 10))
	if r.Status != 429 || r.Upstream != nil {
		t.Fatalf("a body ending with trailers passed unmetered: status %d upstream %v", r.Status, r.Upstream != nil)
	}
}

// TestBodyOverLimit: a request body over max_body_bytes takes on_error: deny answers 413
// request_body_too_large, allow forwards it unmetered, monitor logs the deny and forwards it.
func TestBodyOverLimit(t *testing.T) {
	for _, tc := range []struct {
		extra  string
		status int
		action string
	}{
		{`,"max_body_bytes":64`, 413, "block"},
		{`,"max_body_bytes":64,"on_error":"allow"`, 200, "allow"},
		{`,"max_body_bytes":64,"mode":"monitor"`, 200, "block"},
	} {
		for _, p := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
			t.Run(string(p)+tc.extra, func(t *testing.T) {
				h := hostsim.New(t, hostsim.Config{Profile: p, Workers: 1, KongSharedKV: true,
					Plugins: []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(t, "tokenbudget"), Config: []byte(fmt.Sprintf(localTotal, 100000, tc.extra))}}})
				req := chatReq("gpt-4o", 10, false)
				req.ChunkSize = 30
				r := h.Do(req, chatUsage(20, 10))
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d", r.Status, tc.status)
				}
				if tc.status == 413 && gjson.GetBytes(bytes.TrimSpace(r.Body), "error.code").String() != "request_body_too_large" {
					t.Fatalf("body %s", r.Body)
				}
				var found bool
				for _, l := range r.LogsAt(hostsim.LogInfo) {
					if strings.Contains(l, `"reason":"request_body_too_large"`) && strings.Contains(l, `"action":"`+tc.action+`"`) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no %s decision in %v", tc.action, r.LogsAt(hostsim.LogInfo))
				}
			})
		}
	}
}

// TestClusterReserveAtTrailers: a body ending with trailers is admitted from the trailers callback, which
// pauses for the engine's answer like the body callback does: allowed goes upstream, refused gets 429.
func TestClusterReserveAtTrailers(t *testing.T) {
	for _, deny := range []bool{false, true} {
		answer := `{"EVAL":[0,400]}`
		if deny {
			answer = `{"EVAL":[1,990]}`
		}
		h := newHost(t, 1, fmt.Sprintf(clusterCfg, "deny"), map[string]hostsim.CalloutHandler{"webdis": func(c hostsim.CalloutRequest) hostsim.CalloutResponse {
			return hostsim.CalloutResponse{Status: 200, Body: []byte(answer)}
		}})
		req := chatReq("gpt-4o", 300, false)
		req.ChunkSize = 40
		req.Trailers = [][2]string{{"x-checksum", "abc"}}
		r := h.Do(req, chatUsage(20, 10))
		switch {
		case deny && (r.Status != 429 || r.Upstream != nil):
			t.Fatalf("engine refusal at trailers: status %d upstream %v", r.Status, r.Upstream != nil)
		case !deny && (r.Status != 200 || r.Upstream == nil || string(r.Upstream.Body) != string(req.Body)):
			t.Fatalf("engine allowed at trailers: status %d %s", r.Status, r.Body)
		}
	}
}

// TestGzipRequestIsMetered: a gzip-encoded request reserves exactly what the same request in plain JSON
// does, and a max_tokens the filter adds is written back gzip-encoded (before the pipeline, tokenbudget
// read the compressed bytes, found no JSON and let the request through unmetered).
func TestGzipRequestIsMetered(t *testing.T) {
	cfg := fmt.Sprintf(localTotal, 100000, `,"default_max_tokens":300,"enforce_max_tokens":true`)
	plainHost := newHost(t, 1, cfg, nil)
	key := modelKey("m", "gpt-4o", budget.Minute)
	s := plainHost.OpenStream(0, chatReq("gpt-4o", 0, false))
	s.SendRequest()
	want := used(t, plainHost, key)
	if want < 300 {
		t.Fatalf("plain request reserved %d, want >= 300", want)
	}

	h := newHost(t, 1, cfg, nil)
	req := chatReq("gpt-4o", 0, false, [2]string{"content-encoding", "gzip"})
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(req.Body)
	zw.Close()
	req.Body = zb.Bytes()
	gs := h.OpenStream(0, req)
	gs.SendRequest()
	up := gs.UpstreamRequest()
	if up == nil {
		t.Fatal("gzip request not forwarded")
	}
	if got := used(t, h, key); got != want {
		t.Fatalf("gzip request reserved %d, the same request in plain JSON %d", got, want)
	}
	zr, err := gzip.NewReader(bytes.NewReader(up.Body))
	if err != nil {
		t.Fatalf("upstream body is not gzip: %v", err)
	}
	plain, _ := io.ReadAll(zr)
	if gjson.GetBytes(plain, "max_tokens").Int() != 300 {
		t.Fatalf("upstream body %s: want max_tokens 300 added", plain)
	}
}

// TestRequestPropertyKey: a budget keyed on a request.* property (here request.headers.x-tenant) counts each
// tenant apart on every host profile. On Envoy request.* properties are NOT_FOUND once on_request_headers
// returned Continue, so key parts read in the body callback put every tenant into one counter (hostsim models
// this, as the reference host in ../shared/tools/realhost does); the filter reads them at headers time.
func TestRequestPropertyKey(t *testing.T) {
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
		t.Run(string(p), func(t *testing.T) {
			h := hostsim.New(t, hostsim.Config{Profile: p, Workers: 1, KongSharedKV: true,
				Plugins: []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(t, "tokenbudget"),
					Config: []byte(`{"budgets":[{"name":"t","key":["property:request.headers.x-tenant","property:request.path"],"windows":{"day":100000}}]}`)}},
			})
			for _, tenant := range []string{"acme", "globex"} {
				if r := h.Do(chatReq("gpt-4o", 100, false, [2]string{"x-tenant", tenant}), chatUsage(20, 10)); r.Status != 200 {
					t.Fatalf("status %d", r.Status)
				}
				if got := used(t, h, budget.CounterKey(prefix, "t", []string{tenant, "/v1/chat/completions"}, budget.Day)); got != 30 {
					t.Fatalf("tenant %s: counter %d (keys %v)", tenant, got, h.SharedDataKeys(""))
				}
			}
		})
	}
}

// TestChoicesReserveEach: a request for n completions (OpenAI "n", legacy "best_of", Gemini candidateCount) can
// produce n × max_tokens of output, so it reserves that much: n = 4 × 300 does not fit a 1,000-token budget and is
// refused before anything is spent (it used to reserve 300 and go upstream); n = 2 × 300 fits and reserves ~600
// plus the input; with clamp_max_tokens the room left is shared, so each of the n completions gets room/n.
func TestChoicesReserveEach(t *testing.T) {
	withN := func(n int, field string) hostsim.Request {
		r := chatReq("gpt-4o", 300, false)
		r.Body = append(r.Body[:len(r.Body)-1], fmt.Sprintf(`,%q:%d}`, field, n)...)
		return r
	}
	key := modelKey("m", "gpt-4o", budget.Minute)
	for _, field := range []string{"n", "best_of"} {
		h := newHost(t, 1, fmt.Sprintf(localTotal, 1000, ""), nil)
		r := h.Do(withN(4, field), chatUsage(20, 10))
		if r.Status != 429 || r.Upstream != nil {
			t.Fatalf("%s=4 × 300 against 1,000: status %d, upstream %v", field, r.Status, r.Upstream != nil)
		}
		if got := used(t, h, key); got != 0 {
			t.Fatalf("a refused request left %d tokens reserved", got)
		}
		two := h.OpenStream(0, withN(2, field))
		two.SendRequest()
		if two.UpstreamRequest() == nil {
			t.Fatalf("%s=2 × 300 against 1,000 was not forwarded", field)
		}
		if got := used(t, h, key); got < 600+20 || got > 600+60 {
			t.Fatalf("%s=2: reserved %d, want 2 × 300 + an input estimate of ~20-60", field, got)
		}
		two.Respond(chatUsage(20, 10))
		two.Close()
	}
	// Gemini candidateCount
	h := newHost(t, 1, `{"budgets":[{"name":"g","key":["model"],"windows":{"minute":1000}}]}`, nil)
	g := hostsim.Request{Method: "POST", Path: "/v1beta/models/gemini-2.0-flash:generateContent", Headers: [][2]string{{"content-type", "application/json"}},
		Body: []byte(`{"contents":[{"role":"user","parts":[{"text":"Write a haiku."}]}],"generationConfig":{"maxOutputTokens":300,"candidateCount":4}}`)}
	if r := h.Do(g, chatUsage(20, 10)); r.Status != 429 || r.Upstream != nil {
		t.Fatalf("candidateCount 4 × 300 against 1,000: status %d, upstream %v", r.Status, r.Upstream != nil)
	}
	// clamp: the room is shared by the n completions
	h = newHost(t, 1, fmt.Sprintf(localTotal, 1000, `,"clamp_max_tokens":true`), nil)
	var upstreamMax int64
	r := h.DoOn(0, withN(4, "n"), func(u *hostsim.UpstreamRequest) hostsim.Response {
		upstreamMax = gjson.GetBytes(u.Body, "max_tokens").Int()
		return chatUsage(20, 10)
	})
	if r.Status != 200 || upstreamMax <= 0 || 4*upstreamMax > 1000 || 4*(upstreamMax+1) <= 1000-60 {
		t.Fatalf("clamped n=4: status %d, upstream max_tokens %d: want about (1,000 - input) / 4", r.Status, upstreamMax)
	}
}

// TestBatches: a batch's requests generate later on the provider's side and no answer on this exchange reports
// their usage. With batches: meter (the default) an inline batch (Anthropic message batches) reserves every
// request's input estimate and max_tokens, is refused when that does not fit, and is charged in full when the
// provider accepts it; a batch whose requests are in a file (OpenAI /v1/batches) cannot be metered and is
// refused with 403. batches: allow passes both unmetered (counted); deny refuses both. Before, every batch passed
// unmetered whatever the budget.
func TestBatches(t *testing.T) {
	anth := func(n, maxTokens int) hostsim.Request {
		var items []string
		for i := 0; i < n; i++ {
			items = append(items, fmt.Sprintf(`{"custom_id":"r%d","params":{"model":"claude-x","max_tokens":%d,"messages":[{"role":"user","content":"Summarise report %d in one line."}]}}`, i, maxTokens, i))
		}
		return hostsim.Request{Method: "POST", Path: "/v1/messages/batches", Headers: [][2]string{{"content-type", "application/json"}},
			Body: []byte(`{"requests":[` + strings.Join(items, ",") + `]}`)}
	}
	openai := hostsim.Request{Method: "POST", Path: "/v1/batches", Headers: [][2]string{{"content-type", "application/json"}},
		Body: []byte(`{"input_file_id":"file-abc123","endpoint":"/v1/chat/completions","completion_window":"24h"}`)}
	accepted := hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}},
		Body: []byte(`{"id":"msgbatch_01","type":"message_batch","processing_status":"in_progress","request_counts":{"processing":2}}`)}
	key := modelKey("m", "claude-x", budget.Minute)

	h := newHost(t, 1, fmt.Sprintf(localTotal, 1000, ""), nil)
	if r := h.Do(anth(3, 400), accepted); r.Status != 429 || r.Upstream != nil {
		t.Fatalf("3 × 400 against 1,000: status %d, upstream %v", r.Status, r.Upstream != nil)
	}
	r := h.Do(anth(2, 300), accepted)
	if r.Status != 200 || r.Upstream == nil {
		t.Fatalf("2 × 300 against 1,000: status %d %s", r.Status, r.Body)
	}
	if got := used(t, h, key); got < 600+20 || got > 600+80 {
		t.Fatalf("accepted batch charged %d, want 2 × 300 + the input estimate (charged in full)", got)
	}
	if r := h.Do(openai, accepted); r.Status != 403 || r.Upstream != nil || !strings.Contains(string(r.Body), reasonBatchUnread) {
		t.Fatalf("file batch under meter: status %d %s", r.Status, r.Body)
	}

	h = newHost(t, 1, fmt.Sprintf(localTotal, 1000, `,"batches":"allow"`), nil)
	for _, req := range []hostsim.Request{anth(3, 400), openai} {
		if r := h.Do(req, accepted); r.Status != 200 || r.Upstream == nil {
			t.Fatalf("batches allow %s: status %d", req.Path, r.Status)
		}
	}
	if got := used(t, h, key); got != 0 {
		t.Fatalf("allowed batches charged %d", got)
	}
	if n, _ := h.Metric("wasmguard_tokenbudget_requests_total.action.allow.reason." + reasonBatchAllowed); n != 2 {
		t.Fatalf("allowed batches counted %d, want 2 (%v)", n, h.Metrics())
	}

	h = newHost(t, 1, fmt.Sprintf(localTotal, 1000, `,"batches":"deny"`), nil)
	for _, req := range []hostsim.Request{anth(1, 10), openai} {
		if r := h.Do(req, accepted); r.Status != 403 || r.Upstream != nil || !strings.Contains(string(r.Body), reasonBatchDenied) {
			t.Fatalf("batches deny %s: status %d %s", req.Path, r.Status, r.Body)
		}
	}
}

// TestTextPlainChatIsMetered: a chat request sent as text/plain (Go upstreams such as Ollama parse it) is metered
// like any other; it used to pass unmetered because only JSON content-types were read.
func TestTextPlainChatIsMetered(t *testing.T) {
	h := newHost(t, 1, fmt.Sprintf(localTotal, 1000, ""), nil)
	req := chatReq("gpt-4o", 2000, false)
	req.Headers = [][2]string{{"content-type", "text/plain"}}
	if r := h.Do(req, chatUsage(20, 10)); r.Status != 429 || r.Upstream != nil {
		t.Fatalf("max_tokens 2,000 against 1,000 as text/plain: status %d, upstream %v", r.Status, r.Upstream != nil)
	}
	up := hostsim.Request{Method: "POST", Path: "/v1/files", Headers: [][2]string{{"content-type", "multipart/form-data; boundary=x"}}, Body: []byte("--x--")}
	if r := h.Do(up, hostsim.Response{Status: 200, Body: []byte(`{}`)}); r.Status != 200 || r.Upstream == nil {
		t.Fatalf("upload: status %d", r.Status)
	}
}

package piimask

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/pii"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// These tests run the BUILT dist/piimask.wasm in hostsim (`make piimask` first).

const tokenizeCfg = `{"hmac_key":"test-key-0123456789abcdef","default_action":"tokenize","actions":{"CREDIT_CARD":"mask","US_SSN":"block"}}`

func newHost(t testing.TB, cfg string) *hostsim.Host {
	t.Helper()
	return hostsim.New(t, hostsim.Config{
		Plugins: []hostsim.PluginSpec{{Name: "piimask", Wasm: hostsim.DistWasm(t, "piimask"), Config: []byte(cfg)}},
	})
}

func jsonReq(path, body string) hostsim.Request {
	return hostsim.Request{Method: "POST", Path: path, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(body), ChunkSize: 64}
}

var placeholderRE = regexp.MustCompile(`\[EMAIL_[0-9A-F]{8}\]`)

const (
	email = "jane.doe@example.com"
	phone = "+44 20 7946 0958"
	card  = "4111 1111 1111 1111"
	akey  = "AKIAIOSFODNN7EXAMPLE"
)

func decisions(t *testing.T, logs []hostsim.LogEntry) []telemetry.Decision {
	t.Helper()
	var out []telemetry.Decision
	for _, l := range logs {
		if d, ok := telemetry.ParseDecision(l.Message); ok && d.Filter == "piimask" {
			out = append(out, d)
		}
	}
	return out
}

func TestRequestMaskingPerProvider(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	cases := []struct {
		name, path, body string
	}{
		{"openai chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Email ` + email + ` or call ` + phone + `, card ` + card + `"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"send","arguments":"{\"to\":\"` + email + `\",\"key\":\"` + akey + `\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"sent to ` + email + `"}]}`},
		{"openai responses", "/v1/responses", `{"model":"gpt-4.1","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Email ` + email + ` or call ` + phone + `, card ` + card + `"}]},{"type":"function_call","call_id":"c1","name":"send","arguments":"{\"to\":\"` + email + `\",\"key\":\"` + akey + `\"}"},{"type":"function_call_output","call_id":"c1","output":"sent to ` + email + `"}]}`},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Email ` + email + ` or call ` + phone + `, card ` + card + `"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"send","input":{"to":"` + email + `","key":"` + akey + `"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sent to ` + email + `"}]}]}`},
		{"gemini", "/v1beta/models/gemini-2.0-flash:generateContent", `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Email ` + email + ` or call ` + phone + `, card ` + card + `"}]},{"role":"model","parts":[{"functionCall":{"name":"send","args":{"to":"` + email + `","key":"` + akey + `"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"send","response":{"result":"sent to ` + email + `"}}}]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := h.Do(jsonReq(c.path, c.body), hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s %v", res.Status, res.Body, res.LogsAt(hostsim.LogWarn))
			}
			up := string(res.Upstream.Body)
			if !gjson.Valid(up) {
				t.Fatalf("upstream body is not JSON: %s", up)
			}
			for _, v := range []string{email, phone, card, akey} {
				if strings.Contains(up, v) {
					t.Errorf("upstream still has %q: %s", v, up)
				}
			}
			phs := placeholderRE.FindAllString(up, -1)
			if len(phs) != 3 || phs[0] != phs[1] || phs[1] != phs[2] {
				t.Errorf("want the same e-mail placeholder in message, tool call and tool result; got %v in %s", phs, up)
			}
			if !strings.Contains(up, "**** **** **** 1111") || !strings.Contains(up, "[AWS_ACCESS_KEY]") || !strings.Contains(up, "[PHONE_") {
				t.Errorf("card mask / secret redaction / phone token missing: %s", up)
			}
			if !strings.Contains(up, "Be brief.") {
				t.Errorf("untouched text changed: %s", up)
			}
			ds := decisions(t, res.Logs)
			if len(ds) == 0 || ds[0].Reason != reasonMasked || len(ds[0].Findings) < 6 {
				t.Fatalf("decision: %+v", ds)
			}
			for _, d := range ds {
				if strings.Contains(d.String(), "jane") {
					t.Fatalf("decision leaks a value: %s", d)
				}
			}
		})
	}
	// The same value gets the same placeholder on every request (no shared store needed).
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + `"}]}`
	a := h.Do(jsonReq("/v1/chat/completions", body), hostsim.Response{Body: []byte(`{}`)})
	b := h.Do(jsonReq("/v1/chat/completions", body), hostsim.Response{Body: []byte(`{}`)})
	if placeholderRE.FindString(string(a.Upstream.Body)) != placeholderRE.FindString(string(b.Upstream.Body)) {
		t.Fatalf("placeholders differ across requests: %s / %s", a.Upstream.Body, b.Upstream.Body)
	}
	if n, _ := h.Metric("wasmguard_piimask_entities_total"); n < 20 {
		t.Fatalf("entities metric = %d", n)
	}
}

func echoJSON(u *hostsim.UpstreamRequest) hostsim.Response {
	ph := placeholderRE.FindString(string(u.Body))
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}},
		Body: []byte(`{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"I will write to ` + ph + ` today.","tool_calls":[{"id":"c9","type":"function","function":{"name":"send","arguments":"{\"to\":\"` + ph + `\"}"}}]},"finish_reason":"stop"}]}`)}
}

func TestResponseRestorePlain(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	res := h.DoFunc(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"Write to `+email+` please"}]}`), echoJSON)
	if strings.Contains(string(res.Upstream.Body), email) {
		t.Fatalf("upstream saw the value")
	}
	got := gjson.GetBytes(res.Body, "choices.0.message.content").String()
	if got != "I will write to "+email+" today." {
		t.Fatalf("client got %q (%s)", got, res.Body)
	}
	if args := gjson.GetBytes(res.Body, "choices.0.message.tool_calls.0.function.arguments").String(); args != `{"to":"`+email+`"}` {
		t.Fatalf("tool-call arguments not restored: %q", args)
	}
	if n, _ := h.Metric("wasmguard_piimask_restored_total"); n != 2 {
		t.Fatalf("restored metric = %d", n)
	}
}

func TestResponseRestoreGzip(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	res := h.DoFunc(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"Write to `+email+` please"}]}`),
		func(u *hostsim.UpstreamRequest) hostsim.Response {
			r := echoJSON(u)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(r.Body)
			zw.Close()
			r.Body = buf.Bytes()
			r.Headers = append(r.Headers, [2]string{"content-encoding", "gzip"})
			return r
		})
	zr, err := gzip.NewReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("client body is not gzip: %v (%q)", err, res.Body)
	}
	plain, _ := io.ReadAll(zr)
	if got := gjson.GetBytes(plain, "choices.0.message.content").String(); got != "I will write to "+email+" today." {
		t.Fatalf("client got %q", got)
	}
}

// chatSSE builds an OpenAI chat stream whose deltas are the pieces.
func chatSSE(pieces ...string) []byte {
	var b bytes.Buffer
	for _, p := range pieces {
		b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":` + strconv.Quote(p) + `},"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// clientText concatenates the delta contents of an OpenAI chat stream.
func clientText(t *testing.T, body []byte) string {
	t.Helper()
	var out strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "data: {") {
			continue
		}
		if !gjson.Valid(line[6:]) {
			t.Fatalf("invalid event JSON: %s", line)
		}
		out.WriteString(gjson.Get(line[6:], "choices.0.delta.content").String())
	}
	if !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
		t.Fatalf("stream does not end with [DONE]: %q", body)
	}
	return out.String()
}

func sseResponse(chunks ...[]byte) hostsim.Response {
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunks}
}

func TestStreamRestoreEverySplit(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	req := jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Write to `+email+` and `+phone+` please"}]}`)
	// Learn the placeholders the filter uses.
	first := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response { return sseResponse(chatSSE("ok")) })
	up := string(first.Upstream.Body)
	pe := placeholderRE.FindString(up)
	pp := regexp.MustCompile(`\[PHONE_[0-9A-F]{8}\]`).FindString(up)
	if pe == "" || pp == "" {
		t.Fatalf("no placeholders upstream: %s", up)
	}
	// The model splits the placeholders over several deltas.
	stream := chatSSE("Sure, I'll mail ", pe[:5], pe[5:12], pe[12:]+" and call ", pp+".", " Done [not a placeholder] [EMAIL_")
	want := "Sure, I'll mail " + email + " and call " + phone + ". Done [not a placeholder] [EMAIL_"
	for cut := 0; cut <= len(stream); cut++ {
		res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
			return sseResponse(stream[:cut], stream[cut:])
		})
		if got := clientText(t, res.Body); got != want {
			t.Fatalf("cut at %d: client text %q, want %q", cut, got, want)
		}
		if cut%97 == 0 {
			// Nothing partial of a placeholder reaches the client in the first chunk.
			if len(res.Chunks) > 0 && strings.Contains(string(res.Chunks[0]), "[EMAIL_") && !strings.Contains(string(res.Chunks[0]), email) {
				t.Fatalf("partial placeholder leaked in the first chunk at cut %d: %q", cut, res.Chunks[0])
			}
		}
	}
}

func TestStreamMaskResponsesAnthropic(t *testing.T) {
	h := newHost(t, `{"mask_responses":true}`)
	events := []string{
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\n",
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
	}
	for _, p := range []string{"Your key is AKIAIOSF", "ODNN7EXAMPLE and the mail is ja", "ne.doe@exam", "ple.com ok"} {
		events = append(events, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"+strconv.Quote(p)+"}}\n\n")
	}
	events = append(events,
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n",
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	var chunks [][]byte
	for _, e := range events {
		chunks = append(chunks, []byte(e))
	}
	res := h.Do(jsonReq("/v1/messages", `{"model":"claude-sonnet-4","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`), sseResponse(chunks...))
	var text strings.Builder
	for _, line := range strings.Split(string(res.Body), "\n") {
		if strings.HasPrefix(line, "data: ") {
			text.WriteString(gjson.Get(line[6:], "delta.text").String())
		}
	}
	if got := text.String(); got != "Your key is [AWS_ACCESS_KEY] and the mail is [EMAIL] ok" {
		t.Fatalf("client text %q\n%s", got, res.Body)
	}
	for k, c := range res.Chunks {
		if strings.Contains(string(c), "AKIA") || strings.Contains(string(c), "ne.doe") {
			t.Fatalf("chunk %d leaks: %q", k, c)
		}
	}
	if !strings.HasSuffix(string(res.Body), "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
		t.Fatalf("stream end changed: %q", res.Body)
	}
}

func TestMonitorMode(t *testing.T) {
	h := newHost(t, `{"mode":"monitor","actions":{"US_SSN":"block"}}`)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"SSN 078-05-1122, mail ` + email + `"}]}`
	res := h.Do(jsonReq("/v1/chat/completions", body), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream == nil || string(res.Upstream.Body) != body {
		t.Fatalf("monitor mode changed or blocked the request: %+v", res.Upstream)
	}
	ds := decisions(t, res.Logs)
	if len(ds) != 1 || ds[0].Mode != "monitor" || ds[0].Action != "block" || ds[0].Reason != reasonBlocked || len(ds[0].Findings) != 2 {
		t.Fatalf("decision: %+v", ds)
	}
	f := ds[0].Findings[0]
	if f.Type != "US_SSN" || f.Start != 4 || f.End != 15 {
		t.Fatalf("finding %+v", f)
	}
	if n, _ := h.Metric("wasmguard_piimask_requests_total.action.monitor.reason.pii_blocked"); n != 1 {
		t.Fatalf("monitor metric = %d", n)
	}
}

func TestBlock(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	res := h.Do(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"my SSN is 078-05-1122"}]}`), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream != nil || res.Status != 400 || !res.LocalReply {
		t.Fatalf("not blocked: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if code := gjson.GetBytes(res.Body, "error.code").String(); code != reasonBlocked {
		t.Fatalf("reply %s", res.Body)
	}
}

func TestBadConfigRefused(t *testing.T) {
	_, err := hostsim.Start(hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "piimask", Wasm: hostsim.DistWasm(t, "piimask"), Config: []byte(`{"default_action":"tokenize"}`)}}})
	if err == nil || !strings.Contains(err.Error(), "hmac_key: must be a secret of at least 16 bytes") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnparseableBodyOnError(t *testing.T) {
	h := newHost(t, `{}`)
	res := h.Do(jsonReq("/v1/chat/completions", `{"model":`), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream != nil || res.Status != 400 {
		t.Fatalf("deny on error: status %d", res.Status)
	}
	h2 := newHost(t, `{"on_error":"allow"}`)
	res = h2.Do(jsonReq("/v1/chat/completions", `{"model":`), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream == nil {
		t.Fatalf("allow on error: not forwarded (%d)", res.Status)
	}
}

// sparseProse is about n bytes of prose with one e-mail address and one phone number per ~16 KB.
func sparseProse(n int) string {
	para := "The quarterly review covered revenue, churn and the hiring plan for the next two quarters. " +
		"Engineering shipped the new onboarding flow; support tickets dropped by 12% after the release. " +
		"Please summarise the discussion, list the open questions and suggest three next steps for the team. "
	var b strings.Builder
	for b.Len() < n {
		for i := 0; i < 50; i++ {
			b.WriteString(para)
		}
		b.WriteString("Contact jane.doe@example.com or +1 415-555-0132. ")
	}
	return b.String()
}

// BenchmarkWasmScan measures the scan inside the built wasm (CPU time, so that a loaded machine does not skew it): the same 256 KiB request through piimask with every
// entity enabled and with none (JSON parsing, body copies and host calls cost the same in both), so
//
//	wasm_scan_MB/s = bytes / (t_all - t_none);
//
// native_scan_MB/s is the scan package on the same text natively, and ratio = native / wasm.
func BenchmarkWasmScan(b *testing.B) {
	text := sparseProse(256 << 10)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":` + strconv.Quote(text) + `}]}`
	req := jsonReq("/v1/chat/completions", body)
	req.ChunkSize = 0
	all := newHost(b, `{"mode":"monitor","max_body_bytes":1048576}`)
	none := newHost(b, `{"mode":"monitor","entities":[],"max_body_bytes":1048576}`)
	resp := hostsim.Response{Body: []byte(`{}`)}
	// warm up
	all.Do(req, resp)
	none.Do(req, resp)
	var tAll, tNone time.Duration
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t0 := cpuNow()
		r := all.Do(req, resp)
		t1 := cpuNow()
		none.Do(req, resp)
		t2 := cpuNow()
		if r.Upstream == nil {
			b.Fatal("not forwarded")
		}
		tAll += t1 - t0
		tNone += t2 - t1
	}
	scan := (tAll - tNone).Seconds() / float64(b.N)
	nativeT := nativeScanSeconds(text)
	if scan > 0 {
		b.ReportMetric(float64(len(text))/scan/1e6, "wasm_scan_MB/s")
		b.ReportMetric(scan/nativeT, "wasm/native")
	}
	b.ReportMetric(float64(len(text))/nativeT/1e6, "native_scan_MB/s")
	b.ReportMetric(tAll.Seconds()/float64(b.N)*1e3, "ms/request")
}

func nativeScanSeconds(text string) float64 {
	s := pii.New(pii.All(), nil)
	var ms []pii.Match
	n := 0
	t0 := cpuNow()
	for cpuNow()-t0 < 300*time.Millisecond {
		ms = s.ScanString(text, ms[:0])
		n++
	}
	return (cpuNow() - t0).Seconds() / float64(n)
}

func TestStreamRestoreToolArgsAndGzip(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	req := jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Mail `+email+` the report"}]}`)
	stream := func(u *hostsim.UpstreamRequest) []byte {
		ph := placeholderRE.FindString(string(u.Body))
		args := `{"to":"` + ph + `","subject":"report"}`
		var b bytes.Buffer
		b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"send_mail","arguments":""}}]},"finish_reason":null}]}` + "\n\n")
		for _, piece := range []string{args[:9], args[9:14], args[14:]} {
			b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":` + strconv.Quote(piece) + `}}]},"finish_reason":null}]}` + "\n\n")
		}
		b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\ndata: [DONE]\n\n")
		return b.Bytes()
	}
	argsOf := func(body []byte) string {
		var out strings.Builder
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "data: {") {
				out.WriteString(gjson.Get(line[6:], "choices.0.delta.tool_calls.0.function.arguments").String())
			}
		}
		return out.String()
	}
	want := `{"to":"` + email + `","subject":"report"}`

	res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
		s := stream(u)
		return sseResponse(s[:200], s[200:400], s[400:])
	})
	if got := argsOf(res.Body); got != want {
		t.Fatalf("streamed tool arguments %q, want %q\n%s", got, want, res.Body)
	}

	// The same stream gzip-compressed (handled whole).
	res = h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(stream(u))
		zw.Close()
		z := buf.Bytes()
		r := sseResponse(z[:len(z)/2], z[len(z)/2:])
		r.Headers = append(r.Headers, [2]string{"content-encoding", "gzip"})
		return r
	})
	zr, err := gzip.NewReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("client body is not gzip: %v", err)
	}
	plain, _ := io.ReadAll(zr)
	if got := argsOf(plain); got != want {
		t.Fatalf("gzip streamed tool arguments %q, want %q", got, want)
	}
}

func TestOtherJSONBodies(t *testing.T) {
	h := newHost(t, `{}`)
	body := `{"model":"text-embedding-3-small","input":["mail jane.doe@example.com", {"nested": "call +44 20 7946 0958"}]}`
	res := h.Do(jsonReq("/v1/embeddings", body), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream == nil {
		t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
	}
	up := string(res.Upstream.Body)
	if up != `{"model":"text-embedding-3-small","input":["mail [EMAIL]", {"nested": "call [PHONE]"}]}` {
		t.Fatalf("upstream got %s", up)
	}
}

func TestKongProfileAndTrailers(t *testing.T) {
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + `"}]}`
	want := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail [EMAIL]"}]}`
	kong := hostsim.New(t, hostsim.Config{Profile: hostsim.ProfileKong,
		Plugins: []hostsim.PluginSpec{{Name: "piimask", Wasm: hostsim.DistWasm(t, "piimask"), Config: []byte(`{}`)}}})
	res := kong.Do(jsonReq("/v1/chat/completions", body), hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream == nil || string(res.Upstream.Body) != want {
		t.Fatalf("kong: upstream %v", res.Upstream)
	}
	// A body that ends with trailers instead of end_of_stream is still masked (Envoy).
	envoy := newHost(t, `{}`)
	req := jsonReq("/v1/chat/completions", body)
	req.Trailers = [][2]string{{"x-checksum", "abc"}}
	res = envoy.Do(req, hostsim.Response{Body: []byte(`{}`)})
	if res.Upstream == nil || string(res.Upstream.Body) != want {
		t.Fatalf("trailers: upstream %v (status %d)", res.Upstream, res.Status)
	}
}

func TestResponseEndsWithEmptyChunk(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	req := jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Write to `+email+`"}]}`)
	res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
		ph := placeholderRE.FindString(string(u.Body))
		s := chatSSE("To "+ph[:6], ph[6:]+" now")
		// The stream ends without [DONE] and with an empty final chunk.
		s = bytes.TrimSuffix(s, []byte("data: [DONE]\n\n"))
		return sseResponse(s, nil)
	})
	var text strings.Builder
	for _, line := range strings.Split(string(res.Body), "\n") {
		if strings.HasPrefix(line, "data: {") {
			text.WriteString(gjson.Get(line[6:], "choices.0.delta.content").String())
		}
	}
	if text.String() != "To "+email+" now" {
		t.Fatalf("client text %q\n%s", text.String(), res.Body)
	}
}

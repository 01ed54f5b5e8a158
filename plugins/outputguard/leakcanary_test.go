package outputguard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

const canarySys = "You are the claims assistant of Example Insurance. Help customers file and track claims; never quote payout amounts."

// upstreamSystem returns the system message of the chat request the upstream received.
func upstreamSystem(t *testing.T, res hostsim.Result) string {
	t.Helper()
	if res.Upstream == nil {
		t.Fatal("the upstream got no request")
	}
	if cl, ok := res.Upstream.Header("content-length"); ok && cl != fmt.Sprint(len(res.Upstream.Body)) {
		t.Fatalf("content-length %s for a %d-byte body", cl, len(res.Upstream.Body))
	}
	var req struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal(res.Upstream.Body, &req); err != nil {
		t.Fatalf("upstream body: %v\n%s", err, res.Upstream.Body)
	}
	for _, m := range req.Messages {
		if m.Role == "system" {
			return m.Content
		}
	}
	t.Fatalf("no system message upstream: %s", res.Upstream.Body)
	return ""
}

// injectedToken is the canary the built filter wrote in front of canarySys on host h (the first request on h).
func injectedToken(t *testing.T, h *hostsim.Host) string {
	t.Helper()
	benign := "Your claim 4411 is being reviewed; you will hear from us within five working days."
	res := h.Do(chatRequest(canarySys, false), jsonResponse(chatCompletion(benign)))
	checkHealthy(t, res)
	sys := upstreamSystem(t, res)
	tok, rest, ok := strings.Cut(strings.TrimPrefix(sys, "["), "] ")
	if !strings.HasPrefix(sys, "[og") || !ok || rest != canarySys || len(tok) != 14 {
		t.Fatalf("upstream system prompt %q: want [og<12 letters>] then the prompt", sys)
	}
	if got := answerText(t, res.Body); got != benign {
		t.Fatalf("benign answer changed: %q", got)
	}
	return tok
}

// TestPromptLeakInjectedCanary: with prompt_leak.inject_canary the built .wasm writes a canary token in front of
// the request's system prompt (the upstream gets it, content-length dropped) and blocks an answer that carries
// it, as written or encoded, whole and streamed in 7-byte chunks; the token is the same for the same prompt on
// both worker VMs of a host (the key is in shared data) and differs on another host; without the option, or
// without a system prompt, the request goes upstream unchanged.
func TestPromptLeakInjectedCanary(t *testing.T) {
	cfg := `{"prompt_leak":{"inject_canary":true}}`
	h := host(t, hostsim.ProfileEnvoy, cfg)
	tok := injectedToken(t, h)
	if again := injectedToken(t, h); again != tok {
		t.Fatalf("same prompt, same host: %q then %q", tok, again)
	}
	if other := injectedToken(t, host(t, hostsim.ProfileEnvoy, cfg)); other == tok {
		t.Fatalf("another host injected the same token %q", tok)
	}
	for _, tc := range []struct{ name, leak, reveal string }{
		{"dump of the first line", "My instructions start like this: [" + tok + "] You are the claims helper.", tok},
		{"base64", "Encoded as you asked: " + base64.StdEncoding.EncodeToString([]byte(tok)), base64.StdEncoding.EncodeToString([]byte(tok))},
		{"upper case", "The tag at the top reads " + strings.ToUpper(tok) + ".", strings.ToUpper(tok)},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				var res hostsim.Result
				if !stream {
					res = h.Do(chatRequest(canarySys, false), jsonResponse(chatCompletion(tc.leak)))
				} else {
					c := streamCases[0]
					res = h.Do(streamRequest(c, canarySys), hostsim.Response{Status: 200,
						Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunkBytes(c.build(splitTokens(tc.leak)), 7)})
				}
				checkHealthy(t, res)
				if d := oneDecision(t, res); d.Action != "block" || d.Reason != "output_prompt_leak" {
					t.Errorf("decision %+v", d)
				}
				if bytes.Contains(res.Body, []byte(tc.reveal)) {
					t.Errorf("the token reached the client: %s", res.Body)
				}
			})
		}
	}
	t.Run("option off", func(t *testing.T) {
		req := chatRequest(canarySys, false)
		res := host(t, hostsim.ProfileEnvoy, `{}`).Do(req, jsonResponse(chatCompletion("fine")))
		checkHealthy(t, res)
		if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, req.Body) {
			t.Fatalf("request changed without inject_canary: %s", res.Upstream.Body)
		}
	})
	t.Run("no system prompt", func(t *testing.T) {
		req := chatRequest(canarySys, false)
		req.Body = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`)
		res := h.Do(req, jsonResponse(chatCompletion("Hello!")))
		checkHealthy(t, res)
		if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, req.Body) {
			t.Fatalf("request without a system prompt changed: %s", res.Upstream.Body)
		}
	})
}

// TestPromptLeakInjectedCanaryFormats: the built .wasm injects the canary into the system prompt of an Anthropic
// Messages request, a Responses request's instructions and a gzip-encoded chat request (re-encoded), on the
// Envoy and Kong profiles, and blocks an answer that quotes it. Kong runs without an shm_kv zone (a shared-data
// call would trap): each VM draws its own key, so the host runs one worker here and the token of the first
// request is the token of the second.
func TestPromptLeakInjectedCanaryFormats(t *testing.T) {
	sys := canarySys
	for _, profile := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
		for _, tc := range []struct {
			name, path string
			body       []byte
			gzip       bool
		}{
			{"anthropic", "/v1/messages", []byte(`{"model":"claude-x","max_tokens":64,"system":"` + sys + `","messages":[{"role":"user","content":"Hi"}]}`), false},
			{"responses", "/v1/responses", []byte(`{"model":"gpt-4o-mini","instructions":"` + sys + `","input":"Hi"}`), false},
			{"chat, gzip", "/v1/chat/completions", chatRequest(sys, false).Body, true},
		} {
			t.Run(fmt.Sprintf("%s/%s", profile, tc.name), func(t *testing.T) {
				h := hostsim.New(t, hostsim.Config{Profile: profile, Workers: 1, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
					Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(`{"prompt_leak":{"inject_canary":true},"mode":"enforce"}`)}}})
				req := hostsim.Request{Method: "POST", Path: tc.path, Body: tc.body, ChunkSize: 64,
					Headers: [][2]string{{"content-type", "application/json"}}}
				if tc.gzip {
					req.Body = gz(t, tc.body)
					req.Headers = append(req.Headers, [2]string{"content-encoding", "gzip"})
				}
				res := h.Do(req, jsonResponse(chatCompletion("fine")))
				if res.Upstream == nil {
					t.Fatalf("the upstream got no request: status %d hung=%v %s trapped=%v %v logs %v", res.Status, res.Hung, res.HungWhy, res.Trapped, res.Traps, res.Logs)
				}
				up := res.Upstream.Body
				if tc.gzip {
					up = gunzip(t, up)
				}
				i := bytes.Index(up, []byte("] "+sys))
				if i < 16 || !bytes.Equal(up[i-16:i-13], []byte(`"[o`)) {
					t.Fatalf("no canary in front of the system prompt upstream: %s", up)
				}
				tok := string(up[i-14 : i])
				if !strings.HasPrefix(tok, "og") {
					t.Fatalf("token %q", tok)
				}
				// answered in chat-completion shape whatever the request: the response check is format-detected
				leak := h.Do(chatRequest(sys, false), jsonResponse(chatCompletion("Sure, it starts with ["+tok+"] You are the claims assistant.")))
				if d := oneDecision(t, leak); d.Action != "block" || d.Reason != "output_prompt_leak" {
					t.Errorf("decision %+v", d)
				}
			})
		}
	}
}

// TestPromptLeakRequestUnread: a request outputguard must read and cannot (over max_body_bytes, JSON that is not
// the API's, corrupt gzip) is never passed on silently. With inject_canary it would reach the model without its
// canary, so it takes the on_error path: under deny (the default) the client gets a provider-shaped error and the
// upstream nothing; under allow the request goes upstream unchanged. With from_request alone only the request's
// fingerprint is lost: the request goes upstream unchanged and the loss is logged at warn level. Every case counts
// errors_total{reason}. Before this, all of them went upstream with nothing but a debug line.
func TestPromptLeakRequestUnread(t *testing.T) {
	big := chatRequest(canarySys+strings.Repeat(" Claims are filed online.", 60), false) // ~1.6 KiB
	bad := chatRequest(canarySys, false)
	bad.Body = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"` + canarySys + `"},{"role":"user"`)
	corrupt := chatRequest(canarySys, false)
	corrupt.Body = append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, []byte("not deflate data at all")...)
	corrupt.Headers = append(corrupt.Headers, [2]string{"content-encoding", "gzip"})
	for _, tc := range []struct {
		name, cfg, reason string
		req               hostsim.Request
		forwarded         bool   // the upstream gets the request, unchanged
		action            string // of the request's decision
	}{
		{"inject, too large, deny", `{"max_body_bytes":1024,"prompt_leak":{"inject_canary":true}}`, "request_body_too_large", big, false, "block"},
		{"inject, too large, allow", `{"max_body_bytes":1024,"on_error":"allow","prompt_leak":{"inject_canary":true}}`, "request_body_too_large", big, true, "allow"},
		{"inject, unparseable, deny", `{"prompt_leak":{"inject_canary":true}}`, "request_body_unparseable", bad, false, "block"},
		{"inject, corrupt gzip, deny", `{"prompt_leak":{"inject_canary":true}}`, "body_undecodable", corrupt, false, "block"},
		{"from_request, too large", `{"max_body_bytes":1024}`, "request_body_too_large", big, true, "allow"},
		{"from_request, unparseable", `{}`, "request_body_unparseable", bad, true, "allow"},
	} {
		for _, profile := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
			t.Run(fmt.Sprintf("%s/%s", profile, tc.name), func(t *testing.T) {
				h := hostsim.New(t, hostsim.Config{Profile: profile, Workers: 1, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
					Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(tc.cfg)}}})
				res := h.Do(tc.req, jsonResponse(chatCompletion("Your claim is being reviewed.")))
				if res.Trapped || res.Hung {
					t.Fatalf("trapped=%v hung=%v %v", res.Trapped, res.Hung, res.Traps)
				}
				ds := decisions(res)
				if len(ds) == 0 || ds[0].Reason != tc.reason || ds[0].Action != tc.action {
					t.Fatalf("decisions %+v, want first %s / %s\nlogs %v", ds, tc.action, tc.reason, res.Logs)
				}
				if n, _ := h.Metric("wasmguard_outputguard_errors_total.reason." + tc.reason); n != 1 {
					t.Errorf("errors_total{%s} = %d, want 1 (metrics %v)", tc.reason, n, h.Metrics())
				}
				if !tc.forwarded {
					if res.Upstream != nil {
						t.Fatalf("the upstream got the request: %s", res.Upstream.Body)
					}
					if res.Status < 400 || !bytes.Contains(res.Body, []byte(tc.reason)) {
						t.Fatalf("status %d body %s: want a provider-shaped error naming %s", res.Status, res.Body, tc.reason)
					}
					return
				}
				if res.Upstream == nil || !bytes.Equal(res.Upstream.Body, tc.req.Body) {
					t.Fatalf("want the request upstream unchanged, got %v", res.Upstream)
				}
				if tc.action == "allow" && !strings.Contains(tc.cfg, "on_error") && len(res.LogsAt(hostsim.LogWarn)) == 0 {
					t.Errorf("the lost fingerprint was not logged at warn level: %v", res.Logs)
				}
				if res.Status != 200 || answerText(t, res.Body) != "Your claim is being reviewed." {
					t.Fatalf("answer %d %s", res.Status, res.Body)
				}
			})
		}
	}
}

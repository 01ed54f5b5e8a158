package piimask

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// gzipped returns s gzip-compressed, and a copy with two bytes in the middle flipped (corrupt deflate data).
func gzipped(s string) (good, corrupt []byte) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	good = b.Bytes()
	corrupt = append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt[len(corrupt)/2+1] ^= 0xff
	return good, corrupt
}

// TestOnErrorSharedReasons: every on_error case replies with the shared reason code and its status
// (filter.ReasonFor / StatusFor) under on_error deny, forwards the request untouched under on_error allow,
// and in monitor mode never replies but logs what on_error deny would have done. No log line quotes the
// payload.
func TestOnErrorSharedReasons(t *testing.T) {
	chat := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + `"}]}`
	gz, corrupt := gzipped(chat)
	big := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + strings.Repeat(" and more text", 700) + `"}]}`

	type tc struct {
		name   string
		kong   bool
		cfg    string // extra config keys
		body   []byte
		enc    string
		reason string
		status int
	}
	cases := []tc{
		{name: "unparseable", body: []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + `"`), reason: telemetry.ReasonRequestBodyUnparseable, status: 400},
		{name: "too large", cfg: `"max_body_bytes":64`, body: []byte(chat), reason: telemetry.ReasonRequestBodyTooLarge, status: 413},
		{name: "decoded too large", cfg: `"max_body_bytes":90`, body: gz, enc: "gzip", reason: telemetry.ReasonRequestBodyTooLarge, status: 413},
		{name: "unsupported encoding", body: gz, enc: "compress", reason: telemetry.ReasonUnsupportedEncoding, status: 415},
		{name: "corrupt gzip", body: corrupt, enc: "gzip", reason: telemetry.ReasonBodyUndecodable, status: 400},
		{name: "kong spilled body", kong: true, body: []byte(big), reason: telemetry.ReasonBodyUnreadable, status: 413},
	}
	for _, c := range cases {
		for _, mode := range []string{"deny", "allow", "monitor"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				cfg := `{"on_error":"deny"`
				switch mode {
				case "allow":
					cfg = `{"on_error":"allow"`
				case "monitor":
					cfg = `{"on_error":"deny","mode":"monitor"`
				}
				if c.cfg != "" {
					cfg += "," + c.cfg
				}
				cfg += "}"
				hc := hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "piimask", Wasm: hostsim.DistWasm(t, "piimask"), Config: []byte(cfg)}}}
				if c.kong {
					hc.Profile = hostsim.ProfileKong
				}
				h := hostsim.New(t, hc)
				req := hostsim.Request{Method: "POST", Path: "/v1/chat/completions", Body: c.body, ChunkSize: 64,
					Headers: [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-7"}}}
				if c.enc != "" {
					req.Headers = append(req.Headers, [2]string{"content-encoding", c.enc})
				}
				res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)})
				ds := decisions(t, res.Logs)
				if len(ds) != 1 || ds[0].Reason != c.reason || ds[0].RequestID != "req-7" {
					t.Fatalf("decisions %+v, want one with reason %s", ds, c.reason)
				}
				d := ds[0]
				switch mode {
				case "deny":
					if res.Upstream != nil || !res.LocalReply || res.Status != c.status {
						t.Fatalf("want a %d local reply; got status %d, local %v, forwarded %v", c.status, res.Status, res.LocalReply, res.Upstream != nil)
					}
					if code := gjson.GetBytes(res.Body, "error.code").String(); code != c.reason {
						t.Fatalf("reply error.code %q, want %q: %s", code, c.reason, res.Body)
					}
					if d.Action != "block" || d.Mode != "" {
						t.Fatalf("decision %+v", d)
					}
				default:
					if res.LocalReply || res.Upstream == nil {
						t.Fatalf("%s: must forward, got status %d, local reply %v", mode, res.Status, res.LocalReply)
					}
					if c.enc == "" && !c.kong && !bytes.Equal(res.Upstream.Body, c.body) {
						t.Fatalf("%s: body changed: %s", mode, res.Upstream.Body)
					}
					want, wantMode := "allow", ""
					if mode == "monitor" {
						want, wantMode = "block", "monitor" // what on_error deny would have done
					}
					if d.Action != want || d.Mode != wantMode {
						t.Fatalf("decision action %q mode %q, want %q %q", d.Action, d.Mode, want, wantMode)
					}
				}
				if n, _ := h.Metric("wasmguard_piimask_errors_total.reason." + c.reason); n != 1 {
					t.Fatalf("errors metric = %d", n)
				}
				for _, l := range res.Logs {
					if l.Level >= hostsim.LogInfo && strings.Contains(l.Message, "jane.doe") {
						t.Fatalf("a log line quotes the payload: %s", l.Message)
					}
				}
			})
		}
	}
}

// TestResponseOnError: a response piimask cannot rewrite (over max_body_bytes, corrupt gzip) must not carry
// entities the model wrote unmasked when mask_responses is on and on_error is deny: the client gets the
// provider-shaped error instead. on_error allow and monitor mode pass it unchanged; every case is logged.
func TestResponseOnError(t *testing.T) {
	answer := `{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Write to ` +
		email + strings.Repeat(" and some more text", 40) + `"},"finish_reason":"stop"}]}`
	_, corrupt := gzipped(answer)
	cases := []struct {
		name, cfg, enc string
		body           []byte
		reason         string
	}{
		{"too large", `"max_body_bytes":300`, "", []byte(answer), telemetry.ReasonResponseBodyTooLarge},
		{"corrupt gzip", "", "gzip", corrupt, telemetry.ReasonBodyUndecodable},
	}
	for _, c := range cases {
		for _, mode := range []string{"deny", "allow", "monitor"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				cfg := `{"mask_responses":true,"on_error":"deny"`
				switch mode {
				case "allow":
					cfg = `{"mask_responses":true,"on_error":"allow"`
				case "monitor":
					cfg = `{"mask_responses":true,"on_error":"deny","mode":"monitor"`
				}
				if c.cfg != "" {
					cfg += "," + c.cfg
				}
				h := newHost(t, cfg+"}")
				hdrs := [][2]string{{"content-type", "application/json"}}
				if c.enc != "" {
					hdrs = append(hdrs, [2]string{"content-encoding", c.enc})
				}
				var chunks [][]byte
				for i := 0; i < len(c.body); i += 100 {
					chunks = append(chunks, c.body[i:min(len(c.body), i+100)])
				}
				res := h.Do(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`),
					hostsim.Response{Status: 200, Headers: hdrs, Chunks: chunks})
				if res.Upstream == nil {
					t.Fatalf("request not forwarded")
				}
				ds := decisions(t, res.Logs)
				if len(ds) != 2 || ds[1].Reason != c.reason {
					t.Fatalf("decisions %+v, want the request's and one with reason %s", ds, c.reason)
				}
				if mode == "deny" {
					if bytes.Contains(res.Body, []byte(email)) || bytes.Equal(res.Body, c.body) {
						t.Fatalf("unmasked response reached the client: %.200s", res.Body)
					}
					if code := gjson.GetBytes(res.Body, "error.code").String(); code != c.reason {
						t.Fatalf("client body %s, want an error with code %s", res.Body, c.reason)
					}
					if ds[1].Action != "block" {
						t.Fatalf("decision %+v", ds[1])
					}
					return
				}
				if !bytes.Equal(res.Body, c.body) {
					t.Fatalf("%s: body changed: %.200s", mode, res.Body)
				}
				if want := map[string]string{"allow": "allow", "monitor": "block"}[mode]; ds[1].Action != want {
					t.Fatalf("decision %+v, want action %s", ds[1], want)
				}
			})
		}
	}
}

// TestStreamEventTooLarge: an SSE event over max_body_bytes stops parsing. Under on_error allow or in
// monitor mode the rest of the stream passes unparsed and complete; with mask_responses under on_error deny
// the stream ends with the provider's error event and no byte of the oversized event (or later ones) leaks.
func TestStreamEventTooLarge(t *testing.T) {
	for _, size := range []struct {
		name          string
		limit         string // max_body_bytes
		repeat, chunk int
	}{
		{"max_body_bytes 512", `,"max_body_bytes":512`, 60, 100},
		{"default 1 MiB", "", 80000, 64 << 10},
	} {
		big := "Here is the list: " + email + strings.Repeat(" and more text", size.repeat)
		stream := chatSSE("Sure, here it comes. ", big, " Also write to second.person@example.org now", " bye")
		for _, mode := range []string{"deny", "allow", "monitor"} {
			t.Run(size.name+"/"+mode, func(t *testing.T) {
				cfg := map[string]string{
					"deny":    `{"mask_responses":true,"on_error":"deny"`,
					"allow":   `{"mask_responses":true,"on_error":"allow"`,
					"monitor": `{"mask_responses":true,"on_error":"deny","mode":"monitor"`,
				}[mode] + size.limit + "}"
				h := newHost(t, cfg)
				var chunks [][]byte
				for i := 0; i < len(stream); i += size.chunk {
					chunks = append(chunks, stream[i:min(len(stream), i+size.chunk)])
				}
				res := h.Do(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`), sseResponse(chunks...))
				defer func() { // (after the body checks, which say more when they fail)
					if ds := decisions(t, res.Logs); len(ds) < 2 || ds[1].Reason != telemetry.ReasonStreamEventTooLarge {
						t.Errorf("decisions %+v, want one with reason %s", ds, telemetry.ReasonStreamEventTooLarge)
					}
				}()
				if mode != "deny" {
					// the text before the oversized event went through the masker (held back, then flushed whole);
					// from that event on the stream passes byte for byte
					tail := stream[bytes.Index(stream, []byte("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Here is")):]
					if !bytes.HasSuffix(res.Body, tail) || clientText(t, res.Body) != clientText(t, stream) {
						t.Fatalf("%s: the stream must pass complete and unchanged from the oversized event on; got\n%.3000s", mode, res.Body)
					}
					return
				}
				for _, v := range []string{"jane.doe", "second.person", "and more text", " bye"} {
					if bytes.Contains(res.Body, []byte(v)) {
						t.Fatalf("%q reaches the client:\n%.3000s", v, res.Body)
					}
				}
				if !bytes.Contains(res.Body, []byte("Sure, here it comes. ")) || !bytes.Contains(res.Body, []byte(telemetry.ReasonStreamEventTooLarge)) {
					t.Fatalf("want the text before the event and an error event; got\n%s", res.Body)
				}
			})
		}
	}
}

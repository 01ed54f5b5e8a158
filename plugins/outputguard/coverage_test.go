package outputguard

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Every response body a client can read is inspected or refused (issue 11, deliverable 3): compressed streams,
// codings outputguard cannot read, Ollama NDJSON streams and JSON under a wrong content type. Through the built
// dist/outputguard.wasm.

const coverText = "Summary: all good. " + exfilImage + " Also the key " + awsKey + " done."

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b)
	zw.Close()
	return zb.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("client body is not gzip: %v\n%q", err, b)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("client body is not valid gzip: %v", err)
	}
	return out
}

func checkNeutralised(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, "wuzzi.net") || strings.Contains(text, awsKey) {
		t.Errorf("client got the exfiltration link or the key: %q", text)
	}
}

// The request's accept-encoding is narrowed to codings outputguard can decode and re-encode.
func TestCoverageAcceptEncodingNarrowed(t *testing.T) {
	h := host(t, hostsim.ProfileEnvoy, `{}`)
	req := chatRequest("sys", true)
	req.Headers = append(req.Headers, [2]string{"accept-encoding", "br, gzip;q=0.8, compress"})
	res := h.Do(req, jsonResponse(chatCompletion("fine")))
	checkHealthy(t, res)
	if res.Upstream == nil {
		t.Fatal("request did not reach the upstream")
	}
	if v, _ := res.Upstream.Header("accept-encoding"); v != "gzip;q=0.8" {
		t.Errorf("upstream accept-encoding %q, want gzip;q=0.8", v)
	}
}

// A gzip event stream (the client asked for it) is decoded, inspected and re-encoded.
func TestCoverageGzipStreamInspected(t *testing.T) {
	for _, c := range streamCases {
		for _, chunk := range []int{7, 100000} {
			t.Run(fmt.Sprintf("%s/chunk%d", c.name, chunk), func(t *testing.T) {
				h := host(t, hostsim.ProfileEnvoy, `{}`)
				z := gz(t, []byte(c.build(splitTokens(coverText))))
				res := h.Do(streamRequest(c, "sys"), hostsim.Response{Status: 200, Headers: [][2]string{
					{"content-type", "text/event-stream"}, {"content-encoding", "gzip"}}, Chunks: chunkBytes(string(z), chunk)})
				checkHealthy(t, res)
				got, snaps, _ := clientStream(t, c.format, gunzip(t, res.Body))
				checkNeutralised(t, got)
				for _, s := range snaps {
					checkNeutralised(t, s)
				}
				if !strings.Contains(got, placeholder) {
					t.Errorf("client text %q", got)
				}
				if d := oneDecision(t, res); d.Action != "redact" {
					t.Errorf("decision %+v", d)
				}
			})
		}
	}
}

// A block in a gzip stream ends it with the provider's error event, gzip-encoded like the rest of the body; over
// max_body_bytes (compressed) under on_error deny the client gets the stream error instead.
func TestCoverageGzipStreamBlockAndLimit(t *testing.T) {
	c := streamCases[1]
	text := "First part is fine. Then the key " + awsKey + " and more text after it."
	z := gz(t, []byte(c.build(splitTokens(text))))
	t.Run("block", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{"secrets":{"action":"block"}}`)
		res := h.Do(streamRequest(c, "sys"), hostsim.Response{Status: 200, Headers: [][2]string{
			{"content-type", "text/event-stream"}, {"content-encoding", "gzip"}}, Chunks: chunkBytes(string(z), 10)})
		checkHealthy(t, res)
		got, _, errored := clientStream(t, c.format, gunzip(t, res.Body))
		if !errored || strings.Contains(got, "AKIA") || strings.Contains(got, "more text") {
			t.Errorf("errored=%v client text %q", errored, got)
		}
		if d := oneDecision(t, res); d.Action != "block" || d.Reason != "output_secret_leak" {
			t.Errorf("decision %+v", d)
		}
	})
	t.Run("too-large", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{"max_body_bytes":64}`)
		res := h.Do(streamRequest(c, "sys"), hostsim.Response{Status: 200, Headers: [][2]string{
			{"content-type", "text/event-stream"}, {"content-encoding", "gzip"}}, Chunks: chunkBytes(string(z), 10)})
		checkHealthy(t, res)
		plain := gunzip(t, res.Body)
		if _, _, errored := clientStream(t, c.format, plain); !errored || strings.Contains(string(plain), "AKIA") {
			t.Errorf("client body %q", plain)
		}
	})
}

// A coding outputguard cannot read: refused under on_error deny (a stream error event, or the JSON error),
// passed with a logged decision under allow.
func TestCoverageUnreadableCoding(t *testing.T) {
	c := streamCases[0]
	stream := []byte(c.build(splitTokens(coverText)))
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		stream        bool
	}{
		{"sse-compress", "text/event-stream", "compress", stream, true},
		{"sse-br", "text/event-stream", "br", stream, true},
		{"json-compress", "application/json", "compress", chatCompletion(coverText), false},
	} {
		t.Run(tc.name+"/deny", func(t *testing.T) {
			h := host(t, hostsim.ProfileEnvoy, `{}`)
			res := h.Do(streamRequest(c, "sys"), hostsim.Response{Status: 200, Headers: [][2]string{
				{"content-type", tc.ct}, {"content-encoding", tc.enc}}, Chunks: chunkBytes(string(tc.body), 64)})
			checkHealthy(t, res)
			if enc, ok := res.Header("content-encoding"); ok {
				t.Errorf("client still told content-encoding %q", enc)
			}
			if bytes.Contains(res.Body, []byte("wuzzi")) || !bytes.Contains(res.Body, []byte("unsupported_content_encoding")) {
				t.Errorf("client body %q", res.Body)
			}
			if tc.stream {
				if _, _, errored := clientStream(t, c.format, res.Body); !errored {
					t.Errorf("no stream error event: %q", res.Body)
				}
			}
			if d := oneDecision(t, res); d.Action != "block" || d.Reason != "unsupported_content_encoding" {
				t.Errorf("decision %+v", d)
			}
		})
		t.Run(tc.name+"/allow", func(t *testing.T) {
			h := host(t, hostsim.ProfileEnvoy, `{"on_error":"allow"}`)
			res := h.Do(streamRequest(c, "sys"), hostsim.Response{Status: 200, Headers: [][2]string{
				{"content-type", tc.ct}, {"content-encoding", tc.enc}}, Chunks: chunkBytes(string(tc.body), 64)})
			checkHealthy(t, res)
			if !bytes.Equal(res.Body, tc.body) {
				t.Errorf("body changed under on_error allow")
			}
			if d := oneDecision(t, res); d.Action != "allow" || d.Reason != "unsupported_content_encoding" {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

func ollamaStream(parts []string) string {
	var b strings.Builder
	for _, p := range parts {
		l, _ := json.Marshal(map[string]any{"model": "llama3", "created_at": "2026-01-01T00:00:00Z",
			"message": map[string]any{"role": "assistant", "content": p}, "done": false})
		b.Write(l)
		b.WriteByte('\n')
	}
	l, _ := json.Marshal(map[string]any{"model": "llama3", "created_at": "2026-01-01T00:00:00Z",
		"message": map[string]any{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "eval_count": 9})
	b.Write(l)
	b.WriteByte('\n')
	return b.String()
}

func ollamaRequest() hostsim.Request {
	body, _ := json.Marshal(map[string]any{"model": "llama3", "messages": []any{
		map[string]any{"role": "user", "content": "Summarise our chat."}}})
	return hostsim.Request{Method: "POST", Path: "/api/chat", Body: body,
		Headers: [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-1"}}}
}

// Ollama's NDJSON streams (the default of /api/chat) get the same checks as SSE: redacted, or ended with the
// NDJSON error line on a block.
func TestCoverageNDJSONStream(t *testing.T) {
	for _, chunk := range []int{1, 9, 100000} {
		for _, profile := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
			t.Run(fmt.Sprintf("redact/%s/chunk%d", profile, chunk), func(t *testing.T) {
				h := host(t, profile, `{}`)
				res := h.Do(ollamaRequest(), hostsim.Response{Status: 200, Headers: [][2]string{
					{"content-type", "application/x-ndjson"}}, Chunks: chunkBytes(ollamaStream(splitTokens(coverText)), chunk)})
				checkHealthy(t, res)
				got, _, errored := clientStream(t, llm.FormatOllama, res.Body)
				checkNeutralised(t, got)
				if errored || !strings.Contains(got, placeholder) || !strings.Contains(got, " done.") {
					t.Errorf("errored=%v client text %q", errored, got)
				}
				if d := oneDecision(t, res); d.Action != "redact" {
					t.Errorf("decision %+v", d)
				}
			})
		}
	}
	t.Run("block", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{"secrets":{"action":"block"}}`)
		text := "First part is fine. Then the key " + awsKey + " and more text after it."
		res := h.Do(ollamaRequest(), hostsim.Response{Status: 200, Headers: [][2]string{
			{"content-type", "application/x-ndjson"}}, Chunks: chunkBytes(ollamaStream(splitTokens(text)), 16)})
		checkHealthy(t, res)
		got, _, errored := clientStream(t, llm.FormatOllama, res.Body)
		if !errored || strings.Contains(got, "AKIA") || strings.Contains(got, "more text") {
			t.Errorf("errored=%v client text %q\n%s", errored, got, res.Body)
		}
		if d := oneDecision(t, res); d.Action != "block" || d.Reason != "output_secret_leak" {
			t.Errorf("decision %+v", d)
		}
	})
}

// JSON under a wrong content type (text/plain, none) is read as JSON: clients parse it all the same. Ollama's
// stream sent as text/plain is read as JSON lines. Plain text passes unchanged.
func TestCoverageJSONWrongContentType(t *testing.T) {
	for _, ct := range []string{"text/plain; charset=utf-8", ""} {
		for _, cfg := range []string{`{}`, `{"hold_headers":true}`} {
			t.Run("json/"+ct+"/"+cfg, func(t *testing.T) {
				h := hostsim.New(t, hostsim.Config{Profile: hostsim.ProfileEnvoy, Plugins: []hostsim.PluginSpec{{
					Name: "outputguard", Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(cfg), AllowOnHeadersStopIteration: true}}})
				hdrs := [][2]string{}
				if ct != "" {
					hdrs = append(hdrs, [2]string{"content-type", ct})
				}
				res := h.Do(chatRequest("sys", false), hostsim.Response{Status: 200, Headers: hdrs,
					Chunks: chunkBytes("\n  "+string(chatCompletion(coverText)), 50)})
				checkHealthy(t, res)
				got := answerText(t, res.Body)
				checkNeutralised(t, got)
				if !strings.Contains(got, placeholder) {
					t.Errorf("client text %q", got)
				}
				if d := oneDecision(t, res); d.Action != "redact" {
					t.Errorf("decision %+v", d)
				}
			})
		}
	}
	t.Run("json-with-bom", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{}`)
		res := h.Do(chatRequest("sys", false), hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}},
			Body: append([]byte("\ufeff"), chatCompletion(coverText)...)})
		checkHealthy(t, res)
		if bytes.Contains(res.Body, []byte("wuzzi")) || bytes.Contains(res.Body, []byte(awsKey)) {
			t.Errorf("client body %s", res.Body)
		}
	})
	t.Run("ndjson-as-text", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{}`)
		res := h.Do(ollamaRequest(), hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}},
			Chunks: chunkBytes(ollamaStream(splitTokens(coverText)), 33)})
		checkHealthy(t, res)
		got, _, _ := clientStream(t, llm.FormatOllama, res.Body)
		checkNeutralised(t, got)
		if !strings.Contains(got, placeholder) {
			t.Errorf("client text %q", got)
		}
	})
	t.Run("plain-text-unchanged", func(t *testing.T) {
		h := host(t, hostsim.ProfileEnvoy, `{}`)
		body := []byte("just some text, not JSON")
		res := h.Do(chatRequest("sys", false), hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: body})
		checkHealthy(t, res)
		if !bytes.Equal(res.Body, body) {
			t.Errorf("body %q", res.Body)
		}
	})
}

// Text from an endpoint that is no LLM API (a download, a file) is not collected: it streams through as sent.
func TestCoverageNonLLMTextStreamsThrough(t *testing.T) {
	h := host(t, hostsim.ProfileEnvoy, `{}`)
	req := chatRequest("sys", false)
	req.Method, req.Path, req.Body = "GET", "/files/notes.txt", nil
	chunks := [][]byte{[]byte(`{"note":"first half `), []byte(`second half"}`)}
	res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Chunks: chunks})
	checkHealthy(t, res)
	if len(res.Chunks) != 2 || !bytes.Equal(res.Chunks[0], chunks[0]) {
		t.Errorf("chunks %q", res.Chunks)
	}
}

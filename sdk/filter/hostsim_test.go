//go:build !wasm

package filter_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// These tests build testdata/probe (a filter that uses every helper of this package) for wasip1 and
// run it in hostsim under the Envoy and Kong profiles, so the helpers are checked inside a real wasm
// VM against each host's semantics (chunked cumulative bodies, trailers, deferred local replies,
// property encodings, metric rules), not only against the SDK's emulator.

var (
	probeOnce sync.Once
	probeWasm []byte
	probeErr  error
)

func probe(t testing.TB) []byte {
	t.Helper()
	probeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wasmguard-probe")
		if err != nil {
			probeErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "probe.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/probe")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			probeErr = err
			probeWasm = msg
			return
		}
		probeWasm, probeErr = os.ReadFile(out)
	})
	if probeErr != nil {
		t.Fatalf("build testdata/probe for wasip1: %v\n%s", probeErr, probeWasm)
	}
	return probeWasm
}

var profiles = []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong}

func newProbeHost(t *testing.T, profile hostsim.Profile, cfg string) *hostsim.Host {
	t.Helper()
	return hostsim.New(t, hostsim.Config{
		Profile: profile,
		Workers: 1,
		Plugins: []hostsim.PluginSpec{{Name: "probe", Wasm: probe(t), Config: []byte(cfg)}},
	})
}

func noErrors(t *testing.T, res hostsim.Result) {
	t.Helper()
	if res.Trapped || len(res.LogsAt(hostsim.LogError)) > 0 {
		t.Fatalf("trapped=%v traps=%v errors=%v", res.Trapped, res.Traps, res.LogsAt(hostsim.LogError))
	}
}

func decisions(res hostsim.Result) []telemetry.Decision {
	var out []telemetry.Decision
	for _, l := range res.Logs {
		if d, ok := telemetry.ParseDecision(l.Message); ok {
			out = append(out, d)
		}
	}
	return out
}

const chatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"please REWRITE this sentence for me"}]}`

func TestProbeRequestRewriteChunked(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			h := newProbeHost(t, p, `{"rules":[{"name":"chat","match":{"route":"chat-route"}}]}`)
			res := h.Do(hostsim.Request{
				Path: "/v1/chat/completions", Route: "chat-route", ChunkSize: 7,
				Headers: [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-1"}},
				Body:    []byte(chatBody),
			}, hostsim.Response{Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"choices":[]}`)})
			noErrors(t, res)
			if res.Upstream == nil {
				t.Fatalf("not forwarded: status %d", res.Status)
			}
			want := strings.Replace(chatBody, "REWRITE", "rewritten", 1)
			if string(res.Upstream.Body) != want {
				t.Fatalf("upstream body %q", res.Upstream.Body)
			}
			if n, _ := h.Metric("wasmguard_probe_requests_total.rule.chat"); n != 1 {
				t.Fatalf("rule metric = %d (metrics %v)", n, h.Metrics())
			}
			ds := decisions(res)
			if len(ds) != 1 || ds[0].Rule != "chat" || ds[0].RequestID != "req-1" || ds[0].Reason != "probe_rewritten" {
				t.Fatalf("decisions %+v", ds)
			}
		})
	}
}

func TestProbeGzipRequest(t *testing.T) {
	gz, err := body.Encode("gzip", []byte(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	h := newProbeHost(t, hostsim.ProfileEnvoy, ``)
	res := h.Do(hostsim.Request{
		Path: "/v1/chat/completions", ChunkSize: 16,
		Headers: [][2]string{{"content-type", "application/json"}, {"content-encoding", "gzip"}},
		Body:    gz,
	}, hostsim.Response{Body: []byte(`{}`)})
	noErrors(t, res)
	if res.Upstream == nil {
		t.Fatalf("status %d", res.Status)
	}
	plain, err := body.Decode("gzip", res.Upstream.Body, 1<<20)
	if err != nil || string(plain) != strings.Replace(chatBody, "REWRITE", "rewritten", 1) {
		t.Fatalf("upstream body %q (%v)", plain, err)
	}
}

func TestProbeBlockReply(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			h := newProbeHost(t, p, ``)
			res := h.Do(hostsim.Request{
				Path: "/v1/messages", ChunkSize: 10,
				Headers: [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-9"}},
				Body:    []byte(`{"model":"claude-sonnet-4","max_tokens":100,"messages":[{"role":"user","content":"BLOCKME"}]}`),
			}, hostsim.Response{Body: []byte(`{}`)})
			noErrors(t, res)
			if res.Upstream != nil || res.Status != 403 || !res.LocalReply {
				t.Fatalf("status %d local %v upstream %v", res.Status, res.LocalReply, res.Upstream != nil)
			}
			b := bytes.TrimSuffix(res.Body, []byte("\n")) // Kong appends a newline to local replies
			if gjson.GetBytes(b, "type").String() != "error" || gjson.GetBytes(b, "error.type").String() != "permission_error" ||
				gjson.GetBytes(b, "request_id").String() != "req-9" {
				t.Fatalf("reply body %s", res.Body)
			}
			if v, _ := res.Header("x-wasmguard-reason"); v != "probe_blocked" {
				t.Fatalf("headers %v", res.Headers)
			}
		})
	}
}

func TestProbeBodyLimit(t *testing.T) {
	big := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("a", 3000) + `"}]}`
	for _, p := range profiles {
		t.Run(string(p)+"/deny", func(t *testing.T) {
			h := newProbeHost(t, p, `{"max_body_bytes":1024}`)
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", ChunkSize: 512, Body: []byte(big)}, hostsim.Response{Body: []byte(`{}`)})
			if res.Upstream != nil || res.Status != 413 {
				t.Fatalf("status %d upstream %v", res.Status, res.Upstream != nil)
			}
			if gjson.GetBytes(bytes.TrimSpace(res.Body), "error.code").String() != "request_body_too_large" {
				t.Fatalf("body %s", res.Body)
			}
		})
		t.Run(string(p)+"/allow", func(t *testing.T) {
			h := newProbeHost(t, p, `{"max_body_bytes":1024,"on_error":"allow"}`)
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", ChunkSize: 512, Body: []byte(big)}, hostsim.Response{Body: []byte(`{}`)})
			noErrors(t, res)
			if res.Upstream == nil || string(res.Upstream.Body) != big {
				t.Fatalf("status %d", res.Status)
			}
			if ds := decisions(res); len(ds) != 1 || ds[0].Reason != "request_body_too_large" || ds[0].Action != "allow" {
				t.Fatalf("decisions %+v", ds)
			}
		})
	}
}

// TestProbeMonitorNeverBlocksOnErrors: in monitor mode an error (a request body, a response body or a
// streamed event over the limit) is logged with the action on_error would take, and the traffic
// passes unchanged: no local reply, no dropped response, no cut stream.
func TestProbeMonitorNeverBlocksOnErrors(t *testing.T) {
	big := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("a", 3000) + `"}]}`
	for _, p := range profiles {
		t.Run(string(p)+"/request", func(t *testing.T) {
			h := newProbeHost(t, p, `{"max_body_bytes":1024,"mode":"monitor"}`)
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", ChunkSize: 512, Body: []byte(big)}, hostsim.Response{Body: []byte(`{}`)})
			noErrors(t, res)
			if res.LocalReply || res.Upstream == nil || string(res.Upstream.Body) != big {
				t.Fatalf("monitor mode blocked: status %d local %v", res.Status, res.LocalReply)
			}
			if ds := decisions(res); len(ds) != 1 || ds[0].Reason != "request_body_too_large" || ds[0].Action != "block" || ds[0].Mode != "monitor" {
				t.Fatalf("decisions %+v", ds)
			}
		})
		t.Run(string(p)+"/response", func(t *testing.T) {
			h := newProbeHost(t, p, `{"max_body_bytes":64,"mode":"monitor"}`)
			resp := `{"choices":[{"message":{"content":"` + strings.Repeat("b", 200) + `"}}]}`
			var chunks [][]byte
			for i := 0; i < len(resp); i += 40 {
				chunks = append(chunks, []byte(resp[i:min(i+40, len(resp))]))
			}
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", Body: []byte(`{"model":"m","messages":[]}`)},
				hostsim.Response{Headers: [][2]string{{"content-type", "application/json"}}, Chunks: chunks})
			noErrors(t, res)
			if string(res.Body) != resp {
				t.Fatalf("monitor mode changed the response: %q", res.Body)
			}
		})
		t.Run(string(p)+"/stream", func(t *testing.T) {
			h := newProbeHost(t, p, `{"max_body_bytes":64,"mode":"monitor"}`)
			stream := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("c", 100) + "\"}}]}\n\n" + "data: [DONE]\n\n"
			var chunks [][]byte
			for i := 0; i < len(stream); i += 30 {
				chunks = append(chunks, []byte(stream[i:min(i+30, len(stream))]))
			}
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", Body: []byte(`{"model":"m","stream":true,"messages":[]}`)},
				hostsim.Response{Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunks})
			noErrors(t, res)
			if string(res.Body) != stream {
				t.Fatalf("monitor mode changed the stream:\n%q", res.Body)
			}
		})
	}
}

func TestProbeCorruptGzip(t *testing.T) {
	for _, p := range profiles {
		h := newProbeHost(t, p, ``)
		res := h.Do(hostsim.Request{
			Path: "/v1/chat/completions", Body: []byte(chatBody),
			Headers: [][2]string{{"content-type", "application/json"}, {"content-encoding", "gzip"}},
		}, hostsim.Response{Body: []byte(`{}`)})
		if res.Upstream != nil || res.Status != 400 {
			t.Fatalf("%s: status %d, forwarded %v", p, res.Status, res.Upstream != nil)
		}
		if c := gjson.GetBytes(bytes.TrimSpace(res.Body), "error.code").String(); c != "body_undecodable" {
			t.Fatalf("%s: code %q", p, c)
		}
	}
}

func TestProbeTrailers(t *testing.T) {
	h := newProbeHost(t, hostsim.ProfileEnvoy, ``)
	res := h.Do(hostsim.Request{
		Path: "/v1/chat/completions", ChunkSize: 9, Body: []byte(chatBody),
		Trailers: [][2]string{{"x-checksum", "abc"}},
	}, hostsim.Response{Body: []byte(`{}`)})
	noErrors(t, res)
	if res.Upstream == nil || !bytes.Contains(res.Upstream.Body, []byte("rewritten")) {
		t.Fatalf("a body ending with trailers was not handled: %+v", res.Upstream)
	}
}

func TestProbeResponseJSON(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			h := newProbeHost(t, p, ``)
			resp := `{"choices":[{"message":{"content":"the secret is 42"}}],"usage":{"total_tokens":9}}`
			var chunks [][]byte
			for i := 0; i < len(resp); i += 11 {
				chunks = append(chunks, []byte(resp[i:min(i+11, len(resp))]))
			}
			res := h.Do(hostsim.Request{Path: "/v1/chat/completions", Body: []byte(`{"model":"m","messages":[]}`)},
				hostsim.Response{Headers: [][2]string{{"content-type", "application/json"}}, Chunks: chunks})
			noErrors(t, res)
			if string(res.Body) != strings.Replace(resp, "secret", "[redacted]", 1) {
				t.Fatalf("client body %q", res.Body)
			}
			if n, _ := h.Metric("wasmguard_probe_redacted_total"); n != 1 {
				t.Fatalf("redacted metric %d", n)
			}
		})
	}
}

func TestProbeConfigRejected(t *testing.T) {
	for _, p := range profiles {
		_, err := hostsim.Start(hostsim.Config{Profile: p, Workers: 1,
			Plugins: []hostsim.PluginSpec{{Name: "probe", Wasm: probe(t), Config: []byte(`{"threshold":"high","rules":[{"match":{}}]}`)}}})
		if err == nil {
			t.Fatalf("%s: bad config accepted", p)
		}
		for _, want := range []string{
			`probe: config: rules[0].match: must set at least one of route, host, path_prefix, path_regex, method, headers, consumer`,
			`probe: config: threshold: must be a number between 0 and 1; got "high"`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: error lacks %q:\n%v", p, want, err)
			}
		}
	}
}

// BenchmarkProbeRequest is one request through the probe in wasm (Envoy profile): request info,
// body accumulation over 4 KiB chunks, a JSON response collected and written back.
func BenchmarkProbeRequest(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			h := hostsim.New(b, hostsim.Config{Workers: 1, Plugins: []hostsim.PluginSpec{{Name: "probe", Wasm: probe(b), Config: []byte(`{}`)}}})
			reqBody := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", size) + `"}]}`)
			req := hostsim.Request{Path: "/v1/chat/completions", Body: reqBody, ChunkSize: 4096,
				Headers: [][2]string{{"content-type", "application/json"}}}
			resp := hostsim.Response{Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"choices":[{"message":{"content":"ok"}}]}`)}
			b.SetBytes(int64(len(reqBody)))
			b.ReportAllocs()
			for b.Loop() {
				if res := h.Do(req, resp); res.Upstream == nil {
					b.Fatalf("status %d", res.Status)
				}
			}
		})
	}
}

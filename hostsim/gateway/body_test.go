package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

// chatOfSize is an OpenAI chat request of exactly n bytes whose user message ends with tail.
func chatOfSize(t *testing.T, n int, tail string) []byte {
	t.Helper()
	head := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"`
	end := tail + `"}]}`
	pad := n - len(head) - len(end)
	if pad < 0 {
		t.Fatalf("size %d too small", n)
	}
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len() < len(head)+pad; i++ { // varied text, so a shifted or repeated 16 KiB block shows
		fmt.Fprintf(&b, "w%d ", i)
	}
	s := b.String()[:len(head)+pad] + end
	if len(s) != n || !json.Valid([]byte(s)) {
		t.Fatalf("built %d bytes (valid %v), want %d", len(s), json.Valid([]byte(s)), n)
	}
	return []byte(s)
}

var emailPlaceholder = regexp.MustCompile(`\[EMAIL(_[0-9A-F]{8})?\]`)

// TestLargeBodiesIntactThroughServe sends request bodies around the gateway's 16 KiB read size and up to its
// 1 MiB limit through the gateway with a filter that buffers the body (piimask) and without filters: the
// upstream must receive every byte in order, only the email at the very end replaced by piimask. Before the
// fix, the gateway reused its read buffer while hostsim still held the previous chunk, so any body over 16 KiB
// reached the filter corrupted (a false request_body_unparseable).
func TestLargeBodiesIntactThroughServe(t *testing.T) {
	hostsim.DistWasm(t, "piimask")
	var mu sync.Mutex
	var got []byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		w.Header().Set("content-type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer up.Close()
	const email = "jane.doe@example.com"
	sizes := []int{16<<10 - 1, 16 << 10, 16<<10 + 1, 64 << 10, 1 << 20}
	for _, filtered := range []bool{true, false} {
		plugins := `,"plugins":[{"name":"piimask","wasm":"piimask.wasm","config":{"mode":"enforce","on_error":"deny"}}]`
		if !filtered {
			plugins = ""
		}
		cfg, err := ParseConfig([]byte(`{"upstream":"`+up.URL+`","workers":1`+plugins+`}`), "")
		if err != nil {
			t.Fatal(err)
		}
		base, _ := startGateway(t, cfg, Options{Dist: hostsim.DistDir()})
		for _, n := range sizes {
			t.Run(fmt.Sprintf("filtered=%v/%d", filtered, n), func(t *testing.T) {
				body := chatOfSize(t, n, " mail "+email)
				// A chunked body too (no content-length), so the gateway cannot know the size up front.
				for _, chunked := range []bool{false, true} {
					var rd io.Reader = bytes.NewReader(body)
					if chunked {
						rd = io.MultiReader(rd)
					}
					req, _ := http.NewRequest("POST", base+"/v1/chat/completions", rd)
					req.Header.Set("content-type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					rb, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Fatalf("chunked=%v: status %d: %.300s", chunked, resp.StatusCode, rb)
					}
					mu.Lock()
					up := got
					mu.Unlock()
					want := body
					if filtered {
						if bytes.Contains(up, []byte(email)) || !emailPlaceholder.Match(up) {
							t.Fatalf("chunked=%v: the email at the end was not masked (upstream got %d bytes, ends %q)", chunked, len(up), up[max(0, len(up)-60):])
						}
						up = emailPlaceholder.ReplaceAll(up, []byte(email))
					}
					if !bytes.Equal(up, want) {
						i := 0
						for i < len(up) && i < len(want) && up[i] == want[i] {
							i++
						}
						t.Fatalf("chunked=%v: upstream body differs from the sent one at byte %d (got %d bytes, want %d)", chunked, i, len(up), len(want))
					}
				}
			})
		}
	}
}

// TestGatewayErrorsAreProviderShaped: the gateway's own 413 (over max_request_bytes, announced by
// content-length or found while reading a chunked body) is in the error shape of the API the path belongs to.
func TestGatewayErrorsAreProviderShaped(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"upstream":"mock","max_request_bytes":1000}`), "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startGateway(t, cfg, Options{})
	big := strings.Repeat("x", 1001)
	for _, tc := range []struct {
		path    string
		chunked bool
		check   func(map[string]any) bool
	}{
		{"/v1/chat/completions", false, func(m map[string]any) bool {
			e, _ := m["error"].(map[string]any)
			return e["code"] == "request_too_large" && e["type"] == "invalid_request_error" && e["message"] != ""
		}},
		{"/v1/responses", true, func(m map[string]any) bool {
			e, _ := m["error"].(map[string]any)
			return e["code"] == "request_too_large"
		}},
		{"/v1/messages", false, func(m map[string]any) bool {
			e, _ := m["error"].(map[string]any)
			return m["type"] == "error" && e["type"] == "request_too_large"
		}},
		{"/v1beta/models/gemini-2.0-flash:generateContent", true, func(m map[string]any) bool {
			e, _ := m["error"].(map[string]any)
			return e["code"] == float64(413) && e["status"] != nil
		}},
	} {
		var rd io.Reader = strings.NewReader(big)
		if tc.chunked {
			rd = io.MultiReader(rd)
		}
		resp, err := http.Post(base+tc.path, "application/json", rd)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != 413 || !strings.HasPrefix(resp.Header.Get("content-type"), "application/json") || json.Unmarshal(b, &m) != nil || !tc.check(m) {
			t.Errorf("%s (chunked %v): %d %q %s", tc.path, tc.chunked, resp.StatusCode, resp.Header.Get("content-type"), b)
		}
	}
}

// TestMockDecodesRequestCodings: a gzip-compressed request reaches the mock's parser decoded (the answer echoes
// the user text); an unknown coding is refused in the provider's shape.
func TestMockDecodesRequestCodings(t *testing.T) {
	srv := httptest.NewServer(NewMockLLM(MockOptions{ChunkDelay: -1}))
	defer srv.Close()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"compressed hello"}]}`))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/messages", bytes.NewReader(zb.Bytes()))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("content-encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "compressed hello") {
		t.Fatalf("gzip request: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(`{}`))
	req.Header.Set("content-encoding", "x-unknown")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 415 || !strings.Contains(string(b), `"type":"error"`) {
		t.Fatalf("unknown coding: %d %s", resp.StatusCode, b)
	}
}

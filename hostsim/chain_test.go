package hostsim

import (
	"strings"
	"testing"
)

// TestChainOrderAndLocalReplyReentry: request callbacks run in chain order, response
// callbacks in reverse; a local reply from plugin b re-enters b's and a's response
// callbacks (Envoy's encoder chain), and c never sees the request.
func TestChainOrderAndLocalReplyReentry(t *testing.T) {
	wasm := testPlugin(t, "conformance")
	h := New(t, Config{Plugins: []PluginSpec{
		{Name: "a", Wasm: wasm, Config: []byte("hdr=x-act-a")},
		{Name: "b", Wasm: wasm, Config: []byte("hdr=x-act-b")},
		{Name: "c", Wasm: wasm, Config: []byte("hdr=x-act-c")},
	}})
	res := h.Do(Request{Body: []byte("x"), Headers: [][2]string{{"x-act-a", "set=x-from-a=1"}, {"x-act-c", "set=x-from-c=1"}}}, Response{Body: []byte("ok")})
	var order []string
	for _, c := range res.Callbacks {
		if strings.HasSuffix(c.Name, "_headers") {
			order = append(order, c.Plugin+":"+strings.TrimPrefix(c.Name, "proxy_on_"))
		}
	}
	want := "a:request_headers b:request_headers c:request_headers c:response_headers b:response_headers a:response_headers"
	if strings.Join(order, " ") != want {
		t.Fatalf("order = %v", order)
	}
	if header(res.Upstream.Headers, "x-from-a") != "1" || header(res.Upstream.Headers, "x-from-c") != "1" {
		t.Fatalf("upstream headers = %v", res.Upstream.Headers)
	}

	res = h.Do(Request{Headers: [][2]string{{"x-act-b", "deny-headers"}}}, Response{})
	if res.Status != 403 || res.LocalReplyPlugin != "b" {
		t.Fatalf("status %d from %q", res.Status, res.LocalReplyPlugin)
	}
	var seen []string
	for _, c := range res.Callbacks {
		seen = append(seen, c.Plugin+":"+strings.TrimPrefix(c.Name, "proxy_on_"))
	}
	got := strings.Join(seen, " ")
	for _, w := range []string{"b:response_headers", "a:response_headers"} {
		if !strings.Contains(got, w) {
			t.Fatalf("local reply did not re-enter %s: %s", w, got)
		}
	}
	if strings.Contains(got, "c:request_headers") || strings.Contains(got, "c:response_headers") {
		t.Fatalf("c must not see the stream: %s", got)
	}
	// a's response callbacks saw b's reply.
	if vals := headerValues(res.Headers, "x-seen-status"); len(vals) != 2 || vals[0] != "403" {
		t.Fatalf("x-seen-status = %v", vals)
	}
}

func headerValues(h [][2]string, name string) []string {
	var out []string
	for _, p := range h {
		if p[0] == name {
			out = append(out, p[1])
		}
	}
	return out
}

// TestSharedVMBlastRadius: plugins with the same code, vm_id and VM configuration share
// one VM per worker (Envoy's vm_key), so a trap in one kills the other too; a
// different vm_id gives the second plugin its own VM.
func TestSharedVMBlastRadius(t *testing.T) {
	wasm := testPlugin(t, "conformance")
	for _, tc := range []struct {
		name    string
		vmidB   string
		wantB   bool // b's VM dead after a's trap
		wantRes int
	}{{"shared", "", true, 503}, {"separate vm_id", "other", false, 200}} {
		t.Run(tc.name, func(t *testing.T) {
			h := New(t, Config{Workers: 1, Plugins: []PluginSpec{
				{Name: "a", Wasm: wasm, Config: []byte("hdr=x-act-a"), FailurePolicy: FailOpen},
				{Name: "b", Wasm: wasm, Config: []byte("hdr=x-act-b"), VMID: tc.vmidB},
			}})
			res := h.Do(Request{Headers: [][2]string{{"x-act-a", "panic-headers"}}}, Response{Body: []byte("ok")})
			if !res.Trapped {
				t.Fatal("a did not trap")
			}
			if h.VMFailed("b", 0) != tc.wantB {
				t.Fatalf("b's VM failed = %v, want %v", h.VMFailed("b", 0), tc.wantB)
			}
			res = h.Do(Request{}, Response{Body: []byte("ok")})
			if res.Status != tc.wantRes {
				t.Fatalf("next request: %d, want %d", res.Status, tc.wantRes)
			}
		})
	}
}

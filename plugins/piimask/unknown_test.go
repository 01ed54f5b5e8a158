package piimask

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// TestUnknownFormatInWasm (issue #10.3): a body of no known LLM format is masked by default (unknown_format:
// scan), a text/plain or form body on an LLM path as text; allow passes it uninspected and deny refuses it.
func TestUnknownFormatInWasm(t *testing.T) {
	ok := hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)}
	jsonBody := `{"job":{"notes":["write to ` + email + `"]}}`
	textReq := func(ct, body string) hostsim.Request {
		return hostsim.Request{Method: "POST", Path: "/v9/tools/run", Headers: [][2]string{{"content-type", ct}}, Body: []byte(body)}
	}

	h := newHost(t, `{}`)
	for _, req := range []hostsim.Request{
		jsonReq("/v9/tools/run", jsonBody),
		textReq("text/plain; charset=utf-8", "Please write to "+email+" today."),
		textReq("application/x-www-form-urlencoded", "note=write+to+"+strings.ReplaceAll(email, "@", "%40")+"&n=1"),
	} {
		res := h.Do(req, ok)
		if res.Upstream == nil {
			t.Fatalf("scan %s: not forwarded: %d %s", req.Headers[0][1], res.Status, res.Body)
		}
		if up := string(res.Upstream.Body); strings.Contains(up, email) || strings.Contains(up, "jane.doe%40") {
			t.Fatalf("scan %s: the e-mail reached the upstream: %s", req.Headers[0][1], up)
		}
	}

	h = newHost(t, `{"unknown_format":"allow"}`)
	if res := h.Do(jsonReq("/v9/tools/run", jsonBody), ok); res.Upstream == nil || string(res.Upstream.Body) != jsonBody {
		t.Fatalf("allow: status %d upstream %v", res.Status, res.Upstream != nil)
	}

	h = newHost(t, `{"unknown_format":"deny"}`)
	res := h.Do(jsonReq("/v9/tools/run", jsonBody), ok)
	if res.Upstream != nil || !res.LocalReply || res.Status != 415 {
		t.Fatalf("deny: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if ds := decisions(t, res.Logs); len(ds) != 1 || ds[0].Reason != telemetry.ReasonUnknownFormat || ds[0].Action != telemetry.ActionBlock {
		t.Fatalf("deny: decisions %+v", ds)
	}
	// a known format is not affected
	if res := h.Do(jsonReq("/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"write to `+email+`"}]}`), ok); res.Upstream == nil || strings.Contains(string(res.Upstream.Body), email) {
		t.Fatalf("deny: a chat request: status %d", res.Status)
	}
}

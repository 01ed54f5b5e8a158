package promptguard

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Issue #10.3/#10.4 through the built .wasm: a body of no known format is scanned by default (unknown_format),
// and reaching a scan limit is an on_error decision (scan_budget_exceeded), never a silent pass.

func TestUnknownFormatInWasm(t *testing.T) {
	attack := []byte(`{"job":{"notes":["fine"],"task":` + jsonStr(attackText) + `}}`)
	benign := []byte(`{"job":{"notes":["fine"],"task":"Summarise the quarterly report in three bullet points."}}`)

	h := newHost(t, `{}`) // default unknown_format: scan
	if res := do(h, "/v9/some/new/endpoint", attack, 0); res.Upstream != nil || !res.LocalReply || res.Status != 400 {
		t.Fatalf("scan: attack in an unknown format passed: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if res := do(h, "/v9/some/new/endpoint", benign, 0); res.Upstream == nil || res.LocalReply {
		t.Fatalf("scan: benign unknown-format body refused: status %d logs %v", res.Status, res.Logs)
	}

	h = newHost(t, `{"unknown_format":"allow"}`)
	if res := do(h, "/v9/some/new/endpoint", attack, 0); res.Upstream == nil || res.LocalReply {
		t.Fatalf("allow: unknown-format body refused: status %d", res.Status)
	}

	h = newHost(t, `{"unknown_format":"deny"}`)
	res := do(h, "/v9/some/new/endpoint", benign, 0)
	if res.Upstream != nil || !res.LocalReply || res.Status != 415 {
		t.Fatalf("deny: unknown-format body not refused with 415: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if ds := decisions(res); len(ds) != 1 || ds[0].Reason != telemetry.ReasonUnknownFormat || ds[0].Action != telemetry.ActionBlock {
		t.Fatalf("deny: decisions %+v", ds)
	}
	// a known format is not affected by unknown_format: deny
	if res := do(h, "/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"user","content":"hello"}]}`), 0); res.Upstream == nil {
		t.Fatalf("deny: a chat request was refused: status %d", res.Status)
	}
}

func TestScanBudgetExceededInWasm(t *testing.T) {
	var msgs []string
	for i := 0; i < 5; i++ {
		msgs = append(msgs, `{"role":"user","content":"Tell me about the weather in Lisbon."}`)
	}
	body := []byte(`{"model":"m","messages":[` + strings.Join(msgs, ",") + `]}`)

	h := newHost(t, `{"max_scan_segments":2}`)
	res := do(h, "/v1/chat/completions", body, 0)
	if res.Upstream != nil || !res.LocalReply || res.Status != 413 {
		t.Fatalf("deny: a request over max_scan_segments passed: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if ds := decisions(res); len(ds) != 1 || ds[0].Reason != telemetry.ReasonScanBudgetExceeded {
		t.Fatalf("decisions %+v", ds)
	}

	h = newHost(t, `{"max_scan_segments":2,"on_error":"allow"}`)
	res = do(h, "/v1/chat/completions", body, 0)
	if res.Upstream == nil || res.LocalReply {
		t.Fatalf("allow: status %d", res.Status)
	}
	if ds := decisions(res); len(ds) != 1 || ds[0].Reason != telemetry.ReasonScanBudgetExceeded {
		t.Fatalf("allow: the budget decision is not logged: %+v", ds)
	}

	// the defaults scan an ordinary large conversation whole
	h = newHost(t, `{}`)
	if res := do(h, "/v1/chat/completions", body, 0); res.Upstream == nil {
		t.Fatalf("defaults: status %d logs %v", res.Status, res.Logs)
	}
}

// TestLongTextScannedWholeInWasm: a text longer than the canonicaliser's window is scanned in windows, so an
// attack after 300 KiB of benign text is still scored (it used to be cut off at 256 KiB).
func TestLongTextScannedWholeInWasm(t *testing.T) {
	filler := strings.Repeat("The committee reviewed the annual budget and approved the new library hours. ", 4000) // ~310 KiB
	h := newHost(t, `{}`)
	res := do(h, "/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"user","content":`+jsonStr(filler+attackText)+`}]}`), 0)
	if res.Upstream != nil || !res.LocalReply {
		t.Fatalf("attack after %d bytes passed: status %d", len(filler), res.Status)
	}
	res = do(h, "/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"user","content":`+jsonStr(filler)+`}]}`), 0)
	if res.Upstream == nil {
		t.Fatalf("benign long text refused: status %d logs %v", res.Status, res.Logs)
	}
}

// TestTextBodyScannedInWasm: a text/plain body on an LLM path is read as text (the same view as piimask), so an
// attack in it is scored even where on_error lets unreadable bodies through.
func TestTextBodyScannedInWasm(t *testing.T) {
	h := newHost(t, `{"on_error":"allow"}`)
	req := func(body string) hostsim.Request {
		return hostsim.Request{Method: "POST", Path: "/v1/completions", Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte(body)}
	}
	ok := hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)}
	if res := h.Do(req(attackText), ok); res.Upstream != nil || !res.LocalReply {
		t.Fatalf("attack in a text/plain body passed: status %d", res.Status)
	}
	if res := h.Do(req("Summarise the quarterly report in three bullet points."), ok); res.Upstream == nil {
		t.Fatalf("benign text/plain body refused: status %d", res.Status)
	}
}

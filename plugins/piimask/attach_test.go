package piimask

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Attachments (sdk/llm attach.go) through the built .wasm: PII inside a text file attachment is masked and the
// upstream gets the attachment back in its encoding (a valid data: URL, or base64); a binary attachment (a PDF)
// is the unreadable_attachments policy's.

const pdfData = "JVBERi0xLjcKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyA+PgplbmRvYmoK" // "%PDF-1.7 ..."

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

var okJSON = hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)}

// TestAttachmentMaskedInWasm: an e-mail inside a text/plain attachment reaches the upstream as its placeholder,
// inside a data: URL that keeps its prefix and decodes to the masked text (before this change the e-mail went
// to the provider inside the base64).
func TestAttachmentMaskedInWasm(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	text := "Meeting notes.\nPlease contact " + email + " about the invoice.\n"
	url64 := "data:text/plain;base64," + b64(text)
	cases := []struct {
		name, path, body, field, prefix string
	}{
		{"responses input_file", "/v1/responses", `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"Summarise."},{"type":"input_file","filename":"notes.txt","file_data":"` + url64 + `"}]}]}`,
			"input.0.content.1.file_data", "data:text/plain;base64,"},
		{"chat file part", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"notes.txt","file_data":"` + url64 + `"}}]}]}`,
			"messages.0.content.0.file.file_data", "data:text/plain;base64,"},
		{"chat file part percent-encoded", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"notes.txt","file_data":"data:text/plain;charset=utf-8,` + url.PathEscape(text) + `"}}]}]}`,
			"messages.0.content.0.file.file_data", "data:text/plain;charset=utf-8,"},
		{"anthropic base64 text document", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"` + b64(text) + `"}}]}]}`,
			"messages.0.content.0.source.data", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := h.Do(jsonReq(c.path, c.body), okJSON)
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			up := string(res.Upstream.Body)
			if !gjson.Valid(up) {
				t.Fatalf("upstream body is not JSON: %s", up)
			}
			field := gjson.Get(up, c.field).String()
			data, ok := strings.CutPrefix(field, c.prefix)
			if !ok {
				t.Fatalf("%s = %q lost its prefix %q", c.field, field, c.prefix)
			}
			var dec string
			if strings.HasSuffix(c.prefix, ";base64,") || c.prefix == "" {
				raw, err := base64.StdEncoding.DecodeString(data)
				if err != nil {
					t.Fatalf("%s is not base64: %v (%q)", c.field, err, data)
				}
				dec = string(raw)
			} else {
				var err error
				if dec, err = url.PathUnescape(data); err != nil {
					t.Fatalf("%s is not percent-encoded: %v", c.field, err)
				}
			}
			if strings.Contains(dec, email) || !placeholderRE.MatchString(dec) || !strings.Contains(dec, "about the invoice") {
				t.Fatalf("decoded attachment %q: want the e-mail's placeholder in place", dec)
			}
			if ds := decisions(t, res.Logs); len(ds) != 1 || ds[0].Reason != reasonMasked {
				t.Fatalf("decisions %+v", ds)
			}
		})
	}
}

// TestUnreadableAttachmentsInWasm: a PDF no filter can read is forwarded and counted under the default
// (unreadable_attachments: allow) and refused with a provider-shaped 415 under deny; monitor mode logs the
// decision and forwards. Text attachments are not affected by the policy.
func TestUnreadableAttachmentsInWasm(t *testing.T) {
	pdfChat := `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Summarise; reply to ` + email + `"},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,` + pdfData + `"}}]}]}`
	pdfAnthropic := `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"` + pdfData + `"}},{"type":"text","text":"Summarise."}]}]}`

	h := newHost(t, `{}`)
	res := h.Do(jsonReq("/v1/chat/completions", pdfChat), okJSON)
	if res.Upstream == nil || strings.Contains(string(res.Upstream.Body), email) || !strings.Contains(string(res.Upstream.Body), pdfData) {
		t.Fatalf("allow: status %d; the text must be masked and the PDF forwarded", res.Status)
	}
	if n, _ := h.Metric("wasmguard_piimask_attachments_uninspected_total"); n != 1 {
		t.Fatalf("allow: attachments_uninspected_total = %d, want 1", n)
	}

	h = newHost(t, `{"unreadable_attachments":"deny"}`)
	for _, c := range []struct{ path, body, errField string }{
		{"/v1/chat/completions", pdfChat, "error.code"},
		{"/v1/messages", pdfAnthropic, "error.type"},
	} {
		res := h.Do(jsonReq(c.path, c.body), okJSON)
		if res.Upstream != nil || !res.LocalReply || res.Status != 415 {
			t.Fatalf("deny %s: status %d upstream %v", c.path, res.Status, res.Upstream != nil)
		}
		if !gjson.Valid(string(res.Body)) || gjson.Get(string(res.Body), c.errField).String() == "" {
			t.Fatalf("deny %s: not a provider-shaped error: %s", c.path, res.Body)
		}
		ds := decisions(t, res.Logs)
		if len(ds) != 1 || ds[0].Action != telemetry.ActionBlock || ds[0].Reason != telemetry.ReasonUnreadableAttachment {
			t.Fatalf("deny %s: decisions %+v", c.path, ds)
		}
	}
	if n, _ := h.Metric("wasmguard_piimask_requests_total.action.block.reason." + telemetry.ReasonUnreadableAttachment); n != 2 {
		t.Fatalf("deny: requests_total block/unreadable_attachment = %d, want 2", n)
	}
	// a text attachment is read, not refused
	text := `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain;base64,` + b64("write to "+email) + `"}}]}]}`
	if res := h.Do(jsonReq("/v1/chat/completions", text), okJSON); res.Upstream == nil || strings.Contains(string(res.Upstream.Body), b64("write to "+email)) {
		t.Fatalf("deny: a text attachment: status %d", res.Status)
	}

	h = newHost(t, `{"unreadable_attachments":"deny","mode":"monitor"}`)
	res = h.Do(jsonReq("/v1/messages", pdfAnthropic), okJSON)
	if res.Upstream == nil || string(res.Upstream.Body) != pdfAnthropic {
		t.Fatalf("monitor: status %d", res.Status)
	}
	if ds := decisions(t, res.Logs); len(ds) != 1 || ds[0].Mode != "monitor" || ds[0].Reason != telemetry.ReasonUnreadableAttachment {
		t.Fatalf("monitor: decisions %+v", ds)
	}
}

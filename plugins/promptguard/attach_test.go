package promptguard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Attachments (sdk/llm attach.go) through the built .wasm: an injection inside a text file attachment that the
// provider decodes for the model is scanned like any other document; a binary attachment (a PDF) is the
// unreadable_attachments policy's.

const pdfData = "JVBERi0xLjcKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyA+PgplbmRvYmoK" // "%PDF-1.7 ..."

type attachCase struct{ name, path, body string }

func textAttachments(text string) []attachCase {
	url := "data:text/plain;base64," + b64(text)
	return []attachCase{
		{"responses input_file", "/v1/responses", `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"Summarise the attached file."},{"type":"input_file","filename":"a.txt","file_data":"` + url + `"}]}]}`},
		{"chat file part", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Summarise the attached file."},{"type":"file","file":{"filename":"a.txt","file_data":"` + url + `"}}]}]}`},
		{"chat file part, escaped slashes", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.txt","file_data":"` + strings.ReplaceAll(url, "/", `\/`) + `"}}]}]}`},
		{"anthropic base64 text document", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"` + b64(text) + `"}},{"type":"text","text":"Summarise the document."}]}]}`},
		{"anthropic document in tool_result", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"base64","media_type":"text/markdown","data":"` + b64(text) + `"}}]}]}]}`},
		{"responses input_file percent-encoded", "/v1/responses", `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_file","filename":"a.txt","file_data":"data:text/plain,` + strings.ReplaceAll(text, " ", "%20") + `"}]}]}`},
	}
}

// TestAttachmentInjectionInWasm: the default configuration blocks an injection in a text/plain attachment
// (before this change the request was forwarded with status 200), and forwards a benign one unchanged.
func TestAttachmentInjectionInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	benign := textAttachments(benignText)
	for i, c := range textAttachments(attackText) {
		t.Run(c.name, func(t *testing.T) {
			res := do(h, c.path, []byte(c.body), 64)
			if res.Upstream != nil || !res.LocalReply || res.Status != 400 {
				t.Fatalf("attack in the attachment: status %d local %v upstream %v", res.Status, res.LocalReply, res.Upstream != nil)
			}
			ds := decisions(res)
			if len(ds) != 1 || ds[0].Action != "block" || ds[0].Reason != reasonIndirectInjection {
				t.Fatalf("decisions %+v", ds)
			}
			res = do(h, benign[i].path, []byte(benign[i].body), 64)
			if res.Upstream == nil || string(res.Upstream.Body) != benign[i].body {
				t.Fatalf("benign attachment: status %d local %v", res.Status, res.LocalReply)
			}
		})
	}
	// data that does not decode cannot be inspected: on_error (deny by default)
	res := do(h, "/v1/responses", []byte(`{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_file","filename":"a.txt","file_data":"data:text/plain;base64,SWdub3Jl*IGFsbA"}]}]}`), 0)
	if res.Upstream != nil || res.Status != 400 {
		t.Fatalf("undecodable attachment: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	if ds := decisions(res); len(ds) != 1 || ds[0].Reason != telemetry.ReasonRequestBodyUnparseable {
		t.Fatalf("undecodable attachment: decisions %+v", ds)
	}
}

// TestUnreadableAttachmentsInWasm: a PDF promptguard cannot read is forwarded and counted by default
// (unreadable_attachments: allow; its text is still scanned) and refused with a provider-shaped 415 under deny.
func TestUnreadableAttachmentsInWasm(t *testing.T) {
	pdf := func(text string) string {
		return `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":` + jsonStr(text) + `},{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,` + pdfData + `"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}`
	}
	h := newHost(t, `{}`)
	res := do(h, "/v1/responses", []byte(pdf(benignText)), 0)
	if res.Upstream == nil || string(res.Upstream.Body) != pdf(benignText) {
		t.Fatalf("allow: status %d", res.Status)
	}
	if n, _ := h.Metric("wasmguard_promptguard_attachments_uninspected_total"); n != 2 {
		t.Fatalf("allow: attachments_uninspected_total = %d, want 2", n)
	}
	if res := do(h, "/v1/responses", []byte(pdf(attackText)), 0); res.Upstream != nil || res.Status != 400 {
		t.Fatalf("allow: the text beside the PDF is still scanned: status %d", res.Status)
	}

	h = newHost(t, `{"unreadable_attachments":"deny"}`)
	res = do(h, "/v1/responses", []byte(pdf(benignText)), 0)
	if res.Upstream != nil || !res.LocalReply || res.Status != 415 {
		t.Fatalf("deny: status %d upstream %v", res.Status, res.Upstream != nil)
	}
	var e struct{ Error struct{ Code, Type string } }
	if err := json.Unmarshal(res.Body, &e); err != nil || e.Error.Code != telemetry.ReasonUnreadableAttachment {
		t.Fatalf("deny: not an OpenAI-shaped error: %s", res.Body)
	}
	ds := decisions(res)
	if len(ds) != 1 || ds[0].Action != telemetry.ActionBlock || ds[0].Reason != telemetry.ReasonUnreadableAttachment || len(ds[0].Signals) != 2 {
		t.Fatalf("deny: decisions %+v", ds)
	}
	if n, _ := h.Metric("wasmguard_promptguard_requests_total.action.block.reason." + telemetry.ReasonUnreadableAttachment); n != 1 {
		t.Fatalf("deny: requests_total = %d", n)
	}
	// an image the provider fetches by URL is as unreadable as an inline one
	remote := `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"https://img.example/cat.png"}}]}]}`
	if res := do(h, "/v1/chat/completions", []byte(remote), 0); res.Upstream != nil || res.Status != 415 {
		t.Fatalf("deny: an image URL: status %d", res.Status)
	}
	// text attachments are read, not refused
	text := textAttachments(benignText)[0]
	if res := do(h, text.path, []byte(text.body), 0); res.Upstream == nil {
		t.Fatalf("deny: a text attachment was refused: %d", res.Status)
	}
}

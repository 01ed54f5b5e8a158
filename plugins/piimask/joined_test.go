package piimask

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// mask_responses judges the text blocks / parts of one message on their join, as a renderer shows them: a
// value split across two Anthropic text blocks, two Gemini parts or two Responses output_text parts is masked
// (each block keeps its own bytes: the replacement goes where the value starts, its rest leaves the next block).
// Before, each block was judged alone and the halves passed.

var splitValues = []struct{ name, a, b, want string }{
	{"card", "Charge it to 4111 1111 ", "1111 1111 please.", "Charge it to [CREDIT_CARD]| please."},
	{"email", "Write to jane.doe@exa", "mple.com today.", "Write to [EMAIL]| today."},
	{"iban", "Pay DE89 3704 0044 ", "0532 0130 00 now.", "Pay [IBAN]| now."},
}

func TestMaskResponsesJoinedJSON(t *testing.T) {
	mk := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for _, v := range splitValues {
		for _, c := range []struct {
			name, path, req string
			format          llm.Format
			body            func(a, b string) string
		}{
			{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`, llm.FormatAnthropic,
				func(a, b string) string {
					return mk(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
						"content": []any{map[string]any{"type": "text", "text": a}, map[string]any{"type": "text", "text": b}}, "stop_reason": "end_turn"})
				}},
			{"gemini", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, llm.FormatGemini,
				func(a, b string) string {
					return mk(map[string]any{"candidates": []any{map[string]any{"content": map[string]any{"role": "model",
						"parts": []any{map[string]any{"text": a}, map[string]any{"text": b}}}, "finishReason": "STOP"}}})
				}},
			{"responses", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`, llm.FormatOpenAIResponses,
				func(a, b string) string {
					return mk(map[string]any{"id": "resp_1", "object": "response", "status": "completed", "output": []any{map[string]any{
						"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": []any{
							map[string]any{"type": "output_text", "text": a, "annotations": []any{}},
							map[string]any{"type": "output_text", "text": b, "annotations": []any{}}}}}})
				}},
		} {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				h := newHost(t, `{"mask_responses":true}`)
				res := h.Do(jsonReq(c.path, c.req), jsonResponse(c.body(v.a, v.b)))
				r, err := llm.ParseResponse(c.format, res.Body)
				if err != nil {
					t.Fatalf("client got %s: %v", res.Body, err)
				}
				var texts []string
				for _, s := range r.Segments {
					texts = append(texts, s.Text)
				}
				if got := strings.Join(texts, "|"); got != v.want {
					t.Errorf("client blocks %q, want %q", got, v.want)
				}
			})
		}
	}
}

func jsonResponse(b string) hostsim.Response {
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(b)}
}

// Streams: the deltas of two Anthropic text blocks (and two Gemini parts) are judged on their join; each
// block keeps its own bytes (the text held back at the end of block 0 goes out in block 0, before its
// content_block_stop), whatever the chunking.
func TestMaskResponsesJoinedStream(t *testing.T) {
	for _, v := range splitValues {
		halves := strings.Split(v.want, "|")
		t.Run(v.name+"/anthropic", func(t *testing.T) {
			ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data + "\n\n" }
			var events []string
			events = append(events, ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[],"usage":{"input_tokens":4,"output_tokens":1}}}`))
			for i, text := range []string{v.a, v.b} {
				events = append(events, ev("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`, i)))
				for k := 0; k < len(text); k += 4 {
					events = append(events, ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}`, i, strconv.Quote(text[k:min(k+4, len(text))]))))
				}
				events = append(events, ev("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i)))
			}
			events = append(events, ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`), ev("message_stop", `{"type":"message_stop"}`))
			stream := strings.Join(events, "")
			for _, size := range []int{len(stream), 7, 50} {
				h := newHost(t, `{"mask_responses":true}`)
				var chunks [][]byte
				for k := 0; k < len(stream); k += size {
					chunks = append(chunks, []byte(stream[k:min(k+size, len(stream))]))
				}
				res := h.Do(jsonReq("/v1/messages", `{"model":"claude-sonnet-4","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`), sseResponse(chunks...))
				// what an SDK accumulates: each block's text, and the order of the block events
				blocks := map[int64]string{}
				var order []string
				for _, line := range strings.Split(string(res.Body), "\n") {
					if !strings.HasPrefix(line, "data: ") {
						continue
					}
					d := gjson.Parse(line[6:])
					typ, i := d.Get("type").String(), d.Get("index").Int()
					switch typ {
					case "content_block_delta":
						blocks[i] += d.Get("delta.text").String()
						if len(order) == 0 || order[len(order)-1] != fmt.Sprintf("delta %d", i) {
							order = append(order, fmt.Sprintf("delta %d", i))
						}
					case "content_block_start", "content_block_stop":
						order = append(order, fmt.Sprintf("%s %d", typ, i))
					}
				}
				if blocks[0] != halves[0] || blocks[1] != halves[1] {
					t.Errorf("chunks of %d: blocks %q | %q, want %q | %q", size, blocks[0], blocks[1], halves[0], halves[1])
				}
				if got := strings.Join(order, ", "); got != "content_block_start 0, delta 0, content_block_stop 0, content_block_start 1, delta 1, content_block_stop 1" {
					t.Errorf("chunks of %d: event order %s", size, got)
				}
			}
		})
		t.Run(v.name+"/gemini", func(t *testing.T) {
			part := func(s string) string { return `{"text":` + strconv.Quote(s) + `}` }
			chunk := func(parts ...string) string {
				return `data: {"candidates":[{"content":{"role":"model","parts":[` + strings.Join(parts, ",") + `]},"index":0}]}` + "\r\n\r\n"
			}
			cut := len(v.a) / 2
			stream := chunk(part(v.a[:cut])) + chunk(part(v.a[cut:]), part(v.b[:3])) + chunk(part(v.b[3:])) +
				`data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":9}}` + "\r\n\r\n"
			h := newHost(t, `{"mask_responses":true}`)
			res := h.Do(jsonReq("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`),
				sseResponse([]byte(stream)))
			var text strings.Builder
			for _, line := range strings.Split(string(res.Body), "\n") {
				if strings.HasPrefix(line, "data: ") {
					for _, p := range gjson.Get(strings.TrimSpace(line[6:]), "candidates.0.content.parts").Array() {
						text.WriteString(p.Get("text").String())
					}
				}
			}
			if got, want := text.String(), strings.ReplaceAll(v.want, "|", ""); got != want {
				t.Errorf("client text %q, want %q\n%s", got, want, res.Body)
			}
		})
	}
}

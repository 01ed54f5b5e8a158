package piimask

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Three Anthropic text blocks, streamed and not, give each block the same text. The hex token in block 0
// triggers the scanner's canonical view of the join but not of block 1 alone; ApplyJoined (the JSON path)
// reads block 1 by its own content. The streamer read block 1 canonically too and masked a shorter phone
// span, so "958" (block 2) reached the client (mask.FuzzStreamerParts, seed 2).
func TestMaskResponsesStreamPartsReadOwnContent(t *testing.T) {
	blocks := []string{
		`0x52908400098527886E0F7030069857D2E4169EE7password = "S3cr3t!pass"password = "S3cr3t!pass"password = `,
		`"S3cr3t!pass"call 10.1.2.310.1.2.3020 7946 0`,
		`958`,
	}
	const req = `{"model":"claude-sonnet-4","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
	content := []any{}
	for _, b := range blocks {
		content = append(content, map[string]any{"type": "text", "text": b})
	}
	body, _ := json.Marshal(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
		"content": content, "stop_reason": "end_turn"})
	res := newHost(t, `{"mask_responses":true}`).Do(jsonReq("/v1/messages", req), jsonResponse(string(body)))
	r, err := llm.ParseResponse(llm.FormatAnthropic, res.Body)
	if err != nil || len(r.Segments) != len(blocks) {
		t.Fatalf("client got %s: %v", res.Body, err)
	}
	var want []string
	for _, s := range r.Segments {
		want = append(want, s.Text)
	}
	if strings.Contains(strings.Join(want, ""), "7946") || strings.Contains(strings.Join(want, ""), "958") {
		t.Fatalf("JSON path leaves phone digits: %q", want)
	}

	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data + "\n\n" }
	events := []string{ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[],"usage":{"input_tokens":4,"output_tokens":1}}}`)}
	for i, text := range blocks {
		events = append(events, ev("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`, i)))
		for k := 0; k < len(text); k += 5 {
			events = append(events, ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}`, i, strconv.Quote(text[k:min(k+5, len(text))]))))
		}
		events = append(events, ev("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i)))
	}
	events = append(events, ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`), ev("message_stop", `{"type":"message_stop"}`))
	stream := strings.Join(events, "")
	for _, size := range []int{len(stream), 64} {
		var chunks [][]byte
		for k := 0; k < len(stream); k += size {
			chunks = append(chunks, []byte(stream[k:min(k+size, len(stream))]))
		}
		res := newHost(t, `{"mask_responses":true}`).Do(jsonReq("/v1/messages", strings.Replace(req, `"max_tokens":50,`, `"max_tokens":50,"stream":true,`, 1)), sseResponse(chunks...))
		got := make([]string, len(blocks))
		for _, line := range strings.Split(string(res.Body), "\n") {
			if d := gjson.Parse(strings.TrimPrefix(line, "data: ")); strings.HasPrefix(line, "data: ") && d.Get("type").String() == "content_block_delta" {
				got[d.Get("index").Int()] += d.Get("delta.text").String()
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("chunks of %d: streamed blocks %q, JSON blocks %q", size, got, want)
		}
	}
}

// The secret scorer reads up to 80 bytes of the line after a value: a prefixed token here is reported only
// once the key after it is on its line. The streamer emitted it in clear after 16 bytes of right context
// (mask.FuzzStreamerParts a0d51e7d96aaae09); streamed, the client gets what the JSON path gives.
func TestMaskResponsesStreamSecretRightContext(t *testing.T) {
	text := `password = "S3cr3t!pass"ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYzxxxxxxxx0x52908400098527886E0F7030069857D2E4169EE7AKIAIOSFODNN7EXAMPLEpassword = "S3cr3t!pass"password = "S3cr3t!pass"AKIAIOSFODNN7EXAMPLE and that is all`
	body, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion", "model": "gpt-4o",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}})
	res := newHost(t, `{"mask_responses":true}`).Do(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`), jsonResponse(string(body)))
	want := gjson.GetBytes(res.Body, "choices.0.message.content").String()
	if strings.Contains(want, "ghp_") || !strings.Contains(want, "[API_KEY]") {
		t.Fatalf("JSON path: %q", want)
	}
	var deltas []string
	for k := 0; k < len(text); k += 4 {
		deltas = append(deltas, text[k:min(k+4, len(text))])
	}
	res = newHost(t, `{"mask_responses":true}`).Do(jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`), sseResponse(chatSSE(deltas...)))
	if got := clientText(t, res.Body); got != want {
		t.Errorf("streamed %q, JSON %q", got, want)
	}
}

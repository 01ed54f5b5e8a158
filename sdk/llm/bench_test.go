package llm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// chatBody builds an OpenAI chat request of about size bytes: a system prompt, then alternating user and
// assistant turns of realistic prose with some escapes, and a tool call with its result.
func chatBody(size int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"model":"gpt-4o","stream":true,"max_tokens":1024,"messages":[{"role":"system","content":"You are a helpful assistant.\nAnswer briefly."}`)
	for i := 0; sb.Len() < size-300; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		fmt.Fprintf(&sb, `,{"role":%q,"content":"Turn %d: please summarise the \"quarterly report\" for team %d; the numbers are in the attached table and the deadline is Friday.\n"}`, role, i, i)
	}
	sb.WriteString(`,{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"report\"}"}}]}`)
	sb.WriteString(`,{"role":"tool","tool_call_id":"call_1","content":"{\"rows\":42}"}]}`)
	return []byte(sb.String())
}

func BenchmarkParseRequest(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		body := chatBody(size)
		b.Run(fmt.Sprintf("openai_chat_%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseRequest(FormatOpenAIChat, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The view of a PII filter: the residual pass and the generic reader on.
	body4 := chatBody(4 << 10)
	b.Run("openai_chat_4KiB_residual", func(b *testing.B) {
		b.SetBytes(int64(len(body4)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseRequestWith(FormatOpenAIChat, body4, Options{Residual: true, Generic: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	body := readTestdata(b, "requests/anthropic.json")
	b.Run("anthropic_testdata", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseRequest(FormatAnthropic, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkApplyEdits(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		body := chatBody(size)
		req, err := ParseRequest(FormatOpenAIChat, body)
		if err != nil {
			b.Fatal(err)
		}
		var edits []Edit
		for i, s := range req.Segments {
			if i%4 == 0 {
				edits = append(edits, Edit{Loc: s.Loc, Text: strings.Replace(s.Text, "Friday", "[DATE]", 1)})
			}
		}
		b.Run(fmt.Sprintf("openai_chat_%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				ApplyEdits(body, edits)
			}
		})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	body := readTestdata(b, "responses/openai_chat.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(FormatOpenAIChat, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamParser(b *testing.B) {
	for _, tc := range []struct {
		name string
		f    Format
	}{{"openai_chat.sse", FormatOpenAIChat}, {"anthropic.sse", FormatAnthropic}} {
		raw := readTestdata(b, "streams/"+tc.name)
		var d sse.Decoder
		evs := d.Feed(raw)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				p := NewStreamParser(tc.f)
				for _, ev := range evs {
					if _, err := p.Parse(ev); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// responseBody builds a non-streamed OpenAI chat answer of about size bytes of realistic prose (paragraph breaks,
// quotes and some non-ASCII text, so escapes and multi-byte UTF-8 occur) plus the usual metadata.
func responseBody(size int) []byte {
	var sb strings.Builder
	for i := 0; sb.Len() < size-400; i++ {
		fmt.Fprintf(&sb, "Paragraph %d: the quarterly report shows revenue grew by 12%% while costs in the “operations” budget stayed flat; see the table below for details — Zürich and São Paulo led.\\n\\n", i)
	}
	return []byte(`{"id":"chatcmpl-AbC123","object":"chat.completion","created":1732000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		sb.String() + `","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":3900,"total_tokens":4020,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_abc123"}`)
}

func BenchmarkParseResponse16KiB(b *testing.B) {
	body := responseBody(16 << 10)
	resp, err := ParseResponse(FormatOpenAIChat, body)
	if err != nil || len(resp.Segments) != 1 || len(resp.Segments[0].Text) < 15<<10 {
		b.Fatalf("bad benchmark body: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(FormatOpenAIChat, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEvent is the cost per typical text-delta event, with the fast path and with the full parser.
func BenchmarkStreamEvent(b *testing.B) {
	for _, s := range fastSamples {
		if (s.f == FormatOpenAIChat && s.data != fastSamples[0].data) || (s.f == FormatGemini && !strings.Contains(s.data, "usage")) || strings.Contains(s.data, "logprobs\":[]") {
			continue
		}
		ev := sse.Event{Data: s.data, HasData: true}
		for _, mode := range []string{"fast", "full"} {
			b.Run(string(s.f)+"/"+mode, func(b *testing.B) {
				p := NewStreamParser(s.f)
				p.noFast = mode == "full"
				b.ReportAllocs()
				for b.Loop() {
					if ds, err := p.Parse(ev); err != nil || len(ds) == 0 || ds[0].Kind != DeltaText {
						b.Fatal(ds, err)
					}
				}
			})
		}
	}
}

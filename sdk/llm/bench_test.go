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

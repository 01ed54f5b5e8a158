package llm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

func TestParseResponseTestdata(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		model  string
		finish string
		usage  Usage
		want   []string
	}{
		{
			file: "responses/openai_chat.json", format: FormatOpenAIChat, model: "gpt-4o-2024-08-06", finish: "tool_calls",
			usage: Usage{Input: 1117, Output: 46, Cached: 1024, Reasoning: 12, Total: 1163, Present: true},
			want: []string{
				`0/-1 assistant assistant "The capital of France is Paris. Contact: support@example.com"`,
				`0/0 assistant tool_call "{\"city\":\"Paris\"}" tool=lookup_city`,
			},
		},
		{
			file: "responses/openai_responses.json", format: FormatOpenAIResponses, model: "gpt-4o-2024-08-06", finish: "completed",
			usage: Usage{Input: 328, Output: 52, Cached: 128, Reasoning: 20, Total: 380, Present: true},
			want: []string{
				`1/0 assistant assistant "The image depicts a scenic landscape with a wooden boardwalk."`,
				`2/-1 assistant tool_call "{\"location\":\"Paris, France\"}" tool=get_weather`,
			},
		},
		{
			file: "responses/anthropic.json", format: FormatAnthropic, model: "claude-sonnet-4-5-20250929", finish: "tool_use",
			usage: Usage{Input: 472 + 100 + 2048, Output: 91, Cached: 2048, CacheWrite: 100, Total: 472 + 100 + 2048 + 91, Present: true},
			want: []string{
				`0/0 assistant assistant "I'll check the current weather in San Francisco for you."`,
				`0/1 assistant tool_call "San Francisco, CA" tool=get_weather path=location`,
				`0/1 assistant tool_call "celsius" tool=get_weather path=unit`,
			},
		},
		{
			file: "responses/gemini.json", format: FormatGemini, model: "gemini-2.5-flash", finish: "STOP",
			usage: Usage{Input: 120, Output: 80, Cached: 64, Reasoning: 50, Total: 200, Present: true},
			want: []string{
				`0/0 model assistant "Thinking about the theaters..."`,
				`0/1 model assistant "Barbie is showing at AMC Mountain View 16."`,
				`0/2 model tool_call "Mountain View, CA" tool=find_theaters path=location`,
				`0/2 model tool_call "Barbie" tool=find_theaters path=movie`,
			},
		},
		{
			file: "responses/ollama.json", format: FormatOllama, model: "llama3.2", finish: "stop",
			usage: Usage{Input: 26, Output: 298, Total: 324, Present: true},
			want:  []string{`0/-1 assistant assistant "Hello! How are you today?"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body := readTestdata(t, tc.file)
			for _, f := range []Format{tc.format, FormatUnknown} {
				resp, err := ParseResponse(f, body)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Format != tc.format || resp.Model != tc.model || resp.FinishReason != tc.finish || resp.Usage != tc.usage {
					t.Errorf("format %q: got format=%q model=%q finish=%q usage=%+v, want usage %+v", f, resp.Format, resp.Model,
						resp.FinishReason, resp.Usage, tc.usage)
				}
				var got []string
				for _, s := range resp.Segments {
					got = append(got, segLine(s))
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
				checkLocs(t, body, resp.Segments)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	resp, err := ParseResponse(FormatOpenAIChat, []byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
	if err != nil || resp.Error != "Rate limit reached" {
		t.Fatalf("openai error: %+v %v", resp, err)
	}
	resp, err = ParseResponse(FormatAnthropic, []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	if err != nil || resp.Error != "Overloaded" {
		t.Fatalf("anthropic error: %+v %v", resp, err)
	}
	for _, body := range []string{`{"choices":5}`, `{"choices":[`, `"x"`, "{\"choices\":[{\"message\":{\"content\":\"\xc3\"}}]}"} {
		if _, err := ParseResponse(FormatOpenAIChat, []byte(body)); err == nil {
			t.Errorf("%q: no error", body)
		}
	}
	// A Gemini answer to streamGenerateContent without alt=sse is a JSON array of chunks.
	resp, err = ParseResponse(FormatUnknown, []byte(`[{"candidates":[{"content":{"parts":[{"text":"a"}]}}]},{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}]`))
	if err != nil || resp.Format != FormatGemini || resp.Text() != "a\nb" || resp.FinishReason != "STOP" || resp.Usage.Total != 5 {
		t.Fatalf("gemini array: %+v %v", resp, err)
	}
}

// decodeStream splits a transcript into events (SSE, or NDJSON lines for Ollama).
func decodeStream(t testing.TB, f Format, raw []byte) []sse.Event {
	t.Helper()
	if f == FormatOllama {
		var evs []sse.Event
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			evs = append(evs, sse.Event{Data: line, HasData: true, Raw: []byte(line + "\n")})
		}
		return evs
	}
	var d sse.Decoder
	evs := d.Feed(raw)
	if ev, ok := d.Flush(); ok {
		evs = append(evs, ev)
	}
	return evs
}

func deltaLine(d Delta) string {
	l := d.Kind.String()
	switch d.Kind {
	case DeltaText, DeltaToolArgs, DeltaSnapshot, DeltaError:
		l += fmt.Sprintf(" %d/%d %q", d.Choice, d.Index, d.Text)
	case DeltaFinish:
		l += " " + d.FinishReason
	case DeltaUsage:
		l += fmt.Sprintf(" in=%d out=%d cached=%d write=%d reasoning=%d total=%d", d.Usage.Input, d.Usage.Output,
			d.Usage.Cached, d.Usage.CacheWrite, d.Usage.Reasoning, d.Usage.Total)
	}
	if d.ToolName != "" || d.ToolCallID != "" {
		l += " tool=" + d.ToolName + "#" + d.ToolCallID
	}
	if d.Path != "" {
		l += " path=" + d.Path
	}
	return l
}

func TestStreamParserTestdata(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		model  string
		want   []string
	}{
		{"streams/openai_chat.sse", FormatOpenAIChat, "gpt-4o-mini", []string{
			`text 0/0 ""`,
			`text 0/0 "Hello"`,
			`text 0/0 " jane@example.com \"q\"\n"`,
			`tool_args 0/0 "" tool=get_weather#call_DdmO9pD3xa9XTPNJ32zg2hcA`,
			`tool_args 0/0 "{\"location\":" tool=get_weather#call_DdmO9pD3xa9XTPNJ32zg2hcA`,
			`tool_args 0/0 "\"Paris\"}" tool=get_weather#call_DdmO9pD3xa9XTPNJ32zg2hcA`,
			`finish tool_calls`,
			`usage in=82 out=17 cached=0 write=0 reasoning=0 total=99`,
			`done`,
		}},
		{"streams/openai_responses.sse", FormatOpenAIResponses, "gpt-4.1-2025-04-14", []string{
			`text 0/0 "Hi"`,
			`text 0/0 " there!"`,
			`snapshot 0/0 "Hi there!"`,
			`tool_args 0/1 "{\"location\":\"Paris\"}" tool=get_weather#call_1`,
			`snapshot 0/1 "{\"location\":\"Paris\"}" tool=get_weather#`,
			`snapshot 0/0 "Hi there!"`,
			`snapshot 0/1 "{\"location\":\"Paris\"}" tool=get_weather#call_1`,
			`usage in=37 out=11 cached=0 write=0 reasoning=0 total=48`,
			`finish completed`,
			`done`,
		}},
		{"streams/anthropic.sse", FormatAnthropic, "claude-sonnet-4-5-20250929", []string{
			`usage in=572 out=2 cached=100 write=0 reasoning=0 total=574`,
			`text 0/0 "Okay, let's check"`,
			`text 0/0 " the weather for San Francisco, CA:"`,
			`tool_args 0/1 "" tool=get_weather#toolu_01T1x1fJ34qAmk2tNTrN7Up6`,
			`tool_args 0/1 "{\"location\": \"San Fra" tool=get_weather#toolu_01T1x1fJ34qAmk2tNTrN7Up6`,
			`tool_args 0/1 "ncisco, CA\"}" tool=get_weather#toolu_01T1x1fJ34qAmk2tNTrN7Up6`,
			`finish tool_use`,
			`usage in=572 out=89 cached=100 write=0 reasoning=0 total=661`,
			`done`,
		}},
		{"streams/anthropic_error.sse", FormatAnthropic, "claude-haiku-4-5", []string{
			`usage in=10 out=1 cached=0 write=0 reasoning=0 total=11`,
			`error 0/0 "Overloaded"`,
		}},
		{"streams/gemini.sse", FormatGemini, "gemini-2.0-flash", []string{
			`text 0/0 "The"`,
			`usage in=9 out=1 cached=0 write=0 reasoning=0 total=10`,
			`text 0/0 " quick brown fox"`,
			`usage in=9 out=5 cached=0 write=0 reasoning=0 total=14`,
			`tool_args 0/0 "the lazy dog" tool=jump# path=over`,
			`finish STOP`,
			`usage in=9 out=16 cached=2 write=0 reasoning=4 total=25`,
		}},
		{"streams/gemini_crlf.sse", FormatGemini, "", []string{`text 0/0 "crlf"`, `finish STOP`}},
		{"streams/ollama.ndjson", FormatOllama, "llama3.2", []string{
			`text 0/-1 "The"`,
			`text 0/-1 " sky"`,
			`text 0/-1 ""`,
			`finish stop`,
			`usage in=26 out=282 cached=0 write=0 reasoning=0 total=308`,
			`done`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw := readTestdata(t, tc.file)
			evs := decodeStream(t, tc.format, raw)
			p := NewStreamParser(tc.format)
			var got []string
			var rewritten []byte
			for _, ev := range evs {
				deltas, err := p.Parse(ev)
				if err != nil {
					t.Fatalf("event %q: %v", ev.Data, err)
				}
				var edits []Edit
				for _, d := range deltas {
					got = append(got, deltaLine(d))
					if d.Kind == DeltaText || d.Kind == DeltaToolArgs || d.Kind == DeltaSnapshot {
						var dec string
						if err := json.Unmarshal([]byte(ev.Data[d.Loc.Start:d.Loc.End]), &dec); err != nil || dec != d.Text {
							t.Errorf("delta %q: Loc %+v holds %q", d.Text, d.Loc, ev.Data[d.Loc.Start:d.Loc.End])
						}
						edits = append(edits, Edit{Loc: d.Loc, Text: strings.ToUpper(d.Text)})
					}
				}
				nev := RewriteEvent(ev, edits)
				rewritten = append(rewritten, nev.Raw...)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("deltas:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if p.Model() != tc.model {
				t.Errorf("model %q, want %q", p.Model(), tc.model)
			}
			// ReadStream gives the same deltas from the whole body.
			rs, err := ReadStream(tc.format, raw)
			if err != nil {
				t.Fatalf("ReadStream: %v", err)
			}
			var rsLines []string
			for _, d := range rs {
				rsLines = append(rsLines, deltaLine(d))
			}
			if strings.Join(rsLines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("ReadStream deltas:\n%s\nwant:\n%s", strings.Join(rsLines, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.format == FormatOllama {
				return
			}
			// The rewritten stream parses to the same deltas with upper-cased text.
			p2 := NewStreamParser(tc.format)
			var got2 []string
			for _, ev := range decodeStream(t, tc.format, rewritten) {
				deltas, err := p2.Parse(ev)
				if err != nil {
					t.Fatalf("rewritten event %q: %v", ev.Data, err)
				}
				for _, d := range deltas {
					got2 = append(got2, deltaLine(d))
				}
			}
			var want2 []string
			for _, l := range got {
				if strings.HasPrefix(l, "text") || strings.HasPrefix(l, "tool_args") || strings.HasPrefix(l, "snapshot") {
					i := strings.IndexByte(l, '"')
					j := strings.LastIndexByte(l, '"')
					q, err := strconv.Unquote(l[i : j+1])
					if err != nil {
						t.Fatal(err)
					}
					l = l[:i] + strconv.Quote(strings.ToUpper(q)) + l[j+1:]
				}
				want2 = append(want2, l)
			}
			if strings.Join(got2, "\n") != strings.Join(want2, "\n") {
				t.Errorf("rewritten deltas:\n%s\nwant:\n%s", strings.Join(got2, "\n"), strings.Join(want2, "\n"))
			}
		})
	}
}

func TestRewriteEventUnchanged(t *testing.T) {
	raw := "data:{\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\r\n\r\n"
	var d sse.Decoder
	ev := d.Feed([]byte(raw))[0]
	p := NewStreamParser(FormatOpenAIChat)
	deltas, _ := p.Parse(ev)
	same := RewriteEvent(ev, []Edit{{Loc: deltas[0].Loc, Text: "hi"}})
	if string(same.Raw) != raw {
		t.Fatalf("identity rewrite changed Raw: %q", same.Raw)
	}
	changed := RewriteEvent(ev, []Edit{{Loc: deltas[0].Loc, Text: "[EMAIL]"}})
	if string(changed.Raw) != "data: {\"choices\":[{\"delta\":{\"content\":\"[EMAIL]\"}}]}\n\n" {
		t.Fatalf("rewrite = %q", changed.Raw)
	}
}

func TestIsUsageOnlyChunk(t *testing.T) {
	tests := map[string]bool{
		`{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`: true,
		`{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`:                    false,
		`{"id":"c","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1}}`:                  false,
		`{"id":"c","choices":[],"usage":null}`:                                                       false,
		`[DONE]`:                                                                                     false,
		`{"usage": {"x":1}, "choices": [ ]}`:                                                         true,
	}
	for data, want := range tests {
		if got := IsUsageOnlyChunk(sse.Event{Data: data, HasData: true}); got != want {
			t.Errorf("IsUsageOnlyChunk(%s) = %v, want %v", data, got, want)
		}
	}
}

func TestStreamParserBadInput(t *testing.T) {
	for _, f := range []Format{FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropic, FormatGemini, FormatOllama} {
		p := NewStreamParser(f)
		for _, data := range []string{`{"choices":[`, `[1,2]`, "{\"a\":\"\xff\"}", `nul`} {
			if _, err := p.Parse(sse.Event{Data: data, HasData: true}); err == nil {
				t.Errorf("%s %q: no error", f, data)
			}
		}
		if d, err := p.Parse(sse.Event{Raw: []byte(": keep-alive\n\n")}); d != nil || err != nil {
			t.Errorf("%s keep-alive: %v %v", f, d, err)
		}
	}
	if _, err := NewStreamParser(FormatUnknown).Parse(sse.Event{Data: `{}`, HasData: true}); err == nil {
		t.Error("unknown format: no error")
	}
}

func FuzzStreamParser(f *testing.F) {
	for _, name := range []string{"openai_chat.sse", "openai_responses.sse", "anthropic.sse", "gemini.sse"} {
		f.Add(readTestdata(f, "streams/"+name), uint8(0))
	}
	formats := []Format{FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropic, FormatGemini, FormatOllama}
	f.Fuzz(func(t *testing.T, raw []byte, fi uint8) {
		format := formats[int(fi)%len(formats)]
		var d sse.Decoder
		p := NewStreamParser(format)
		evs := d.Feed(raw)
		evs = append(evs, sse.Event{Data: string(raw), HasData: true}) // the input as one event's data
		for _, ev := range evs {
			deltas, err := p.Parse(ev)
			if err != nil {
				continue
			}
			var edits []Edit
			for _, x := range deltas {
				if x.Kind == DeltaText || x.Kind == DeltaToolArgs || x.Kind == DeltaSnapshot {
					if x.Loc.Start < 0 || x.Loc.End > len(ev.Data) || x.Loc.Start >= x.Loc.End || ev.Data[x.Loc.Start] != '"' {
						t.Fatalf("bad loc %+v in %q", x.Loc, ev.Data)
					}
					edits = append(edits, Edit{Loc: x.Loc, Text: x.Text + "\"x"})
				}
			}
			nev := RewriteEvent(ev, edits)
			if len(edits) > 0 && !json.Valid([]byte(nev.Data)) {
				t.Fatalf("rewrite broke JSON: %q", nev.Data)
			}
			IsUsageOnlyChunk(ev)
		}
		ParseResponse(format, raw)
	})
}

// TestStreamChunking: every testdata stream split into chunks of 1 to 13 bytes gives the same deltas as whole.
func TestStreamChunking(t *testing.T) {
	files := map[string]Format{
		"streams/openai_chat.sse": FormatOpenAIChat, "streams/openai_responses.sse": FormatOpenAIResponses,
		"streams/anthropic.sse": FormatAnthropic, "streams/anthropic_error.sse": FormatAnthropic,
		"streams/gemini.sse": FormatGemini, "streams/gemini_crlf.sse": FormatGemini,
	}
	run := func(f Format, raw []byte, chunk int) (lines []string, out []byte) {
		var d sse.Decoder
		p := NewStreamParser(f)
		handle := func(ev sse.Event) {
			out = append(out, ev.Raw...)
			deltas, err := p.Parse(ev)
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			for _, x := range deltas {
				lines = append(lines, deltaLine(x))
			}
		}
		for len(raw) > 0 {
			n := min(chunk, len(raw))
			for _, ev := range d.Feed(raw[:n]) {
				handle(ev)
			}
			raw = raw[n:]
		}
		if ev, ok := d.Flush(); ok {
			handle(ev)
		}
		return lines, out
	}
	for name, f := range files {
		raw := readTestdata(t, name)
		want, _ := run(f, raw, len(raw))
		for chunk := 1; chunk <= 13; chunk++ {
			got, out := run(f, raw, chunk)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s chunk %d: deltas differ:\n%s", name, chunk, strings.Join(got, "\n"))
			}
			if string(out) != string(raw) {
				t.Errorf("%s chunk %d: raw bytes differ", name, chunk)
			}
		}
	}
}

func TestProviderQuirks(t *testing.T) {
	// Groq reports stream usage under x_groq.
	p := NewStreamParser(FormatOpenAIChat)
	d, err := p.Parse(sse.Event{HasData: true, Data: `{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":24,"completion_tokens":377,"total_tokens":401}}}`})
	if err != nil || p.Usage().Output != 377 || p.Usage().Input != 24 || len(d) != 2 {
		t.Fatalf("groq: %+v %+v %v", d, p.Usage(), err)
	}
	// Gemini blocks a prompt with promptFeedback and no candidates.
	body := []byte(`{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}`)
	resp, err := ParseResponse(FormatGemini, body)
	if err != nil || resp.FinishReason != "SAFETY" || len(resp.Segments) != 0 {
		t.Fatalf("gemini blocked: %+v %v", resp, err)
	}
	gp := NewStreamParser(FormatGemini)
	d, err = gp.Parse(sse.Event{HasData: true, Data: string(body)})
	if err != nil || len(d) != 2 || d[0].Kind != DeltaFinish || d[0].FinishReason != "SAFETY" {
		t.Fatalf("gemini blocked stream: %+v %v", d, err)
	}
}

package llm

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

var fastSamples = []struct {
	f    Format
	data string
}{
	{FormatOpenAIChat, `{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}`},
	{FormatOpenAIChat, `{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" w\u00f6rld \"q\"\n"},"logprobs":null,"finish_reason":null}]}`},
	{FormatOpenAIChat, `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":"Zürich"},"logprobs":null,"finish_reason":null}]}` + "\r\n"},
	{FormatAnthropic, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`},
	{FormatAnthropic, `{"type":"content_block_delta","index":12,"delta":{"type":"text_delta","text":"a\\b \ud83d\ude00"}}`},
	{FormatGemini, `{"candidates": [{"content": {"parts": [{"text": " quick brown fox"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 5,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash"}`},
	{FormatGemini, `{"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"}}]}`},
	{FormatOpenAIResponses, `{"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}`},
	{FormatOpenAIResponses, `{"type":"response.output_text.delta","item_id":"msg_1","output_index":2,"content_index":0,"delta":"Hi there","logprobs":[]}`},
}

// TestFastPathTaken keeps the fast path in use: the common shapes must match a template and give the full parser's
// deltas.
func TestFastPathTaken(t *testing.T) {
	for _, s := range fastSamples {
		p := NewStreamParser(s.f)
		got, ok := p.fastDelta(nil, s.data)
		if !ok {
			t.Errorf("%s: fast path not taken for %s", s.f, s.data)
			continue
		}
		full := NewStreamParser(s.f)
		full.noFast = true
		want, err := full.Parse(sse.Event{Data: s.data, HasData: true})
		if err != nil || !reflect.DeepEqual(got, want) || p.Model() != full.Model() {
			t.Errorf("%s: fast %+v (model %q), full %+v (model %q) %v", s.f, got, p.Model(), want, full.Model(), err)
		}
	}
	// Shapes the templates do not cover fall back.
	for _, s := range []struct {
		f    Format
		data string
	}{
		{FormatOpenAIChat, `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`},
		{FormatAnthropic, `{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"x"}}`},
		{FormatAnthropic, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} x`},
		{FormatGemini, `{"candidates":[{"content":{"parts":[{"text":"The"}],"role":"model"}}]}`},
		{FormatGemini, `{"candidates": [{"content": {"parts": [{"text": "a"}],"role": "model"},"finishReason": "STOP","index": 0}]}`},
	} {
		if _, ok := NewStreamParser(s.f).fastDelta(nil, s.data); ok {
			t.Errorf("%s: fast path taken for %s", s.f, s.data)
		}
	}
}

// FuzzStreamFastPath: for every input the parser with the fast path returns exactly what the full parser does,
// for an event alone and for a sequence of events (the second recognised through the memo of the first's shape
// when only its delta string differs).
func FuzzStreamFastPath(f *testing.F) {
	formats := []Format{FormatOpenAIChat, FormatAnthropic, FormatOpenAIResponses, FormatGemini}
	for _, s := range fastSamples {
		for i, ff := range formats {
			if ff == s.f {
				f.Add(s.data, s.data, "", uint8(i))
			}
		}
	}
	for i, name := range []string{"openai_chat.sse", "anthropic.sse", "openai_responses.sse", "gemini.sse"} {
		var d sse.Decoder
		evs := d.Feed(readTestdata(f, "streams/"+name))
		for k, ev := range evs {
			next := ev.Data
			if k+1 < len(evs) {
				next = evs[k+1].Data
			}
			f.Add(ev.Data, next, ev.Event, uint8(i))
		}
	}
	f.Add(fastSamples[0].data, strings.Replace(fastSamples[0].data, `"Hello"`, `"x\"},\"y\":\""`, 1), "", uint8(0))
	f.Add(fastSamples[0].data, strings.Replace(fastSamples[0].data, `"Hello"`, `"a","b"`, 1), "", uint8(0))
	f.Add(fastSamples[3].data, strings.Replace(fastSamples[3].data, `"Hello"`, `""`, 1), "", uint8(1))
	f.Fuzz(func(t *testing.T, data, data2, event string, fi uint8) {
		format := formats[int(fi)%len(formats)]
		fast, full := NewStreamParser(format), NewStreamParser(format)
		full.noFast = true
		var reuse []Delta
		for round, d := range []string{data, data, data2, data} { // twice: the model is taken from the first event only
			ev := sse.Event{Data: d, Event: event, HasData: true}
			got, gerr := fast.Parse(ev)
			want, werr := full.Parse(ev)
			if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s event %d %q: fast %+v %v, full %+v %v", format, round, d, got, gerr, want, werr)
			}
			reuse, _ = fast.ParseAppend(reuse[:0], ev)
			if len(reuse) != len(want) || (len(want) > 0 && !reflect.DeepEqual(reuse, want)) {
				t.Fatalf("%s event %d %q: ParseAppend %+v, Parse %+v", format, round, d, reuse, want)
			}
			if fast.Model() != full.Model() || fast.Done() != full.Done() || fast.Usage() != full.Usage() || fast.FinishReason() != full.FinishReason() {
				t.Fatalf("%s %q: state differs: model %q/%q", format, d, fast.Model(), full.Model())
			}
		}
	})
}

package outputguard

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Native tests of the stream processor (the hostsim tests run the same code inside the built .wasm).

func openAIStream(parts []string) string { return streamCases[0].build(parts) }

func runProc(t *testing.T, cfgJSON string, stream string, chunk int) (*streamProc, string) {
	t.Helper()
	r, err := parseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := &r.Default
	p := newStreamProc(c, c.checker, llm.FormatOpenAIChat, c.Enforce(), "rid", false)
	var out strings.Builder
	chunks := chunkBytes(stream, chunk)
	for i, ch := range chunks {
		out.Write(p.feed(ch, i == len(chunks)-1))
	}
	return p, out.String()
}

func TestStreamProcOverLimitFailOpen(t *testing.T) {
	text := strings.Repeat("plain words here ", 200) + exfilImage
	stream := openAIStream(splitTokens(text))
	p, out := runProc(t, `{"max_body_bytes":4096,"on_error":"allow"}`, stream, 100)
	if !p.over || !p.bypass {
		t.Fatalf("over=%v bypass=%v", p.over, p.bypass)
	}
	got, _, errored := clientStream(t, llm.FormatOpenAIChat, []byte(out))
	if got != text || errored {
		t.Errorf("fail-open stream changed: errored=%v len %d vs %d", errored, len(got), len(text))
	}
}

func TestStreamProcOverLimitFailClosed(t *testing.T) {
	text := strings.Repeat("plain words here ", 200)
	p, out := runProc(t, `{"max_body_bytes":40000}`, openAIStream(splitTokens(text)), 100)
	got, _, errored := clientStream(t, llm.FormatOpenAIChat, []byte(out))
	if !p.over || !errored || len(got) == 0 || len(got) >= len(text) || !strings.HasPrefix(text, got) {
		t.Errorf("over=%v errored=%v got %d bytes", p.over, errored, len(got))
	}
}

func TestStreamProcHoldBackSmall(t *testing.T) {
	// benign text: bytes go out while the stream is running, not at the end
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	stream := openAIStream(splitTokens(text))
	r, _ := parseConfig([]byte(`{}`))
	c := &r.Default
	p := newStreamProc(c, c.checker, llm.FormatOpenAIChat, true, "", false)
	chunks := chunkBytes(stream, 50)
	sent := 0
	for i, ch := range chunks[:len(chunks)-1] {
		sent += len(p.feed(ch, false))
		if i > 20 && sent == 0 {
			t.Fatal("nothing released mid-stream")
		}
	}
	if held := len(stream) - sent; held > 2000 {
		t.Errorf("held %d bytes before the last chunk", held)
	}
}

func BenchmarkNativeProcessJSON16K(b *testing.B) {
	r, _ := parseConfig([]byte(`{}`))
	c := &r.Default
	k := c.checker.ForRequest([]string{benchSystem})
	text := benchAnswer()
	body := chatCompletion(text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	m := hostsim.StartCPU(b)
	for i := 0; i < b.N; i++ {
		processJSON(c, k, llm.FormatOpenAIChat, body, true)
	}
	m.Stop(len(text))
}

func BenchmarkNativeStream16K(b *testing.B) {
	r, _ := parseConfig([]byte(`{}`))
	c := &r.Default
	k := c.checker.ForRequest([]string{benchSystem})
	text := benchAnswer()
	stream := openAIStream(splitTokens(text))
	chunks := chunkBytes(stream, 1024)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	m := hostsim.StartCPU(b)
	for i := 0; i < b.N; i++ {
		p := newStreamProc(c, k, llm.FormatOpenAIChat, true, "", false)
		for j, ch := range chunks {
			p.feed(ch, j == len(chunks)-1)
		}
	}
	m.Stop(len(stream))
}

// FuzzStreamProc: any bytes as an event stream, any chunking: no panic, and when nothing was found and nothing
// failed the client gets exactly the upstream's bytes.
func FuzzStreamProc(f *testing.F) {
	for _, c := range streamCases {
		f.Add(c.build(splitTokens("hello there, see [doc](https://go.dev) and `x`")), 7, uint8(0))
		f.Add(c.build(splitTokens("key "+awsKey+" and "+exfilImage)), 13, uint8(1))
	}
	f.Add("data: {\"choices\":[{\"delta\":{\"content\":\"a\\u00e9\"}}]}\r\n\r\n: ping\n\ndata: [DONE]", 3, uint8(0))
	formats := []llm.Format{llm.FormatOpenAIChat, llm.FormatAnthropic, llm.FormatGemini, llm.FormatOpenAIResponses, llm.FormatUnknown}
	r, err := parseConfig([]byte(`{"max_body_bytes":65536}`))
	if err != nil {
		f.Fatal(err)
	}
	c := &r.Default
	f.Fuzz(func(t *testing.T, stream string, chunk int, fi uint8) {
		if chunk <= 0 || chunk > 4096 || len(stream) > 1<<15 {
			return
		}
		p := newStreamProc(c, c.checker, formats[int(fi)%len(formats)], true, "rid", false)
		var out []byte
		chunks := chunkBytes(stream, chunk)
		if len(chunks) == 0 {
			chunks = [][]byte{nil}
		}
		for i, ch := range chunks {
			out = append(out, p.feed(ch, i == len(chunks)-1)...)
		}
		if len(p.v.findings) == 0 && !p.ended && string(out) != stream {
			t.Fatalf("clean stream changed:\n got %q\nwant %q", out, stream)
		}
	})
}

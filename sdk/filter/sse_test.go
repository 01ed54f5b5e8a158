package filter

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// a recorded-style OpenAI chat stream (keep-alive comment, CRLF event, usage chunk, terminator)
const openAIStream = ": keep-alive\n\n" +
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Contact bob@example.com\"}}]}\n\n" +
	"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" now.\"}}]}\r\n\r\n" +
	"data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":6}}\n\n" +
	"data: [DONE]\n\n"

func identity(ev *sse.Event, out []byte) []byte {
	if ev == nil {
		return out
	}
	return append(out, ev.Raw...)
}

func runChunks(s *SSEStream, input string, sizes []int, fn EventFunc) (string, []error) {
	var out bytes.Buffer
	var errs []error
	rest := []byte(input)
	for i := 0; len(rest) > 0 || i == 0; i++ {
		n := len(rest)
		if i < len(sizes) && sizes[i] < n {
			n = sizes[i]
		}
		chunk := rest[:n]
		rest = rest[n:]
		got, err := s.Process(chunk, len(rest) == 0, fn)
		if err != nil {
			errs = append(errs, err)
		}
		out.Write(got)
	}
	return out.String(), errs
}

func TestProcessIdentityAnyChunking(t *testing.T) {
	for _, sizes := range [][]int{nil, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {7, 3, 100, 2}, {len(openAIStream) - 1}} {
		var s SSEStream
		got, errs := runChunks(&s, openAIStream, sizes, identity)
		if got != openAIStream || len(errs) != 0 {
			t.Fatalf("sizes %v: output differs (%v)\n got: %q", sizes, errs, got)
		}
	}
}

func TestProcessRewriteAndInsert(t *testing.T) {
	var s SSEStream
	fn := func(ev *sse.Event, out []byte) []byte {
		if ev == nil {
			return append(out, "event: wasmguard\ndata: {\"checked\":true}\n\n"...)
		}
		if strings.Contains(ev.Data, "@example.com") {
			changed := *ev
			changed.Data = strings.ReplaceAll(ev.Data, "bob@example.com", "[EMAIL]")
			return append(out, sse.Encode(changed)...)
		}
		return append(out, ev.Raw...)
	}
	got, _ := runChunks(&s, openAIStream, []int{5, 40, 3, 60, 9}, fn)
	want := strings.Replace(openAIStream, "bob@example.com", "[EMAIL]", 1) + "event: wasmguard\ndata: {\"checked\":true}\n\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestProcessStop(t *testing.T) {
	var s SSEStream
	calls := 0
	fn := func(ev *sse.Event, out []byte) []byte {
		calls++
		if ev != nil && strings.Contains(ev.Data, "bob@") {
			s.Stop()
			return append(out, "data: {\"error\":{\"code\":\"output_blocked\"}}\n\ndata: [DONE]\n\n"...)
		}
		if ev == nil {
			return out
		}
		return append(out, ev.Raw...)
	}
	got, _ := runChunks(&s, openAIStream, []int{20, 500}, fn)
	if strings.Contains(got, "now.") || strings.Contains(got, "usage") || !strings.HasSuffix(got, "data: [DONE]\n\n") ||
		strings.Count(got, "[DONE]") != 1 || strings.Contains(got, "bob@") {
		t.Fatalf("got %q", got)
	}
	if !s.Stopped() || calls != 3 {
		t.Fatalf("stopped=%v calls=%d", s.Stopped(), calls)
	}
}

func TestProcessPassthrough(t *testing.T) {
	var s SSEStream
	seen := 0
	fn := func(ev *sse.Event, out []byte) []byte {
		if ev == nil {
			t.Fatal("end callback after Passthrough")
		}
		seen++
		if seen == 2 {
			s.Passthrough()
		}
		return append(out, ev.Raw...)
	}
	got, _ := runChunks(&s, openAIStream, []int{100, 7}, fn)
	if got != openAIStream || seen != 2 {
		t.Fatalf("seen %d, got %q", seen, got)
	}
}

func TestProcessOversizedEvent(t *testing.T) {
	big := "data: " + strings.Repeat("x", 300) + "\n\n"
	input := "data: ok\n\n" + big + "data: after\n\n"
	t.Run("fail open", func(t *testing.T) {
		s := SSEStream{MaxPending: 100, FailOpen: true}
		got, errs := runChunks(&s, input, []int{50, 50, 50, 50, 50, 50, 50, 50}, identity)
		if got != input {
			t.Fatalf("fail open must forward everything: %q", got)
		}
		if len(errs) != 1 || !errors.Is(errs[0], sse.ErrTooLarge) {
			t.Fatalf("errs %v", errs)
		}
	})
	t.Run("fail closed", func(t *testing.T) {
		s := SSEStream{MaxPending: 100, ErrorTail: func(error) []byte { return []byte("data: {\"error\":\"too large\"}\n\n") }}
		got, errs := runChunks(&s, input, []int{50, 50, 50, 50, 50, 50, 50, 50}, identity)
		if got != "data: ok\n\ndata: {\"error\":\"too large\"}\n\n" {
			t.Fatalf("got %q", got)
		}
		if len(errs) != 1 {
			t.Fatalf("errs %v", errs)
		}
	})
}

func FuzzProcessChunking(f *testing.F) {
	f.Add([]byte(openAIStream), uint8(3))
	f.Add([]byte("data: a\r\n\r\ndata: b\rdata: c\r\r: x\n\n"), uint8(1))
	f.Fuzz(func(t *testing.T, input []byte, step uint8) {
		n := int(step%64) + 1
		var sizes []int
		for i := 0; i < len(input)/n+1; i++ {
			sizes = append(sizes, n)
		}
		for _, nd := range []bool{false, true} {
			s := SSEStream{NDJSON: nd}
			got, errs := runChunks(&s, string(input), sizes, identity)
			if len(errs) == 0 && got != string(input) {
				t.Fatalf("identity (ndjson=%v) changed the stream\n in: %q\nout: %q", nd, input, got)
			}
		}
	})
}

func BenchmarkProcessIdentity(b *testing.B) {
	chunk := []byte(openAIStream)
	var s SSEStream
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := s.Process(chunk, false, identity); err != nil {
			b.Fatal(err)
		}
	}
}

const ollamaStream = `{"model":"llama3","message":{"role":"assistant","content":"Mail bob@example.com"},"done":false}` + "\n" +
	`{"model":"llama3","message":{"role":"assistant","content":" ok"},"done":false}` + "\r\n" +
	`{"model":"llama3","done":true,"eval_count":12}`

func TestProcessNDJSON(t *testing.T) {
	for _, sizes := range [][]int{nil, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}, {50, 50, 50}} {
		s := SSEStream{NDJSON: true}
		var lines []string
		got, errs := runChunks(&s, ollamaStream, sizes, func(ev *sse.Event, out []byte) []byte {
			if ev == nil {
				return out
			}
			lines = append(lines, ev.Data)
			if strings.Contains(ev.Data, "bob@") {
				c := *ev
				c.Data = strings.Replace(ev.Data, "bob@example.com", "[EMAIL]", 1)
				return append(out, s.Encode(c)...)
			}
			return append(out, ev.Raw...)
		})
		want := strings.Replace(ollamaStream, "bob@example.com", "[EMAIL]", 1)
		if got != want || len(errs) != 0 {
			t.Fatalf("sizes %v:\n got %q\nwant %q", sizes, got, want)
		}
		if len(lines) != 3 || lines[1] != `{"model":"llama3","message":{"role":"assistant","content":" ok"},"done":false}` ||
			lines[2] != `{"model":"llama3","done":true,"eval_count":12}` {
			t.Fatalf("lines %q", lines)
		}
	}
	s := SSEStream{NDJSON: true, MaxPending: 10, FailOpen: true}
	got, errs := runChunks(&s, ollamaStream, []int{30, 30}, identity)
	if got != ollamaStream || len(errs) != 1 {
		t.Fatalf("fail open NDJSON: %q %v", got, errs)
	}
}

// TestNDJSONAllocs: like sse.Decoder, the NDJSON framing allocates a fixed few buffers per chunk (one
// copy backing every Raw, one string backing every Data, the event slice), not one per line.
func TestNDJSONAllocs(t *testing.T) {
	chunk := []byte(ollamaStream + "\n" + ollamaStream + "\n" + ollamaStream + "\n") // 9 lines
	s := SSEStream{NDJSON: true}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := s.Process(chunk, false, identity); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Fatalf("%.0f allocations per chunk of 9 lines, want at most 3", allocs)
	}
}

// TestNDJSONLongLineScannedOnce: a line split over many chunks is scanned for its end once per byte,
// not again from its start at every chunk (which made a 1 MiB line in 1 KiB chunks scan 512 MiB).
func TestNDJSONLongLineScannedOnce(t *testing.T) {
	line := `{"message":{"content":"` + strings.Repeat("x", 1<<20) + `"}}` + "\n"
	var sizes []int
	for i := 0; i < len(line)/1024+1; i++ {
		sizes = append(sizes, 1024)
	}
	s := SSEStream{NDJSON: true, MaxPending: 2 << 20}
	got, errs := runChunks(&s, line, sizes, identity)
	if got != line || len(errs) != 0 {
		t.Fatalf("long line: %d bytes out, errors %v", len(got), errs)
	}
	if s.nd.scanned > 2*len(line) {
		t.Fatalf("scanned %d bytes for a %d-byte line", s.nd.scanned, len(line))
	}
}

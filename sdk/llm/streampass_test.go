package llm

import (
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// benchStream is the streamed answer of make bench's exchange (823 OpenAI chat events).
func benchStream(tb testing.TB) []byte {
	raw, err := os.ReadFile("../../e2e/bench/testdata/exchanges/chat-4k-stream.answer.sse")
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// TestStreamPassAllocatesNothing: a pass over a long stream with events lent by sse.Decoder.Next and one reused
// delta slice allocates nothing per event, and gives the deltas the full parser gives for the same events
// (the memo of the previous event's shape answers most of them: checked by counting full parses).
func TestStreamPassAllocatesNothing(t *testing.T) {
	raw := benchStream(t)
	var d sse.Decoder
	var ds []Delta
	var p *StreamParser
	events, texts := 0, 0
	run := func() {
		d.Reset()
		p = NewStreamParser(FormatOpenAIChat)
		events, texts = 0, 0
		nextChunks(&d, raw, func(ev sse.Event) {
			var err error
			if ds, err = p.ParseAppend(ds[:0], ev); err != nil {
				t.Fatal(err)
			}
			events++
			for _, x := range ds {
				if x.Kind == DeltaText {
					texts += len(x.Text)
				}
			}
		})
	}
	run()
	if events != 823 || texts < 3000 {
		t.Fatalf("%d events, %d bytes of text", events, texts)
	}
	// Per stream: the parser, the memo's buffer, the model and finish reason strings, the first and last events'
	// full parses; none per event (the old path made 1,400 allocations on this stream).
	if a := testing.AllocsPerRun(10, run); a > 8 {
		t.Fatalf("%v allocations per pass of %d events", a, events)
	}
	// Same deltas as the full parser, event by event.
	var f sse.Decoder
	full := NewStreamParser(FormatOpenAIChat)
	full.noFast = true
	fast := NewStreamParser(FormatOpenAIChat)
	var got []Delta
	for i, ev := range f.Feed(raw) {
		want, err := full.Parse(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got, err = fast.ParseAppend(got[:0], ev); err != nil || !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("event %d: %+v %v, full parser %+v", i, got, err, want)
		}
	}
	if fast.Usage() != full.Usage() || fast.FinishReason() != full.FinishReason() || fast.Model() != full.Model() || !fast.Done() {
		t.Fatalf("state: %+v %q %q, full parser %+v %q %q", fast.Usage(), fast.FinishReason(), fast.Model(), full.Usage(), full.FinishReason(), full.Model())
	}
}

// TestStreamMemoTaken keeps the memo in use: in a stream whose chunks match no template (another key order, an
// extra key), every text event after the first of its shape is answered without a parse.
func TestStreamMemoTaken(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 50; i++ {
		sb.WriteString(`data: {"choices":[{"delta":{"content":"w` + strconv.Itoa(i) + `"},"index":0}],"obfuscation":"x","id":"c1","model":"m"}` + "\n\n")
	}
	var d sse.Decoder
	p := NewStreamParser(FormatOpenAIChat)
	hits := 0
	for _, ev := range d.Feed([]byte(sb.String())) {
		if _, ok := p.memo.hit(nil, ev.Data, ev.Event); ok {
			hits++
		}
		ds, err := p.Parse(ev)
		if err != nil || len(ds) != 1 || ds[0].Kind != DeltaText || !strings.HasPrefix(ds[0].Text, "w") {
			t.Fatalf("%+v %v", ds, err)
		}
	}
	if hits < 48 {
		t.Fatalf("memo answered %d of 50 events", hits)
	}
}

func feedChunks(d *sse.Decoder, raw []byte, fn func(sse.Event)) {
	for p := raw; len(p) > 0; {
		n := min(1024, len(p))
		for _, ev := range d.Feed(p[:n]) {
			fn(ev)
		}
		p = p[n:]
	}
}

func nextChunks(d *sse.Decoder, raw []byte, fn func(sse.Event)) {
	for p := raw; len(p) > 0; {
		n := min(1024, len(p))
		d.Append(p[:n])
		for {
			ev, ok := d.Next()
			if !ok {
				break
			}
			fn(ev)
		}
		p = p[n:]
	}
}

// BenchmarkStreamPass: one stage's pass over make bench's streamed answer in 1 KiB chunks: decoding with Feed
// (copies) or Next (lent), and parsing with Parse or ParseAppend. Run it in wasm too: GOOS=wasip1 GOARCH=wasm
// go test -exec <a wasip1 runner> (cpu-ns/event needs a runner that keeps the guest on one thread).
func BenchmarkStreamPass(b *testing.B) {
	raw := benchStream(b)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		n := 0
		for b.Loop() {
			var d sse.Decoder
			feedChunks(&d, raw, func(sse.Event) { n++ })
		}
		cpu.stop(b, n)
	})
	b.Run("next", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		n := 0
		var d sse.Decoder
		for b.Loop() {
			d.Reset()
			nextChunks(&d, raw, func(sse.Event) { n++ })
		}
		cpu.stop(b, n)
	})
	b.Run("decode+parse", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		n := 0
		for b.Loop() {
			var d sse.Decoder
			p := NewStreamParser(FormatOpenAIChat)
			feedChunks(&d, raw, func(ev sse.Event) {
				n++
				if _, err := p.Parse(ev); err != nil {
					b.Fatal(err)
				}
			})
		}
		cpu.stop(b, n)
	})
	b.Run("next+parseappend", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		n := 0
		var d sse.Decoder
		var ds []Delta
		for b.Loop() {
			d.Reset()
			p := NewStreamParser(FormatOpenAIChat)
			nextChunks(&d, raw, func(ev sse.Event) {
				n++
				var err error
				if ds, err = p.ParseAppend(ds[:0], ev); err != nil {
					b.Fatal(err)
				}
			})
		}
		cpu.stop(b, n)
	})
	var d sse.Decoder
	evs := d.Feed(raw)
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		n := 0
		for b.Loop() {
			p := NewStreamParser(FormatOpenAIChat)
			for _, ev := range evs {
				n++
				if _, err := p.Parse(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		cpu.stop(b, n)
	})
}

// threadCPU is the CPU time of the calling thread in ns (/proc/thread-self/schedstat; in wasm through a runner
// that keeps the guest on one thread), 0 when unknown.
func threadCPU() int64 {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

type cpuMeter struct{ start int64 }

func startCPU() cpuMeter { runtime.LockOSThread(); return cpuMeter{threadCPU()} }

func (c cpuMeter) stop(b *testing.B, events int) {
	end := threadCPU()
	runtime.UnlockOSThread()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	if c.start > 0 && end > c.start {
		b.ReportMetric(float64(end-c.start)/float64(events), "cpu-ns/event")
	}
}

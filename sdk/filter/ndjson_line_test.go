package filter

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

const ollamaStream = `{"model":"llama3","message":{"role":"assistant","content":"Mail bob@example.com"},"done":false}` + "\n" +
	`{"model":"llama3","message":{"role":"assistant","content":" ok"},"done":false}` + "\r\n" +
	`{"model":"llama3","done":true,"eval_count":12}`

// feedChunks frames input cut into chunks of the given sizes (the rest in one chunk) and flushes at the end.
func feedChunks(d *NDJSONDecoder, input string, sizes []int) (events []sse.Event) {
	in := []byte(input)
	for _, n := range sizes {
		if n > len(in) {
			n = len(in)
		}
		events = append(events, d.Feed(in[:n])...)
		in = in[n:]
	}
	if len(in) > 0 {
		events = append(events, d.Feed(in)...)
	}
	if ev, ok := d.Flush(); ok {
		events = append(events, ev)
	}
	return events
}

// TestNDJSONFraming: every chunking gives the same lines; Raw keeps each line's own end (LF, CRLF, none at
// the end of the stream), so the lines re-joined are the input byte for byte.
func TestNDJSONFraming(t *testing.T) {
	for _, sizes := range [][]int{nil, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}, {50, 50, 50}} {
		var d NDJSONDecoder
		evs := feedChunks(&d, ollamaStream, sizes)
		var raw strings.Builder
		for _, ev := range evs {
			raw.Write(ev.Raw)
		}
		if raw.String() != ollamaStream || d.Err() != nil {
			t.Fatalf("sizes %v: raw %q err %v", sizes, raw.String(), d.Err())
		}
		if len(evs) != 3 || evs[1].Data != `{"model":"llama3","message":{"role":"assistant","content":" ok"},"done":false}` ||
			evs[2].Data != `{"model":"llama3","done":true,"eval_count":12}` {
			t.Fatalf("sizes %v: lines %+v", sizes, evs)
		}
	}
	d := NDJSONDecoder{MaxPending: 10}
	d.Feed([]byte(ollamaStream[:30]))
	if d.Err() == nil {
		t.Fatal("a line over MaxPending is not an error")
	}
}

// TestNDJSONAllocs: like sse.Decoder, the NDJSON framing allocates a fixed few buffers per chunk (one
// copy backing every Raw, one string backing every Data, the event slice), not one per line.
func TestNDJSONAllocs(t *testing.T) {
	chunk := []byte(ollamaStream + "\n" + ollamaStream + "\n" + ollamaStream + "\n") // 9 lines
	var d NDJSONDecoder
	allocs := testing.AllocsPerRun(50, func() {
		if evs := d.Feed(chunk); len(evs) != 9 {
			t.Fatalf("%d lines", len(evs))
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
	d := NDJSONDecoder{MaxPending: 2 << 20}
	evs := feedChunks(&d, line, sizes)
	if len(evs) != 1 || string(evs[0].Raw) != line || d.Err() != nil {
		t.Fatalf("long line: %d events, error %v", len(evs), d.Err())
	}
	if d.d.scanned > 2*len(line) {
		t.Fatalf("scanned %d bytes for a %d-byte line", d.d.scanned, len(line))
	}
}

package sse

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func feedAll(t testing.TB, d *Decoder, in []byte, chunk int) []Event {
	t.Helper()
	var out []Event
	for len(in) > 0 {
		n := chunk
		if n <= 0 || n > len(in) {
			n = len(in)
		}
		out = append(out, d.Feed(in[:n])...)
		in = in[n:]
	}
	return out
}

func TestDecoder(t *testing.T) {
	type want struct{ event, data, id string }
	tests := []struct {
		name    string
		in      string
		want    []want
		pending string
	}{
		{"openai chunks", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []want{{"", `{"a":1}`, ""}, {"", "[DONE]", ""}}, ""},
		{"no space after colon", "data:{\"a\":1}\n\n", []want{{"", `{"a":1}`, ""}}, ""},
		{"only one space removed", "data:  x\n\n", []want{{"", " x", ""}}, ""},
		{"anthropic named event", "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", []want{{"message_stop", `{"type":"message_stop"}`, ""}}, ""},
		{"crlf", "event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", []want{{"a", "1", ""}, {"", "2", ""}}, ""},
		{"cr only", "data: 1\r\rdata: 2\r\rdata: 3", []want{{"", "1", ""}, {"", "2", ""}}, "data: 3"},
		{"multi data lines", "data: a\ndata: b\ndata:\n\n", []want{{"", "a\nb\n", ""}}, ""},
		{"comment kept in raw", ": ping\n\ndata: x\n\n", []want{{"", "", ""}, {"", "x", ""}}, ""},
		{"id and unknown field", "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n", []want{{"", "x", "7"}}, ""},
		{"id with NUL ignored", "id: a\x00b\ndata: x\n\n", []want{{"", "x", ""}}, ""},
		{"field without colon", "data\n\n", []want{{"", "", ""}}, ""},
		{"incomplete held back", "data: 1\n\ndata: 2\n", []want{{"", "1", ""}}, "data: 2\n"},
		{"trailing cr held back", "data: 1\n\r", nil, "data: 1\n\r"},
		{"bom", "\xEF\xBB\xBFdata: 1\n\n", []want{{"", "1", ""}}, ""},
		{"utf8 data", "data: {\"t\":\"héllo ✓\"}\n\n", []want{{"", `{"t":"héllo ✓"}`, ""}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 2, 3, 7} {
				var d Decoder
				evs := feedAll(t, &d, []byte(tc.in), chunk)
				if len(evs) != len(tc.want) {
					t.Fatalf("chunk %d: got %d events %+v, want %d", chunk, len(evs), evs, len(tc.want))
				}
				var raw []byte
				for i, ev := range evs {
					if ev.Event != tc.want[i].event || ev.Data != tc.want[i].data || ev.ID != tc.want[i].id {
						t.Errorf("chunk %d: event %d = {%q %q %q}, want %+v", chunk, i, ev.Event, ev.Data, ev.ID, tc.want[i])
					}
					raw = append(raw, ev.Raw...)
				}
				raw = append(raw, d.Pending()...)
				if string(raw) != tc.in {
					t.Errorf("chunk %d: raw+pending = %q, want %q", chunk, raw, tc.in)
				}
				if string(d.Pending()) != tc.pending {
					t.Errorf("chunk %d: pending = %q, want %q", chunk, d.Pending(), tc.pending)
				}
			}
		})
	}
}

// TestCRLFSplitAcrossChunks: a "\r\n" split between two chunks is one line end, so the blank line that follows
// is not mistaken for an early dispatch and Raw does not depend on the split.
func TestCRLFSplitAcrossChunks(t *testing.T) {
	in := "data: 1\r\n\r\ndata: 2\r\n\r\n"
	var d Decoder
	var evs []Event
	for _, part := range []string{"data: 1\r", "\n\r", "\ndata: 2\r", "\n\r", "\n"} {
		evs = append(evs, d.Feed([]byte(part))...)
	}
	if len(evs) != 2 || evs[0].Data != "1" || evs[1].Data != "2" {
		t.Fatalf("events = %+v", evs)
	}
	if string(evs[0].Raw) != "data: 1\r\n\r\n" || string(evs[1].Raw)+string(evs[0].Raw) != "data: 2\r\n\r\n"+"data: 1\r\n\r\n" {
		t.Fatalf("raw = %q %q (input %q)", evs[0].Raw, evs[1].Raw, in)
	}
}

func TestFlush(t *testing.T) {
	var d Decoder
	evs := d.Feed([]byte("data: 1\n\ndata: {\"cut\""))
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	ev, ok := d.Flush()
	if !ok || ev.Data != `{"cut"` || string(ev.Raw) != `data: {"cut"` {
		t.Fatalf("flush = %+v %v", ev, ok)
	}
	if _, ok := d.Flush(); ok {
		t.Fatal("second flush returned an event")
	}
	// A trailing "\r" is a line end at the end of the stream.
	d.Feed([]byte("data: x\r\r"))
	ev, ok = d.Flush()
	if !ok || ev.Data != "x" || string(ev.Raw) != "data: x\r\r" {
		t.Fatalf("flush after cr = %+v %v", ev, ok)
	}
}

func TestMaxPending(t *testing.T) {
	d := Decoder{MaxPending: 64}
	evs := d.Feed([]byte("data: ok\n\n"))
	if len(evs) != 1 || d.Err() != nil {
		t.Fatalf("first event: %+v %v", evs, d.Err())
	}
	big := "data: " + strings.Repeat("x", 100)
	if evs := d.Feed([]byte(big)); len(evs) != 0 {
		t.Fatalf("got events %+v", evs)
	}
	if !errors.Is(d.Err(), ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", d.Err())
	}
	if string(d.Pending()) != big {
		t.Fatalf("pending = %q", d.Pending())
	}
	if evs := d.Feed([]byte("\n\n")); evs != nil || len(d.Pending()) != len(big) {
		t.Fatal("decoder kept working after the limit")
	}
	if ev, ok := d.Flush(); !ok || string(ev.Raw) != big || ev.HasData {
		t.Fatalf("flush after the limit = %+v %v", ev, ok)
	}
	if evs := d.Feed([]byte("data: again\n\n")); len(evs) != 1 || evs[0].Data != "again" {
		t.Fatalf("after reset: %+v", evs)
	}
}

func TestEventsDoNotAliasInput(t *testing.T) {
	var d Decoder
	in := []byte("data: abc\n\n")
	evs := d.Feed(in)
	copy(in, "XXXXXXXXXXX")
	if evs[0].Data != "abc" || string(evs[0].Raw) != "data: abc\n\n" {
		t.Fatalf("event changed with input: %+v", evs[0])
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Data: `{"a":1}`}, "data: {\"a\":1}\n\n"},
		{Event{Event: "content_block_delta", Data: "x"}, "event: content_block_delta\ndata: x\n\n"},
		{Event{Event: "e", ID: "1", Data: "a\nb\r\nc\rd"}, "event: e\nid: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{Event{Event: "bad\nname"}, "event: bad name\n\n"},
		{Event{}, "data: \n\n"},
	}
	for _, tc := range tests {
		got := string(Encode(tc.ev))
		if got != tc.want {
			t.Errorf("Encode(%+v) = %q, want %q", tc.ev, got, tc.want)
		}
		// Round trip: decoding the encoding gives the same fields.
		var d Decoder
		evs := d.Feed([]byte(got))
		if len(evs) != 1 {
			t.Fatalf("decode(%q) gave %d events", got, len(evs))
		}
		wantData := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(tc.ev.Data)
		if evs[0].Data != wantData {
			t.Errorf("round trip data %q, want %q", evs[0].Data, wantData)
		}
	}
}

func FuzzSSEDecoder(f *testing.F) {
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\n: c\n\ndata: x\ndata: y\n\n"), uint8(1), uint16(3))
	f.Add([]byte("data: 1\r\rdata: 2\r\n\r\nid: 3\n\n\n\n"), uint8(2), uint16(1))
	f.Add([]byte("\xEF\xBB\xBFdata: {\"t\":\"h\\u00e9\"}\n\ndata: [DONE]\n\n"), uint8(5), uint16(9))
	f.Fuzz(func(t *testing.T, in []byte, seed uint8, step uint16) {
		var one Decoder
		want := one.Feed(in)
		wantFlush, wantOK := one.Flush()

		// The decoder before the lending API gives the same events.
		var ref refDecoder
		refEvs := ref.Feed(in)
		refFlush, refOK := ref.Flush()
		if len(refEvs) != len(want) {
			t.Fatalf("reference: %d events, decoder: %d", len(refEvs), len(want))
		}
		for i := range want {
			if !sameEvent(refEvs[i], want[i]) {
				t.Fatalf("event %d: reference %+v, decoder %+v", i, refEvs[i], want[i])
			}
		}
		if refOK != wantOK || !sameEvent(refFlush, wantFlush) {
			t.Fatalf("flush: reference %+v %v, decoder %+v %v", refFlush, refOK, wantFlush, wantOK)
		}

		// Re-chunk at positions derived from the seed.
		var d Decoder
		var got []Event
		rest := in
		s := uint(seed) + 1
		for len(rest) > 0 {
			n := int((s*7+uint(step))%13) + 1
			s = s*31 + 17
			if n > len(rest) {
				n = len(rest)
			}
			got = append(got, d.Feed(rest[:n])...)
			rest = rest[n:]
		}
		var raw []byte
		for _, ev := range got {
			raw = append(raw, ev.Raw...)
		}
		raw = append(raw, d.Pending()...)
		if !bytes.Equal(raw, in) {
			t.Fatalf("raw+pending %q != input %q", raw, in)
		}
		gotFlush, gotOK := d.Flush()

		// Append/Next with the same chunks lends the same events.
		var ln Decoder
		var lent []Event
		rest, s = in, uint(seed)+1
		for len(rest) > 0 {
			n := int((s*7+uint(step))%13) + 1
			s = s*31 + 17
			if n > len(rest) {
				n = len(rest)
			}
			ln.Append(rest[:n])
			for {
				ev, ok := ln.Next()
				if !ok {
					break
				}
				lent = append(lent, ev.Clone())
			}
			rest = rest[n:]
		}
		lentFlush, lentOK := ln.Flush()
		if len(lent) != len(want) {
			t.Fatalf("Next: %d events, Feed: %d", len(lent), len(want))
		}
		for i := range lent {
			if !sameEvent(lent[i], want[i]) {
				t.Fatalf("event %d: Next %+v, Feed %+v", i, lent[i], want[i])
			}
		}
		if lentOK != wantOK || !sameEvent(lentFlush, wantFlush) {
			t.Fatalf("flush after Next: %+v %v, one-shot %+v %v", lentFlush, lentOK, wantFlush, wantOK)
		}
		if len(got) != len(want) {
			t.Fatalf("chunked: %d events, one-shot: %d", len(got), len(want))
		}
		for i := range got {
			if !sameEvent(got[i], want[i]) {
				t.Fatalf("event %d: chunked %+v, one-shot %+v", i, got[i], want[i])
			}
		}
		if gotOK != wantOK || !sameEvent(gotFlush, wantFlush) {
			t.Fatalf("flush: chunked %+v %v, one-shot %+v %v", gotFlush, gotOK, wantFlush, wantOK)
		}
		// Encoding a decoded event and decoding it again keeps its fields.
		for _, ev := range want {
			if strings.ContainsAny(ev.Event+ev.ID, "\r\n") {
				continue
			}
			var d2 Decoder
			evs := d2.Feed(Encode(ev))
			if len(evs) != 1 || evs[0].Data != ev.Data || evs[0].Event != ev.Event || evs[0].ID != ev.ID {
				t.Fatalf("re-encode of %+v gave %+v", ev, evs)
			}
		}
	})
}

func sameEvent(a, b Event) bool {
	return a.Event == b.Event && a.Data == b.Data && a.ID == b.ID && a.HasData == b.HasData && bytes.Equal(a.Raw, b.Raw)
}

func BenchmarkDecoder(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		sb.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}` + "\n\n")
	}
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var d Decoder
		for p := in; len(p) > 0; {
			n := 1024
			if n > len(p) {
				n = len(p)
			}
			d.Feed(p[:n])
			p = p[n:]
		}
	}
}

// TestNextLends: Append/Next gives Feed's events, one at a time, lent from the decoder (valid until the next
// Append), and Pending is the same as after Feed.
func TestNextLends(t *testing.T) {
	in := "event: a\ndata: 1\n\n: ping\n\ndata: x\ndata: y\n\ndata: tail"
	for _, chunk := range []int{1, 2, 5, 100} {
		var d, f Decoder
		var got, want []Event
		for p := []byte(in); len(p) > 0; {
			n := min(chunk, len(p))
			d.Append(p[:n])
			var batch []Event
			for {
				ev, ok := d.Next()
				if !ok {
					break
				}
				batch = append(batch, ev)
			}
			// lent events stay valid until the next Append
			for _, ev := range batch {
				got = append(got, ev.Clone())
			}
			want = append(want, f.Feed(p[:n])...)
			if !bytes.Equal(d.Pending(), f.Pending()) {
				t.Fatalf("chunk %d: pending %q, Feed's %q", chunk, d.Pending(), f.Pending())
			}
			p = p[n:]
		}
		if len(got) != 3 || len(got) != len(want) {
			t.Fatalf("chunk %d: %d events, Feed %d", chunk, len(got), len(want))
		}
		for i := range got {
			if !sameEvent(got[i], want[i]) {
				t.Fatalf("chunk %d: event %d = %+v, Feed's %+v", chunk, i, got[i], want[i])
			}
		}
		if got[2].Data != "x\ny" || got[0].Event != "a" {
			t.Fatalf("events %+v", got)
		}
		ev, ok := d.Flush()
		if !ok || ev.Data != "tail" || string(ev.Raw) != "data: tail" {
			t.Fatalf("flush = %+v %v", ev, ok)
		}
	}
}

// TestNextAllocatesNothing: in steady state (buffer grown) Append and Next allocate nothing per event, for
// single- and multi-line events.
func TestNextAllocatesNothing(t *testing.T) {
	var sb strings.Builder
	for sb.Len() < 8<<10 {
		sb.WriteString(`data: {"choices":[{"index":0,"delta":{"content":" word"}}]}` + "\n\n")
		sb.WriteString("event: e\nid: 1\ndata: a\ndata: b\n\n: ping\n\n")
	}
	in := []byte(sb.String())
	var d Decoder
	run := func() {
		n := 0
		for p := in; len(p) > 0; {
			k := min(1000, len(p))
			d.Append(p[:k])
			for {
				ev, ok := d.Next()
				if !ok {
					break
				}
				n += len(ev.Data)
			}
			p = p[k:]
		}
		if n == 0 {
			t.Fatal("no data")
		}
	}
	run() // grow the buffers
	if a := testing.AllocsPerRun(20, run); a != 0 {
		t.Fatalf("%v allocations per pass, want 0", a)
	}
}

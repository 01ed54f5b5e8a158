package filter

import (
	"testing"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/sse"
)

func TestNDJSONDecoderContract(t *testing.T) {
	var d EventDecoder = NewEventDecoder(true, 16)
	evs := d.Feed([]byte("{\"a\":1}\n\n{\"b\""))
	if len(evs) != 2 || evs[0].Data != `{"a":1}` || !evs[0].HasData || evs[1].HasData || string(evs[1].Raw) != "\n" {
		t.Fatalf("events %+v", evs)
	}
	if string(d.Pending()) != `{"b"` {
		t.Fatalf("pending %q", d.Pending())
	}
	if ev, ok := d.Flush(); !ok || ev.Data != `{"b"` || string(ev.Raw) != `{"b"` {
		t.Fatalf("flush %+v %v", ev, ok)
	}
	d.Feed([]byte("01234567890123456789"))
	if d.Err() == nil {
		t.Fatal("a line over MaxPending is not an error")
	}
	d.Reset()
	if d.Err() != nil || len(d.Pending()) != 0 {
		t.Fatal("Reset kept state")
	}
	if _, ok := NewEventDecoder(false, 0).(*sse.Decoder); !ok {
		t.Fatal("SSE framing is not sse.Decoder")
	}
}

func TestRewriteStreamEventNDJSON(t *testing.T) {
	line := `{"message":{"role":"assistant","content":"hi there"},"done":false}`
	ev := sse.Event{Data: line, HasData: true, Raw: []byte(line + "\r\n")}
	ds, err := llm.NewStreamParser(llm.FormatOllama).Parse(ev)
	if err != nil || len(ds) != 1 {
		t.Fatalf("parse: %v %+v", err, ds)
	}
	out := RewriteStreamEvent(ev, []llm.Edit{{Loc: ds[0].Loc, Text: "bye"}}, true)
	if want := `{"message":{"role":"assistant","content":"bye"},"done":false}`; out.Data != want || string(out.Raw) != want+"\n" {
		t.Fatalf("rewrite %q / %q", out.Data, out.Raw)
	}
	if same := RewriteStreamEvent(ev, []llm.Edit{{Loc: ds[0].Loc, Text: "hi there"}}, true); string(same.Raw) != string(ev.Raw) {
		t.Fatalf("an unchanged event was re-framed: %q", same.Raw)
	}
	if sse := RewriteStreamEvent(ev, []llm.Edit{{Loc: ds[0].Loc, Text: "bye"}}, false); string(sse.Raw[:6]) != "data: " {
		t.Fatalf("SSE framing %q", sse.Raw)
	}
}

func TestSniffJSON(t *testing.T) {
	for in, want := range map[string]bool{
		"{}": true, " \r\n\t[1]": true, "": false, "   ": false, "hello {": false, "\ufeff{}": true, "\ufeff x": false, "data: {}": false,
	} {
		if got := SniffJSON([]byte(in)); got != want {
			t.Errorf("SniffJSON(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]bool{
		"": true, "text/plain": true, "Text/Plain; charset=utf-8": true, " application/octet-stream ": true,
		"application/json": false, "text/html": false, "image/png": false, "text/event-stream": false,
	} {
		if got := MaybeJSON(in); got != want {
			t.Errorf("MaybeJSON(%q) = %v", in, got)
		}
	}
}

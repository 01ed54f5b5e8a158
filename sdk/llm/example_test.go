package llm_test

import (
	"fmt"
	"strings"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/sse"
)

func ExampleParseRequest() {
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},` +
		`{"role":"user","content":"Mail me at jane@example.com"}]}`)
	req, err := llm.ParseRequest(llm.DetectFormat("/v1/chat/completions", body), body)
	if err != nil {
		panic(err)
	}
	var edits []llm.Edit
	for _, s := range req.Segments {
		fmt.Printf("%s %s %q\n", s.Role, s.Provenance, s.Text)
		if s.Provenance == llm.ProvUser {
			edits = append(edits, llm.Edit{Loc: s.Loc, Text: strings.Replace(s.Text, "jane@example.com", "[EMAIL]", 1)})
		}
	}
	out, err := llm.ApplyEditsStrict(body, edits)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// system system "Be brief."
	// user user "Mail me at jane@example.com"
	// {"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Mail me at [EMAIL]"}]}
}

func ExampleStreamParser() {
	stream := "event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Call 555-0100"}}` + "\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	var dec sse.Decoder
	p := llm.NewStreamParser(llm.FormatAnthropic)
	var out []byte
	for _, ev := range dec.Feed([]byte(stream)) {
		deltas, err := p.Parse(ev)
		if err != nil {
			out = append(out, ev.Raw...) // not ours to judge: pass through
			continue
		}
		var edits []llm.Edit
		for _, d := range deltas {
			if d.Kind == llm.DeltaText {
				edits = append(edits, llm.Edit{Loc: d.Loc, Text: strings.Replace(d.Text, "555-0100", "[PHONE]", 1)})
			}
		}
		out = append(out, llm.RewriteEvent(ev, edits).Raw...)
	}
	fmt.Print(string(out))
	fmt.Println(p.Done())
	// Output:
	// event: content_block_delta
	// data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Call [PHONE]"}}
	//
	// event: message_stop
	// data: {"type":"message_stop"}
	//
	// true
}

func ExampleSetMaxTokens() {
	out, _ := llm.SetMaxTokens(llm.FormatAnthropic, []byte(`{"model":"claude-haiku-4-5","max_tokens":8192,"messages":[]}`), 1024)
	fmt.Println(string(out))
	// Output: {"model":"claude-haiku-4-5","max_tokens":1024,"messages":[]}
}

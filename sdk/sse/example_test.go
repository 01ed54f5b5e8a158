package sse_test

import (
	"fmt"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

func ExampleDecoder() {
	var d sse.Decoder
	// Chunks split anywhere, even inside "\r\n".
	for _, chunk := range []string{"event: ping\r", "\n: keep-alive\r\n\r\nda", "ta: {\"a\":1}\n\n", "data: [DONE]\n"} {
		for _, ev := range d.Feed([]byte(chunk)) {
			fmt.Printf("event=%q data=%q raw=%q\n", ev.Event, ev.Data, ev.Raw)
		}
	}
	fmt.Printf("pending=%q\n", d.Pending())
	if ev, ok := d.Flush(); ok {
		fmt.Printf("flushed data=%q\n", ev.Data)
	}
	// Output:
	// event="ping" data="" raw="event: ping\r\n: keep-alive\r\n\r\n"
	// event="" data="{\"a\":1}" raw="data: {\"a\":1}\n\n"
	// pending="data: [DONE]\n"
	// flushed data="[DONE]"
}

func ExampleEncode() {
	fmt.Printf("%q\n", sse.Encode(sse.Event{Event: "message_delta", Data: "line one\nline two"}))
	// Output: "event: message_delta\ndata: line one\ndata: line two\n\n"
}

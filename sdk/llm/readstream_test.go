package llm

import (
	"errors"
	"strings"
	"testing"
)

func TestReadStreamErrorsAndEdges(t *testing.T) {
	// An unterminated last event is still parsed; CRLF NDJSON lines and blank lines are fine.
	ds, err := ReadStream(FormatOpenAIChat, []byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}"))
	if err != nil || len(ds) != 2 || ds[0].Text != "a" || ds[1].Text != "b" {
		t.Fatalf("unterminated: %+v %v", ds, err)
	}
	ds, err = ReadStream(FormatOllama, []byte("{\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false}\r\n\n{\"message\":{\"role\":\"assistant\",\"content\":\"y\"},\"done\":false}"))
	if err != nil || len(ds) != 2 || ds[0].Text != "x" || ds[1].Text != "y" {
		t.Fatalf("ndjson: %+v %v", ds, err)
	}
	// A bad event stops the read, keeps the deltas before it and names the event.
	ds, err = ReadStream(FormatAnthropic, []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\ndata: {oops\n\ndata: {}\n\n"))
	if !errors.Is(err, ErrInvalidJSON) || !strings.Contains(err.Error(), "event 1") || len(ds) != 1 || ds[0].Text != "hi" {
		t.Fatalf("bad event: %+v %v", ds, err)
	}
	if _, err := ReadStream(Format("nope"), []byte("data: {}\n\n")); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("unknown format: %v", err)
	}
	if ds, err := ReadStream(FormatGemini, nil); err != nil || len(ds) != 0 {
		t.Fatalf("empty: %+v %v", ds, err)
	}
}

package llm

import (
	"fmt"
	"strings"
	"testing"
)

// TestResponsesStreamPartIndex: the text deltas and snapshots of a Responses stream name their content part
// (content_index) besides their output item, on the fast path and the full parser alike, and the snapshots of a
// finished item (output_item.done, response.completed) are marked Whole.
func TestResponsesStreamPartIndex(t *testing.T) {
	var b strings.Builder
	ev := func(typ, fields string) {
		fmt.Fprintf(&b, "event: %s\ndata: {\"type\":%q,%s}\n\n", typ, typ, fields)
	}
	part := func(t string) string { return `{"type":"output_text","annotations":[],"text":"` + t + `"}` }
	item := `{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[` + part("ab") + `,` + part("cd") + `]}`
	for ci, text := range []string{"ab", "cd"} {
		ev("response.content_part.added", fmt.Sprintf(`"item_id":"msg_1","output_index":1,"content_index":%d,"part":%s`, ci, part("")))
		for _, d := range text {
			// the API's own key order (the fast path's template), then another order (the full parser)
			ev("response.output_text.delta", fmt.Sprintf(`"sequence_number":%d,"item_id":"msg_1","output_index":1,"content_index":%d,"delta":"%c","logprobs":[]`, ci, ci, d))
			ev("response.output_text.delta", fmt.Sprintf(`"content_index":%d,"output_index":1,"delta":"%c"`, ci, d))
		}
		ev("response.output_text.done", fmt.Sprintf(`"item_id":"msg_1","output_index":1,"content_index":%d,"text":"%s"`, ci, text))
		ev("response.content_part.done", fmt.Sprintf(`"item_id":"msg_1","output_index":1,"content_index":%d,"part":%s`, ci, part(text)))
	}
	ev("response.output_item.done", `"output_index":1,"item":`+item)
	ev("response.completed", `"response":{"id":"r","status":"completed","output":[{"type":"reasoning","id":"rs_1","summary":[]},`+item+`]}`)
	ds, err := ReadStream(FormatOpenAIResponses, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		if d.Kind == DeltaText || d.Kind == DeltaSnapshot {
			got = append(got, fmt.Sprintf("%s %d.%d %v %s", d.Kind, d.Index, d.Part, d.Whole, d.Text))
		}
	}
	want := []string{
		"text 1.0 false a", "text 1.0 false a", "text 1.0 false b", "text 1.0 false b",
		"snapshot 1.0 false ab", "snapshot 1.0 false ab",
		"text 1.1 false c", "text 1.1 false c", "text 1.1 false d", "text 1.1 false d",
		"snapshot 1.1 false cd", "snapshot 1.1 false cd",
		"snapshot 1.0 true ab", "snapshot 1.1 true cd", // output_item.done
		"snapshot 1.0 true ab", "snapshot 1.1 true cd", // response.completed (the item is output[1])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deltas:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

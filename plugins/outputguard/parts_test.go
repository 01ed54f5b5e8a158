package outputguard

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/plugins/outputguard/check"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// FuzzResponsesPartSnapshots: a Responses answer of two output_text parts (any text, cut anywhere, streamed in
// token-sized deltas, any chunking) through the stream processor: the client reads every snapshot of a part
// (output_text.done, content_part.done, output_item.done, response.completed) equal to what that part's deltas
// carried, and the parts' deltas joined are the whole text with the findings of the join redacted.
func FuzzResponsesPartSnapshots(f *testing.F) {
	for _, s := range []string{
		"Summary done. " + exfilImage + " Bye.",
		"the key " + awsKey + " is here and <script>steal()</script> done, see [doc](https://go.dev)",
		"plain text without anything to find in it at all",
	} {
		for _, cut := range []uint8{0, 40, 128, 200, 255} {
			f.Add(s, cut, uint8(37))
		}
	}
	r, err := parseConfig([]byte(`{}`))
	if err != nil {
		f.Fatal(err)
	}
	c := &r.Default
	f.Fuzz(func(t *testing.T, text string, cut, chunk uint8) {
		if len(text) > 4096 || !utf8.ValidString(text) {
			return // (the JSON encoder replaces invalid UTF-8)
		}
		k := runeStart(text, int(cut)*len(text)/255)
		stream := responsesParts(splitRunes(text[:k]), splitRunes(text[k:]))
		p := newStreamProc(c, c.checker, llm.FormatOpenAIResponses, true, "rid", false)
		var out []byte
		chunks := chunkBytes(stream, 1+int(chunk))
		for i, ch := range chunks {
			out = append(out, p.feed(ch, i == len(chunks)-1)...)
		}
		if p.ended {
			return // blocked: the stream ends with an error event
		}
		ds, err := llm.ReadStream(llm.FormatOpenAIResponses, out)
		if err != nil {
			t.Fatalf("client got an unparseable stream: %v", err)
		}
		parts := map[int]string{}
		snaps := 0
		for _, d := range ds {
			switch d.Kind {
			case llm.DeltaText:
				parts[d.Part] += d.Text
			case llm.DeltaSnapshot:
				snaps++
				if d.Text != parts[d.Part] {
					t.Fatalf("snapshot of part %d %q, its deltas gave %q", d.Part, d.Text, parts[d.Part])
				}
			}
		}
		if n, m := strings.Count(string(out), "\nevent: response."), strings.Count(stream, "\nevent: response."); n != m || snaps < 4 {
			t.Fatalf("%d events of %d, %d snapshots", n, m, snaps)
		}
		if want := check.Apply(text, c.checker.Scan(text), redactPolicy(c.checker)); parts[0]+parts[1] != want {
			t.Fatalf("parts %q, want the join redacted %q", parts, want)
		}
	})
}

// splitRunes is splitTokens with every cut moved to the start of a code point (a JSON string holds whole ones).
func splitRunes(s string) []string {
	var out []string
	for i, n := 0, 3; i < len(s); n = 3 + (n+1)%5 {
		e := runeStart(s, min(len(s), i+n))
		out = append(out, s[i:e])
		i = e
	}
	return out
}

func runeStart(s string, i int) int {
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return i
}

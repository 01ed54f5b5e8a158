package ner

import (
	"testing"
	"unicode/utf8"
)

// FuzzTag: any bytes tokenise into ordered, non-overlapping tokens inside the text whose words hash as
// HashLower does, and tagging yields spans of whole tokens.
func FuzzTag(f *testing.F) {
	for _, s := range []string{prose, "Dear Mr. O'Brien, 221B Baker Street\nLondon", "", "a", "\xff\xfe'-", "Zürich’s straße 12-14", "abcdefgh" + "ABCDEFGH" + "12345678"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		sc := new(Scratch)
		sc.Toks = Tokenize(text, nil)
		end := int32(0)
		for _, tk := range sc.Toks {
			if tk.Start < end || tk.End <= tk.Start || int(tk.End) > len(text) {
				t.Fatalf("token %d-%d after %d in %d bytes", tk.Start, tk.End, end, len(text))
			}
			if tk.Flags&fPunct == 0 && HashLower(text[tk.Start:tk.End]) != tk.Low {
				t.Fatalf("word %q: hash differs from HashLower", text[tk.Start:tk.End])
			}
			if utf8.Valid(text) && !utf8.Valid(text[tk.Start:tk.End]) {
				t.Fatalf("token %q splits a rune", text[tk.Start:tk.End])
			}
			end = tk.End
		}
		DefaultModel.Tag(text, sc)
		last := 0
		for _, sp := range sc.Spans {
			if sp.From < last || sp.To <= sp.From || sp.To > len(sc.Toks) || sp.Type < 0 || sp.Type >= NumTypes {
				t.Fatalf("bad span %+v", sp)
			}
			last = sp.To
		}
	})
}

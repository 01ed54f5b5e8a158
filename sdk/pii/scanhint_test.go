package pii

import "testing"

// TestCanonicalPassOnlyWhenNeeded: the byte scanner asks for the canonical pass (a second scan of the whole
// text) only when a value written differently can be there. Prose with the word "at", bracketed words, small
// numbers around separators or a dash between words must not ask for it (each did before: an at trigram, a
// '[' followed by 'd', a digit before " / " or a line break, a folded dash, and made prose scans 1.5-2x slower);
// the written-out forms still do, and are still found.
func TestCanonicalPassOnlyWhenNeeded(t *testing.T) {
	s := New(All(), nil)
	quiet := []string{
		"Please look at the results at 5 pm and meet at Example Corp. tomorrow, at the latest.",
		"Replace [DATA] with Johann's email and [Director Name] with the name.",
		"Call javascript:prompt(document.cookie) and f(x) = (d + 1).",
		"In the first year they invested $8000 / 2 = $4000 in total.\nStep 2\nStep 3\n",
		"The sale ended in 2023\nand again in 2024 | 2025.",
		"Attach the attention-grabbing attachment; athletes attend.",
	}
	for _, text := range quiet {
		if _, hint := s.scanBuiltin([]byte(text), nil); hint {
			t.Errorf("canonical pass requested for %q", text)
		}
	}
	if _, changed := runeView([]byte("a pause — then the answer – and a\u00a0space")); changed {
		t.Errorf("a dash or a no-break space between words started the rune view")
	}
	forms := []struct{ text, want string }{
		{"write to jane.doe at example dot com today", "EMAIL=jane.doe at example dot com"},
		{"write to jane.doe [at] example.com today", "EMAIL=jane.doe [at] example.com"},
		{"mail: jane.doe(at)example(dot)com", "EMAIL=jane.doe(at)example(dot)com"},
		{"card 4111 / 1111 / 1111 / 1111 ok", "CREDIT_CARD=4111 / 1111 / 1111 / 1111"},
		{"card\n4111\n1111\n1111\n1111\nok", "CREDIT_CARD=4111\n1111\n1111\n1111"},
		{"card 4111\u20131111\u20131111\u20131111 ok", "CREDIT_CARD=4111\u20131111\u20131111\u20131111"},
	}
	for _, f := range forms {
		var got []string
		for _, m := range s.ScanString(f.text, nil) {
			got = append(got, m.Name()+"="+f.text[m.Start:m.End])
		}
		if len(got) != 1 || got[0] != f.want {
			t.Errorf("%q: got %q, want %q", f.text, got, f.want)
		}
	}
}

package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The canonical view finds values written differently and reports exactly their original bytes.
func TestCanonicalSpans(t *testing.T) {
	s := New(All(), nil)
	cases := []struct{ text, typ, value string }{
		{"mail jane.\u200bdoe@exam\u200cple.com now", "EMAIL", "jane.\u200bdoe@exam\u200cple.com"},
		{"card ４１１１ １１１１ １１１１ １１１１ ok", "CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１"},
		{"card ٤١١١ ١١١١ ١١١١ ١١١١ ok", "CREDIT_CARD", "٤١١١ ١١١١ ١١١١ ١١١١"},
		{"write jane dot doe at example dot com please", "EMAIL", "jane dot doe at example dot com"},
		{"write jane.doe [at] example [dot] com please", "EMAIL", "jane.doe [at] example [dot] com"},
		{"write jane.doe @ example.com please", "EMAIL", "jane.doe @ example.com"},
		{"card\n4111\n1111\n1111\n1111\nok", "CREDIT_CARD", "4111\n1111\n1111\n1111"},
		{"iban DE89-3704-0044-0532-0130-00 ok", "IBAN", "DE89-3704-0044-0532-0130-00"},
		{"ssn 536_22_8726 ok", "US_SSN", "536_22_8726"},
		{"key sk-proj-abcdefGHIJ1234 5678klmnopQRSTuvwx9012yzABCD ok", "OPENAI_API_KEY", "sk-proj-abcdefGHIJ1234 5678klmnopQRSTuvwx9012yzABCD"},
		{"b64 bXkgZW1haWwgaXMgamFuZS5kb2VAZXhhbXBsZS5jb20= ok", "EMAIL", "bXkgZW1haWwgaXMgamFuZS5kb2VAZXhhbXBsZS5jb20="},
		{"ZWSP before \u200b4111 1111 1111 1111\u200b after", "CREDIT_CARD", "4111 1111 1111 1111"},
	}
	// every case at every alignment of the byte scanner's 8-byte words, after prose and after code
	var shifted []struct{ text, typ, value string }
	for _, c := range cases {
		for k := 0; k < 17; k++ {
			for _, pre := range []string{"the quick brown fox jumps. ", "x=1; "} {
				p := strings.Repeat("ab ", k/3) + strings.Repeat("z", k%3) + " " + pre
				shifted = append(shifted, struct{ text, typ, value string }{p + c.text, c.typ, c.value})
			}
		}
	}
	cases = append(cases, shifted...)
	for _, c := range cases {
		ms := s.ScanString(c.text, nil)
		if len(ms) != 1 || ms[0].Name() != c.typ || c.text[ms[0].Start:ms[0].End] != c.value {
			var got []string
			for _, m := range ms {
				got = append(got, m.Name()+":"+c.text[m.Start:m.End])
			}
			t.Errorf("%q: got %q, want %s:%q", c.text, got, c.typ, c.value)
		}
	}
	for _, text := range []string{
		"Look at the report dot by dot and meet me at noon.",
		"We met at Example Corp. on 12/05/2024 at 10:30, version 1.2.3.4.5, page 12_3.",
		"Upload it with curl --data @data.json to the server.",
		"Slash as iban separator: AL47/2121/1009/0000/0002/3569/8741",
		"Ratio 3/4/5 and code 2024_01_15 and lines\n1\n2\n3",
	} {
		if ms := s.ScanString(text, nil); len(ms) != 0 {
			t.Errorf("%q: unexpected %v", text, ms)
		}
	}
}

// ScanJoined finds a value split across parts and keeps what the parts alone give.
func TestScanJoined(t *testing.T) {
	s := New(All(), nil)
	joined, ms := s.ScanJoined([][]byte{[]byte("card 4111 1111 "), []byte("1111 1111 and a@b.example.com")})
	var got []string
	for _, m := range ms {
		got = append(got, m.Name()+":"+string(joined[m.Start:m.End]))
	}
	if strings.Join(got, ",") != "CREDIT_CARD:4111 1111 1111 1111,EMAIL:a@b.example.com" {
		t.Fatalf("got %q", got)
	}
}

// FuzzCanonicalScan: findings are in order, do not overlap and fall on rune boundaries of the original text.
func FuzzCanonicalScan(f *testing.F) {
	for _, seed := range []string{
		"jane dot doe at example dot com", "4111/1111/1111/1111", "٤١١١ ١١١١ ١١١١ ١١١١", "a\u200bb@c\u200bd.com",
		"DE89-3704-0044-0532-0130-00", "bXkgZW1haWwgaXMgamFuZS5kb2VAZXhhbXBsZS5jb20=", "x [at] y (dot) z", "AKIAIOSFODNN 7EXAMPLE",
	} {
		f.Add(seed)
	}
	s := New(All(), nil)
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, m := range s.ScanString(text, nil) {
			if m.Start < last || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("%q: bad span %d-%d after %d", text, m.Start, m.End, last)
			}
			if utf8.ValidString(text) && (!utf8.RuneStart(text[m.Start]) || m.End < len(text) && !utf8.RuneStart(text[m.End])) {
				t.Fatalf("%q: span %d-%d splits a rune", text, m.Start, m.End)
			}
			last = m.End
		}
	})
}

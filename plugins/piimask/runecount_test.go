package piimask

import (
	"testing"
	"unicode/utf8"
)

func TestRuneCount(t *testing.T) {
	for _, s := range []string{"", "abc", "héllo wörld, ••7681 and 日本語のテキスト plus more ascii text here",
		"\x80\x80abcdefghijklmnop", "abcdefgh\xc0\x80ijklmnop\xe4A", "0123456789abcdef日本"} {
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Errorf("runeCount(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzRuneCount(f *testing.F) {
	f.Add("héllo wörld, ••7681 and 日本語のテキスト")
	f.Add("abcdefgh\xc0\x80ijklmnop")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("runeCount(%q) = %d, want %d", s, got, want)
		}
	})
}

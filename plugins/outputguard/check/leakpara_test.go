package check

import (
	"reflect"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

func paraChecker(t testing.TB, prompt string) *Checker {
	t.Helper()
	k, err := Compile(Config{Leak: LeakConfig{Enabled: true, Action: ActionBlock, FromRequest: true, Paraphrase: true}})
	if err != nil {
		t.Fatal(err)
	}
	return k.ForRequest([]string{prompt})
}

func TestParaphraseLeak(t *testing.T) {
	k := paraChecker(t, benchSystemPrompt)
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"restated in other words and order", "My job: I'm Acme Corp's friendly support helper for customers. I handle questions on your orders, returns and shipping, answering politely and briefly.", true},
		{"as a list", "Rules I follow:\n- answer questions\n- topics: orders, shipping, returns\n- be polite and concise", true},
		{"the fallback rule, reworded", "If I don't know the answer I'll say so, and I offer to connect users with a human agent.", true},
		{"on topic, not a restatement", "Your order shipped yesterday and should arrive Friday. Returns are free within 30 days; if you have other questions, I can connect you with a human agent.", false},
		{"the words far apart", "Answer: yes. " + benignPad + " Questions about orders go to the order page. " + benignPad + " Shipping and returns are free. " + benignPad + " Thanks for writing so politely and concisely.", false},
		{"unrelated", "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := k.Scan(tc.text)
			got := false
			for _, f := range fs {
				got = got || f.Type == "system_prompt_paraphrase"
			}
			if got != tc.want {
				t.Fatalf("paraphrase finding %v, want %v: %+v", got, tc.want, fs)
			}
			if ref := reference(k).Scan(tc.text); !reflect.DeepEqual(fs, ref) {
				t.Fatalf("skip loop %+v, every position %+v", fs, ref)
			}
			var cuts []int
			for i := 1; i < len(tc.text); i++ {
				cuts = append(cuts, i)
			}
			if got, _, _ := streamAll(k, tc.text, cuts, nil); !reflect.DeepEqual(got, fs) {
				t.Fatalf("stream cut at every byte:\n got %+v\nwant %+v", got, fs)
			}
		})
	}
	off, err := Compile(Config{Leak: LeakConfig{Enabled: true, FromRequest: true}})
	if err != nil {
		t.Fatal(err)
	}
	if fs := off.ForRequest([]string{benchSystemPrompt}).Scan("I handle questions on your orders, returns and shipping, answering politely and briefly."); len(fs) != 0 {
		t.Fatalf("paraphrase is opt-in; flagged %+v", fs)
	}
}

const benignPad = "Let me know if there is anything else I can help you with today, and have a wonderful afternoon in the sun with the family and friends you love."

// realisticPrompts: system prompts of the kinds gateways front (written for this test, not from any dataset).
var realisticPrompts = []string{
	benchSystemPrompt,
	"You are a senior Python programming assistant. Explain code clearly, provide working examples with comments, and point out bugs, security problems and performance issues. Prefer the standard library and idiomatic solutions.",
	"You are TravelPal, the booking assistant of Example Airways. Help customers find flights, change or cancel bookings and understand baggage allowances. Quote fares in the customer's currency. Never promise refunds; refer refund requests to the support team.",
	"You are a careful medical information assistant. Provide general health information in plain language, explain common symptoms, treatments and medications, and always advise users to consult a doctor or pharmacist for personal medical decisions.",
	"You are a writing tutor for high-school students. Give feedback on essays: structure, argument, grammar and style. Encourage students, ask guiding questions, and never write the essay for them.",
}

// TestParaphraseBenign: the labelled benign answers of both splits against each realistic prompt; at most 0.5 %
// of (answer, prompt) pairs may be flagged as a paraphrase.
func TestParaphraseBenign(t *testing.T) {
	var answers []string
	for _, split := range []string{"output.dev.jsonl", "output.train.jsonl"} {
		for _, r := range loadOutput(t, split) {
			if r.Kind == "benign-output" {
				answers = append(answers, r.Text)
			}
		}
	}
	flagged, pairs := 0, 0
	for _, p := range realisticPrompts {
		k := paraChecker(t, p)
		for _, a := range answers {
			pairs++
			for _, f := range k.Scan(a) {
				if f.Type == "system_prompt_paraphrase" {
					flagged++
					t.Logf("flagged for %.40q: %.200q", p, a[f.Start:f.End])
					break
				}
			}
		}
	}
	t.Logf("benign answers flagged as a paraphrase: %d of %d (answer, prompt) pairs", flagged, pairs)
	if flagged*200 > pairs {
		t.Errorf("%d of %d pairs flagged (> 0.5 %%)", flagged, pairs)
	}
}

// BenchmarkParaphrase4K: per request, ForRequest on benchSystemPrompt plus a scan of a 4 KiB ordinary answer,
// with and without the paraphrase check.
func BenchmarkParaphrase4K(b *testing.B) {
	text := benignCorpus(b)[:4096]
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			k, err := Compile(Config{Leak: LeakConfig{Enabled: true, Action: ActionBlock, FromRequest: true, Paraphrase: on}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			m := hostsim.StartCPU(b)
			for i := 0; i < b.N; i++ {
				k.ForRequest([]string{benchSystemPrompt}).Scan(text)
			}
			m.Stop(len(text))
		})
	}
}

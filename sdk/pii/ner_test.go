package pii

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
)

func TestNERFindsAndSkips(t *testing.T) {
	s := New(All()|NERTypes(), nil)
	cases := []struct {
		text string
		want map[string]string // value -> type
	}{
		{"My name is Jessica Brandt and I live at 27 Adrianalaan 62, Rotterdam.", map[string]string{"Jessica Brandt": "PERSON"}},
		{"Please send the parcel to 1819 Chatsworth Road, Apt. 195 and call me.", map[string]string{"1819 Chatsworth Road": "ADDRESS"}},
		{"The history of bridge building is a story of materials and patience. Early builders used stone arches.", nil},
		{"Summarise the Quarterly Business Review for me, please.", nil},
	}
	for _, c := range cases {
		got := map[string]string{}
		for _, m := range s.ScanString(c.text, nil) {
			got[c.text[m.Start:m.End]] = m.Name()
		}
		for v, ty := range c.want {
			found := false
			for gv, gt := range got {
				if gt == ty && (gv == v || len(gv) > len(v) && contains(gv, v)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%q: %s %q not found; got %v", c.text, ty, v, got)
			}
		}
		if c.want == nil && len(got) > 0 {
			t.Errorf("%q: found %v in a text without entities", c.text, got)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// The tagger allocates nothing per scan once its pooled buffers have grown.
func TestNERNoAllocs(t *testing.T) {
	s := New(All()|NERTypes(), nil)
	text := []byte("Dear Mr. Kowalski, the parcel for Anna Lindqvist goes to 221 Baker Street, London NW1 6XE, United Kingdom. Thanks, Jordan")
	dst := s.Scan(text, nil)
	if n := testing.AllocsPerRun(50, func() { dst = s.Scan(text, dst[:0]) }); n != 0 {
		t.Errorf("%v allocations per scan", n)
	}
}

// TestNERBenignPrompts reports how often the shipped tagger fires on ordinary prompts and answers it never
// trained on (label-0, trainable=false records of injection.dev.jsonl and output.dev.jsonl). Some findings there
// are real names and places, so this is an upper bound of the false-positive rate, per type; it fails above
// the ceilings recorded in the piimask README.
func TestNERBenignPrompts(t *testing.T) {
	verbose := os.Getenv("PIIMASK_EVAL_VERBOSE") != ""
	for _, ty := range []Type{Person, Address, Location, Organization} {
		s := New(TypeSet(0).With(ty), nil)
		texts, flagged := 0, 0
		for _, file := range []string{"injection.dev.jsonl", "output.dev.jsonl"} {
			readJSONL(t, datasetPath(t, file), func(line []byte) {
				var r struct {
					Text      string `json:"text"`
					Label     int    `json:"label"`
					Trainable bool   `json:"trainable"`
				}
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatal(err)
				}
				if r.Label != 0 || r.Trainable {
					return
				}
				texts++
				ms := s.ScanString(r.Text, nil)
				if len(ms) > 0 {
					flagged++
					if verbose {
						for _, m := range ms {
							fmt.Printf("BENIGN %s %q\n", m.Name(), r.Text[m.Start:m.End])
						}
					}
				}
			})
		}
		rate := float64(flagged) / float64(texts)
		t.Logf("%-13s fires on %.1f%% of %d ordinary prompts and answers", ty, 100*rate, texts)
		if ceiling := map[Type]float64{Person: 0.165, Address: 0.03, Location: 0.08, Organization: 0.05}[ty]; rate > ceiling {
			t.Errorf("%s fires on %.1f%% of ordinary texts, above %.1f%%", ty, 100*rate, 100*ceiling)
		}
	}
}

func BenchmarkNER(b *testing.B) {
	text := []byte(benignText)
	for _, k := range []struct {
		name string
		set  TypeSet
	}{{"rules", All()}, {"rules+ner", All() | NERTypes()}} {
		s := New(k.set, nil)
		b.Run(k.name, func(b *testing.B) {
			var dst []Match
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				dst = s.Scan(text, dst[:0])
			}
		})
	}
}

const benignText = `The history of bridge building is a story of materials and patience. Early builders used stone arches that carried loads by compression, and many of those arches still stand after two thousand years. Iron and later steel allowed longer spans, first with trusses and then with suspension cables hung from tall towers. Engineers today model wind, traffic and temperature before a single beam is placed. Contact Maria Gonzalez at 12 Harbour Road, Dublin if you have questions about the Golden Gate project in San Francisco. `

// A very large text does not leave its token buffers pinned in the kept scratch.
func TestNERLargeTextBuffersLetGo(t *testing.T) {
	s := New(All()|NERTypes(), nil)
	big := []byte(strings.Repeat("Anna Lindqvist lives at 221 Baker Street. ", 20000))
	s.Scan(big, nil)
	sc := ner.GetScratch()
	defer ner.PutScratch(sc)
	if cap(sc.Toks) > 1<<16 {
		t.Errorf("kept scratch holds %d tokens after a large text", cap(sc.Toks))
	}
}

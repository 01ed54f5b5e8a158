package ner

import (
	"strings"
	"testing"
)

// tagWords tokenises text, tags the tokens that are listed in person as B-PERSON (and I-PERSON when the word is
// followed by its surname in the list as "First Last"), runs fn over the tags and returns the PERSON words.
func tagWords(t *testing.T, text string, person []string, fn func(text []byte, toks []Token, tags []uint8)) []string {
	t.Helper()
	b := []byte(text)
	toks := Tokenize(b, nil)
	tags := make([]uint8, len(toks))
	for _, p := range person {
		at := strings.Index(text, p)
		if at < 0 {
			t.Fatalf("%q not in %q", p, text)
		}
		first := true
		for i, tk := range toks {
			if int(tk.Start) >= at && int(tk.End) <= at+len(p) {
				if first {
					tags[i], first = 1+2*Person, false
				} else {
					tags[i] = 2 + 2*Person
				}
			}
		}
	}
	fn(b, toks, tags)
	var out []string
	for _, sp := range Decode(tags, nil) {
		if sp.Type == Person {
			out = append(out, text[toks[sp.From].Start:toks[sp.To-1].End])
		}
	}
	return out
}

func TestSameName(t *testing.T) {
	run := func(text []byte, toks []Token, tags []uint8) { sameName(toks, tags) }
	cases := []struct {
		text   string
		tagged []string
		want   string
	}{
		// the second "Magnus" (before a surname the tagger missed) and the second "Gerth" are the same person
		{"Magnus spent a year at Teradata as the assistant to Magnus Poulsen.", []string{"Magnus"}, "Magnus|Magnus"},
		{"Gerth had given Gerth his address.", []string{"Gerth"}, "Gerth|Gerth"},
		{"Ask Jens Kreutzmann. Kreutzmann knows.", []string{"Jens Kreutzmann"}, "Jens Kreutzmann|Kreutzmann"},
		// same word in another case is left alone ("Will" the name, "will" the verb)
		{"Will said he will come.", []string{"Will"}, "Will"},
		// a title tagged with the name is not spread ("Mr." elsewhere is no name)
		{"Mr. Spears met Mr. Jones.", []string{"Mr. Spears"}, "Mr. Spears"},
		// no name found: nothing to spread
		{"Magnus and Magnus.", nil, ""},
	}
	for _, c := range cases {
		got := strings.Join(tagWords(t, c.text, c.tagged, run), "|")
		if got != c.want {
			t.Errorf("%q with %v tagged: PERSON %q, want %q", c.text, c.tagged, got, c.want)
		}
	}
}

func TestNameList(t *testing.T) {
	run := func(text []byte, toks []Token, tags []uint8) { nameList(text, toks, tags) }
	cases := []struct {
		text   string
		tagged []string
		want   string
	}{
		{"They had 6: Matheus, Janet, Nicholas, Kevin, Brittany and Terri.", []string{"Nicholas", "Kevin"},
			"Matheus|Janet|Nicholas|Kevin|Brittany|Terri"},
		{"they had 6: silvana, adam, christopher, kristina, chad and caleb.", []string{"christopher"},
			"silvana|adam|christopher|kristina|chad|caleb"},
		{"Torpy and Salinas were precision engineers.", []string{"Torpy"}, "Torpy|Salinas"},
		// a name of two words is no one-word list item: "Jones" is not spread to "Mitchell"
		{"Ask Anna Jones, Mitchell and Williams.", []string{"Anna Jones"}, "Anna Jones"},
		// no one-word name in the list
		{"We use Kubernetes, Terraform and Ansible.", nil, ""},
		// a list across a line break is two lists
		{"Kevin,\nBrittany", []string{"Kevin"}, "Kevin"},
	}
	for _, c := range cases {
		got := strings.Join(tagWords(t, c.text, c.tagged, run), "|")
		if got != c.want {
			t.Errorf("%q with %v tagged: PERSON %q, want %q", c.text, c.tagged, got, c.want)
		}
	}
}

// TestMargin: a B- class must beat O by the model's margin to open an entity.
func TestMargin(t *testing.T) {
	// one feature row (Bits 0): every feature of a token adds B-PERSON 1, so B-PERSON scores NumFeatures over O
	row := make([]byte, NumClasses)
	row[1+2*Person] = 1
	text := []byte("Magnus")
	for _, c := range []struct {
		margin int32
		want   int
	}{{0, 1}, {NumFeatures - 1, 1}, {NumFeatures, 0}, {NumFeatures + 10, 0}} {
		m := &Model{Bits: 0, Scale: 1, Margin: c.margin, Weights: string(row)}
		sc := new(Scratch)
		sc.Toks = Tokenize(text, nil)
		m.Tag(text, sc)
		if len(sc.Spans) != c.want {
			t.Errorf("margin %d: %d spans, want %d", c.margin, len(sc.Spans), c.want)
		}
	}
}

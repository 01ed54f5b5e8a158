package pii

import (
	"strings"
	"testing"
)

// agedobFindings returns "TYPE:value" of the DATE_OF_BIRTH and AGE findings in text.
func agedobFindings(s *Scanner, text string) []string {
	var out []string
	for _, m := range s.ScanString(text, nil) {
		if m.Type == DateOfBirth || m.Type == Age {
			out = append(out, m.Name()+":"+text[m.Start:m.End])
		}
	}
	return out
}

func TestAgeDOB(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want string // findings joined by "|"
	}{
		{"I was born on 12 March 1984 in Leeds.", "DATE_OF_BIRTH:12 March 1984"},
		{"DOB: 1984-03-12", "DATE_OF_BIRTH:1984-03-12"},
		{"D.O.B. 03/12/84, blood type A", "DATE_OF_BIRTH:03/12/84"},
		{"Date of birth: March 12th, 1984", "DATE_OF_BIRTH:March 12th, 1984"},
		{"Please tell me your date of birth. It's 3/23/1940", "DATE_OF_BIRTH:3/23/1940"},
		{"She was born on 2/8/1935. Her maiden name is Clark", "DATE_OF_BIRTH:2/8/1935"},
		{"Birth date - 12.03.1984", "DATE_OF_BIRTH:12.03.1984"},
		{"my birthday is 12th of March", "DATE_OF_BIRTH:12th of March"},
		{"He was born in 1984 and raised in Ohio.", "DATE_OF_BIRTH:1984"},
		{"born in March 1984", "DATE_OF_BIRTH:March 1984"},
		{"Geburtsdatum: 12. März 1984", "DATE_OF_BIRTH:12. März 1984"},
		{"Ich bin am 12.03.1984 geboren, geboren am 5. Mai 1990", "DATE_OF_BIRTH:12.03.1984|DATE_OF_BIRTH:5. Mai 1990"},
		{"Je suis né le 12 mars 1984 à Lyon.", "DATE_OF_BIRTH:12 mars 1984"},
		{"Fecha de nacimiento: 12 de marzo de 1984", "DATE_OF_BIRTH:12 de marzo de 1984"},
		{"12 March 1984 is my birthday", "DATE_OF_BIRTH:12 March 1984"},
		{"Ich bin am 12.03.1984 in Köln geboren.", "DATE_OF_BIRTH:12.03.1984"},
		{"On 12 March 2020 the Board met; born leaders rarely", ""},
		{"I am 34 years old.", "AGE:34"},
		{"a 34-year-old woman", "AGE:34"},
		{"I'm Naomi, and i'm 31 y/o.", "AGE:31"},
		{"Age: 34", "AGE:34"},
		{"aged 34, from Leeds", "AGE:34"},
		{"My father retired at the age of 61", "AGE:61"},
		{"My birthday is on the weekend. I'll turn 23.", "AGE:23"},
		{"Written when he was 78.", "AGE:78"},
		{"This 79 year old female complaining of pain", "AGE:79"},
		{"I'm 34.", "AGE:34"},
		{"j'ai 34 ans", "AGE:34"},
		{"Ich bin 34 Jahre alt", "AGE:34"},
		{"tengo 34 años", "AGE:34"},
		// not personal: a date or a number without those words
		{"The meeting is on 12 March 1984.", ""},
		{"Date: 2007-03-23 18:43:36", ""},
		{"It's like that since 12/1/1981", ""},
		{"During 1971, the company invested heavily.", ""},
		{"Turn 90 degrees to the left.", ""},
		{"The answer is 42.", ""},
		{"The universe's age is 13.8 billion years; the age of 4 billion years is the Earth's.", ""},
		{"Version 10.1.2.3 was released in 2019.", ""},
		{"the birth rate fell 3% in 2019", ""},
		{"5 may be enough, 3 years ago", ""},
		{"He was 5 minutes late.", ""},
	}
	for _, c := range cases {
		got := strings.Join(agedobFindings(s, c.text), "|")
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.text, got, c.want)
		}
	}
}

// FuzzAgeDOB: no panic; findings in order, in bounds, not overlapping; every date of birth and age holds a digit.
func FuzzAgeDOB(f *testing.F) {
	for _, seed := range []string{"born on 12 March 1984", "DOB: 1984-03-12", "D.O.B. 03/12/84", "date of birth. It's 3/23/1940",
		"I'm 31 y/o", "a 34-year-old", "at the age of 61", "I'll turn 23.", "when he was 78.", "né le 12 mars 1984", "12. März",
		"born in 1984", "age 4 billion years", "1.2.3.4", "tengo 34 años", "Age:\t7", "born\n\n1.1.11", "March 12th, 1984", "12-Mar-84"} {
		f.Add(seed)
	}
	s := New(All()|NERTypes()|TypeSet(0).With(Age), nil)
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, m := range s.ScanString(text, nil) {
			if m.Start < last || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("bad match %+v (last %d) in %q", m, last, text)
			}
			last = m.End
			if (m.Type == DateOfBirth || m.Type == Age) && !strings.ContainsAny(text[m.Start:m.End], "0123456789") {
				t.Fatalf("%s without a digit: %q in %q", m.Name(), text[m.Start:m.End], text)
			}
		}
	})
}

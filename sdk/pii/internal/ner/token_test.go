package ner

import "testing"

// The inlined 8-bytes-per-step ASCII word path of Tokenize gives the same tokens as the general path.
func TestTokenizeMatchesGeneral(t *testing.T) {
	texts := []string{
		prose,
		"Dear Mr. O'Brien-Smith, 221B Baker Street, London NW1 6XE; call 555-0100 or x12. ABC abc Abc aBC 12ab ab12 A",
		"a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii jjjjjjjjjj KKKKKKKKKKKKKKKKK 12345678901234567 x",
		"word", "W", "7", "Ünïcode wörds Zürich straße 東京 abcdefghÜ", "end-", "'quoted' -dash- it's", "abcdefgh", "abcdefgh.",
	}
	for _, text := range texts {
		b := []byte(text)
		toks := Tokenize(b, nil)
		for _, tk := range toks {
			if tk.Flags&fPunct != 0 {
				continue
			}
			slow, end := scanWord(b, int(tk.Start))
			slow.Gaz = lookupGaz(slow.Low)
			mask := uint16(fNL | fSentStart | fLineDigit | fLineEnd | fCand)
			if int32(end) != tk.End || slow.Low != tk.Low || slow.Len != tk.Len || slow.Flags != tk.Flags&^mask || slow.Gaz != tk.Gaz {
				t.Errorf("%q %q: Tokenize %+v, general %+v end %d", text, b[tk.Start:tk.End], tk, slow, end)
			}
			if HashLower(b[tk.Start:tk.End]) != tk.Low {
				t.Errorf("%q: hash differs from HashLower", b[tk.Start:tk.End])
			}
		}
	}
}

// In a text with no capital letter, every word that is not a common word is a candidate; with one capital
// letter anywhere, a lower-case word is a candidate only when the gazetteer knows it as a name or country.
// An interjection opening a sentence ("Oh, ...") is a common word, not a candidate.
func TestCandidatesOfLowerCaseText(t *testing.T) {
	cand := func(text, word string) bool {
		b := []byte(text)
		for _, tk := range Tokenize(b, nil) {
			if string(b[tk.Start:tk.End]) == word {
				return Candidate(&tk)
			}
		}
		t.Fatalf("%q: no token %q", text, word)
		return false
	}
	if !cand("please forward this to maximilian oberhuber by friday", "oberhuber") {
		t.Error("all lower case: an unknown word is no candidate")
	}
	if cand("please forward this to maximilian oberhuber by friday", "please") {
		t.Error("all lower case: a common word is a candidate")
	}
	if cand("Please forward this to maximilian oberhuber by friday", "oberhuber") {
		t.Error("mixed case: an unknown lower-case word is a candidate")
	}
	if cand("Cool. Oh, do they serve vegan food?", "Oh") {
		t.Error("an interjection opening a sentence is a candidate")
	}
}

// TestGazIndexBuckets checks the generated bucket index against the sorted hashes it indexes: bucket k holds
// exactly the hashes whose top gazIndexBits bits are k, and every hash is found by lookupGaz.
func TestGazIndexBuckets(t *testing.T) {
	if len(gazIndex) != 1<<gazIndexBits+1 || gazIndex[0] != 0 || int(gazIndex[len(gazIndex)-1]) != len(gazHash) {
		t.Fatalf("gazIndex has %d entries from %d to %d; want %d from 0 to %d", len(gazIndex), gazIndex[0],
			gazIndex[len(gazIndex)-1], 1<<gazIndexBits+1, len(gazHash))
	}
	for k := 0; k < 1<<gazIndexBits; k++ {
		for i := gazIndex[k]; i < gazIndex[k+1]; i++ {
			if int(gazHash[i]>>(32-gazIndexBits)) != k {
				t.Fatalf("gazHash[%d] = %#x is in bucket %d", i, gazHash[i], k)
			}
		}
	}
	for i, h := range gazHash {
		if i > 0 && gazHash[i-1] >= h {
			t.Fatalf("gazHash is not sorted at %d", i)
		}
		if lookupGaz(h) != gazFlags[i] {
			t.Fatalf("lookupGaz(%#x) = %d, want %d", h, lookupGaz(h), gazFlags[i])
		}
	}
}

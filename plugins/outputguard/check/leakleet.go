package check

// A one-token secret in leetspeak (canary_leet): "av0cad0", "4v0c4d0", "jugg3rnaut12547". Asked to "write it in
// l33t" a model swaps letters for the digits that look like them; the canary, its encodings and the hints all
// miss the word. An answer word of the secret's length that equals it letter for letter, but for at least one
// letter written as its look-alike digit, reports the secret. Secrets of 5+ bytes only (hintSecs: one token of
// letters and digits): a short one in digits is too common a string.

const leetMinLen = 5

// leetDigits returns the digits written for the lower-case letter c.
func leetDigits(c byte) string {
	switch c {
	case 'a':
		return "4"
	case 'b':
		return "8"
	case 'e':
		return "3"
	case 'g':
		return "69"
	case 'i', 'l':
		return "1"
	case 'o':
		return "0"
	case 's':
		return "5"
	case 't':
		return "7"
	case 'z':
		return "2"
	}
	return ""
}

// leetFor: c (lower case) is letter, or a digit written for it.
func leetFor(c, letter byte) (same, swapped bool) {
	if c == letter {
		return true, false
	}
	d := leetDigits(letter)
	for i := 0; i < len(d); i++ {
		if d[i] == c {
			return true, true
		}
	}
	return false, false
}

// leetKeys adds to the word filter every (first byte, last byte, length) a leetspeak secret can have.
func (k *Checker) leetKeys(f *bitFilter) {
	for _, sec := range k.hintSecs {
		if len(sec) < leetMinLen {
			continue
		}
		first, last := sec[0], sec[len(sec)-1]
		firsts := append([]byte{first}, leetDigits(first)...)
		lasts := append([]byte{last}, leetDigits(last)...)
		for _, a := range firsts {
			for _, b := range lasts {
				f.add(mixKey(a, b, len(sec)))
			}
		}
	}
}

// leetAt runs the check on the word t[p:we] (decided). It changes state.
func (s *scanner) leetAt(p, we int) {
	if s.lm.leetFired {
		return
	}
	w := s.text[p:we]
	for _, sec := range s.k.hintSecs {
		if len(sec) < leetMinLen || len(w) != len(sec) {
			continue
		}
		swaps, ok := 0, true
		for i := 0; i < len(w) && ok; i++ {
			same, swapped := leetFor(lower(w[i]), sec[i])
			ok = same
			if swapped {
				swaps++
			}
		}
		if ok && swaps > 0 {
			s.lm.leetFired = true
			s.add(Finding{Check: CheckPromptLeak, Type: "canary_leet", Start: p, End: we, Score: 1, Replace: redactedText, CanRedact: true})
			return
		}
	}
}

// Package placeholder recognises the reversible placeholders piimask's tokenize action writes in place of an
// entity: "[" NAME "_" 8 upper-case hex digits "]", NAME being 1 to 48 of A-Z, 0-9 and '_' (built-in entity names
// and UPPER_SNAKE_CASE custom names), e.g. "[EMAIL_3F9A2C7D]".
//
// A placeholder stands for the user's own data: piimask puts the value back in responses of the same stream. So
// both filters share this one recogniser: piimask to find what to restore, outputguard to treat a placeholder as
// sensitive data wherever it meets one (a placeholder in a URL becomes the value once piimask restores it, in
// whichever order the two filters run).
package placeholder

// MaxNameLen is the longest entity name a placeholder carries.
const MaxNameLen = 48

// MaxLen is the length of the longest placeholder: "[" + name + "_" + 8 hex + "]".
const MaxLen = 1 + MaxNameLen + 1 + 8 + 1

// minLen is the length of the shortest placeholder ("[A_0123ABCD]").
const minLen = 1 + 1 + 1 + 8 + 1

// At returns the length of the placeholder starting at text[i] (which must be '['), or 0. partial is true when
// text ends before a placeholder starting there could be complete (text[i:] is a prefix of a possible
// placeholder): a stream holds such a tail back.
func At(text []byte, i int) (n int, partial bool) {
	if i < 0 || i >= len(text) || text[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(text) && j-i < MaxLen {
		c := text[j]
		if c == ']' {
			// NAME_XXXXXXXX]
			if j-i < minLen-1 || text[j-9] != '_' {
				return 0, false
			}
			for k := j - 8; k < j; k++ {
				if !isUpperHex(text[k]) {
					return 0, false
				}
			}
			return j + 1 - i, false
		}
		if !isNameByte(c) {
			return 0, false
		}
		j++
	}
	if j >= len(text) && j-i < MaxLen {
		return 0, true
	}
	return 0, false
}

// Index returns the start and length of the first placeholder in text, or (-1, 0).
func Index(text []byte) (start, n int) {
	for i := 0; i+minLen <= len(text); i++ {
		if text[i] != '[' {
			continue
		}
		if n, _ := At(text, i); n > 0 {
			return i, n
		}
	}
	return -1, 0
}

// Contains reports whether text holds a placeholder.
func Contains(text []byte) bool {
	i, _ := Index(text)
	return i >= 0
}

func isNameByte(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' }

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

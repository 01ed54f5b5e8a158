package mask

// Vault maps placeholders to the values they replaced, for one HTTP stream (request → response). It is not
// shared between streams, so it needs no locking; it is bounded by MaxEntries.
type Vault struct {
	m map[string]string
	// MaxEntries bounds the map (default 4096); further placeholders are still produced but not restorable.
	MaxEntries int
}

// Put records placeholder → value.
func (v *Vault) Put(placeholder, value string) {
	if v.m == nil {
		v.m = make(map[string]string)
	}
	max := v.MaxEntries
	if max <= 0 {
		max = 4096
	}
	if len(v.m) >= max {
		return
	}
	v.m[placeholder] = value
}

// Get returns the value of a placeholder.
func (v *Vault) Get(placeholder string) (string, bool) {
	if v == nil || v.m == nil {
		return "", false
	}
	s, ok := v.m[placeholder]
	return s, ok
}

// Len is the number of placeholders recorded.
func (v *Vault) Len() int {
	if v == nil {
		return 0
	}
	return len(v.m)
}

// MaxPlaceholderLen is the longest placeholder Restore recognises: "[" + name (up to 48) + "_" + 8 hex + "]".
const MaxPlaceholderLen = 1 + 48 + 1 + 8 + 1

// placeholderAt returns the length of a syntactically valid placeholder at text[i] ('['), or 0; partial is true
// when text ends before the placeholder could be complete (a prefix of a possible placeholder).
func placeholderAt(text []byte, i int) (n int, partial bool) {
	j := i + 1
	for j < len(text) && j-i <= MaxPlaceholderLen {
		c := text[j]
		if c == ']' {
			// name_XXXXXXXX]
			if j-i < 11 || text[j-9] != '_' {
				return 0, false
			}
			for k := j - 8; k < j; k++ {
				if !(text[k] >= '0' && text[k] <= '9' || text[k] >= 'A' && text[k] <= 'F') {
					return 0, false
				}
			}
			return j + 1 - i, false
		}
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return 0, false
		}
		j++
	}
	if j >= len(text) && j-i <= MaxPlaceholderLen {
		return 0, true
	}
	return 0, false
}

// Restore replaces every placeholder of v found in text by its value. It returns text itself when nothing
// changed, and the number of placeholders restored.
func Restore(text []byte, v *Vault) ([]byte, int) {
	if v.Len() == 0 {
		return text, 0
	}
	var out []byte
	last, count := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] != '[' {
			continue
		}
		n, _ := placeholderAt(text, i)
		if n == 0 {
			continue
		}
		val, ok := v.Get(string(text[i : i+n]))
		if !ok {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(text)+64)
		}
		out = append(append(out, text[last:i]...), val...)
		last = i + n
		i += n - 1
		count++
	}
	if out == nil {
		return text, 0
	}
	return append(out, text[last:]...), count
}

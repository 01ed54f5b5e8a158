package placeholder

import "testing"

func TestAt(t *testing.T) {
	for _, tc := range []struct {
		text    string
		n       int
		partial bool
	}{
		{"[EMAIL_3F9A2C7D]", 16, false},
		{"[CREDIT_CARD_00AA11BB] x", 22, false},
		{"[A_0123ABCD]", 12, false},
		{"[_0123ABCD]", 0, false},      // no name
		{"[EMAIL_3f9a2c7d]", 0, false}, // lower-case hex
		{"[EMAIL_3F9A2C7]", 0, false},  // 7 digits
		{"[EMAIL:3F9A2C7D]", 0, false}, // a hash placeholder, not reversible
		{"[EMAIL]", 0, false},          // redaction
		{"[EMAIL_3F9", 0, true},        // cut off: a stream holds it
		{"[", 0, true},                 //
		{"[email_", 0, false},          // lower case cannot become one
		{"[" + string(make([]byte, 0)) + "X", 0, true},
	} {
		n, partial := At([]byte(tc.text), 0)
		if n != tc.n || partial != tc.partial {
			t.Errorf("At(%q) = %d, %v; want %d, %v", tc.text, n, partial, tc.n, tc.partial)
		}
	}
	long := "[" + string(repeat('A', MaxNameLen)) + "_0123ABCD]"
	if n, _ := At([]byte(long), 0); n != MaxLen {
		t.Errorf("longest name: %d", n)
	}
	tooLong := "[" + string(repeat('A', MaxNameLen+1)) + "_0123ABCD]"
	if n, p := At([]byte(tooLong), 0); n != 0 || p {
		t.Errorf("name over the limit: %d %v", n, p)
	}
	if i, n := Index([]byte("a [b] [PHONE_00AA11BB]")); i != 6 || n != 16 {
		t.Errorf("Index = %d, %d", i, n)
	}
	if Contains([]byte("?u=%5BEMAIL_3F9A2C7D%5D")) {
		t.Error("percent-encoded form is not a literal placeholder")
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

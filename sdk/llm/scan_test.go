package llm

import "testing"

// TestPlain8 checks the 8-byte string fast path against the byte rule for every byte value at every position.
func TestPlain8(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 0x20 && c != '"' && c != '\\'
		for pos := 0; pos < 8; pos++ {
			buf := []byte("abcdefgh")
			buf[pos] = byte(c)
			w := uint64(0)
			for k := 7; k >= 0; k-- {
				w = w<<8 | uint64(buf[k])
			}
			if got := plain8(w); got != want {
				t.Fatalf("plain8 with %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

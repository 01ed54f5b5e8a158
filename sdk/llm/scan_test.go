package llm

import (
	"math/bits"
	"testing"
)

// TestStringStops checks the 8-byte string scanners' masks against the byte rules: for every pair of byte values
// at every pair of positions, the lowest flagged byte is the first byte the rule matches (and none is flagged
// when none matches); plain8, the test of the previous scanner, agrees on whether any is.
func TestStringStops(t *testing.T) {
	stop := func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }
	quote := func(c byte) bool { return c == '"' || c == '\\' }
	first := func(buf []byte, rule func(byte) bool) int {
		for i, c := range buf {
			if rule(c) {
				return i
			}
		}
		return 8
	}
	at := func(m uint64) int { return bits.TrailingZeros64(m) >> 3 } // 8 when m == 0
	for c := 0; c < 256; c++ {
		for d := 0; d < 256; d += 1 + d/16 { // every value for the first byte, a spread for the second
			for pos := 0; pos < 8; pos++ {
				for pos2 := pos + 1; pos2 <= 8; pos2++ {
					buf := []byte("abcdefgh")
					buf[pos] = byte(c)
					if pos2 < 8 {
						buf[pos2] = byte(d)
					}
					w := uint64(0)
					for k := 7; k >= 0; k-- {
						w = w<<8 | uint64(buf[k])
					}
					if got, want := at(stringStops(w)), first(buf, stop); got != want {
						t.Fatalf("stringStops(%q) flags byte %d first, want %d", buf, got, want)
					}
					if got, want := at(quoteOrBackslash(w)), first(buf, quote); got != want {
						t.Fatalf("quoteOrBackslash(%q) flags byte %d first, want %d", buf, got, want)
					}
					if plain8(w) != (stringStops(w) == 0) {
						t.Fatalf("plain8(%q) = %v", buf, plain8(w))
					}
				}
			}
		}
	}
}

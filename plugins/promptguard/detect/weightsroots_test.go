package detect

import (
	"encoding/binary"
	"testing"
)

// TestHashedWeightsLookNothingLikeHeapAddresses: the hashed weights are 64 KiB of the data section, which TinyGo's
// conservative collector scans word by word as roots. Stored as plain int8 (mostly 0x00-0x03 and 0xFC-0xFF),
// 10,510 of their 16,384 little-endian words fell in the first 64 MiB of addresses, the whole heap of a VM
// (issue 15's bound), and pinned whatever block lay there; stored excess-128 (HashedByte) none may.
func TestHashedWeightsLookNothingLikeHeapAddresses(t *testing.T) {
	h := DefaultModel().Hashed
	if len(h) != 1<<HashBits {
		t.Fatalf("%d hashed weights, want %d", len(h), 1<<HashBits)
	}
	n := 0
	for i := 0; i+4 <= len(h); i += 4 {
		if binary.LittleEndian.Uint32([]byte(h[i:i+4])) < 64<<20 {
			n++
		}
	}
	if n > 16 {
		t.Errorf("%d of %d words of the hashed weights are below 64 MiB: false roots for TinyGo's collector", n, len(h)/4)
	}
	// The encoding round-trips every int8.
	for w := -128; w <= 127; w++ {
		if got := hashedWeight(HashedByte(int8(w))); got != int64(w) {
			t.Fatalf("hashedWeight(HashedByte(%d)) = %d", w, got)
		}
	}
}

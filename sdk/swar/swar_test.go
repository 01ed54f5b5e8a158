package swar

import (
	"bytes"
	"math/rand"
	"testing"
)

func TestEqualMatchesBytesEqual(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		n := r.Intn(40)
		a := make([]byte, n)
		for j := range a {
			a[j] = byte(r.Intn(3))
		}
		b := append([]byte(nil), a...)
		if n > 0 && r.Intn(2) == 0 {
			b[r.Intn(n)] ^= 1
		}
		if r.Intn(10) == 0 {
			b = append(b, 0)
		}
		if got, want := Equal(a, b), bytes.Equal(a, b); got != want {
			t.Fatalf("Equal(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
	s := []byte("the same slice")
	if !Equal(s, s) || !Equal(nil, []byte{}) || Equal(s[:4], s[1:5]) {
		t.Fatal("same-slice and empty cases")
	}
}

func TestLittleEndian(t *testing.T) {
	// every target this module builds for (wasm, amd64, arm64) is little-endian
	if !LittleEndian {
		t.Fatal("LittleEndian is false on a little-endian target")
	}
}

func FuzzEqual(f *testing.F) {
	f.Add([]byte("abcdefghij"), []byte("abcdefghij"))
	f.Add([]byte("abcdefghij"), []byte("abcdefghiJ"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if Equal(a, b) != bytes.Equal(a, b) {
			t.Fatalf("Equal(%q, %q) != bytes.Equal", a, b)
		}
	})
}

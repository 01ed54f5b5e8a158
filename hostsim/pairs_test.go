package hostsim

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

func TestPairsRoundTrip(t *testing.T) {
	cases := [][][2]string{
		nil,
		{{":method", "POST"}},
		{{"a", ""}, {"", "b"}, {"dup", "1"}, {"dup", "2"}},
		{{"k", "v\x00embedded NUL: lengths are explicit, so it survives"}},
	}
	for _, pairs := range cases {
		got, ok := DecodePairs(EncodePairs(pairs))
		if !ok || (len(pairs) > 0 && !reflect.DeepEqual(got, pairs)) || (len(pairs) == 0 && len(got) != 0) {
			t.Fatalf("round trip %q → %q %v", pairs, got, ok)
		}
	}
}

func TestDecodePairsRejectsMalformed(t *testing.T) {
	good := EncodePairs([][2]string{{"a", "b"}})
	bad := map[string][]byte{
		"short":         {1, 0},
		"count overrun": {5, 0, 0, 0},
		"len overrun":   append([]byte{1, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0}, "a\x00b\x00"...),
		"missing nul":   append([]byte{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, "axb\x00"...),
		"trailing":      append(append([]byte(nil), good...), 'x'),
		"over count": func() []byte {
			b := make([]byte, 4)
			binary.LittleEndian.PutUint32(b, maxPairsCount+1)
			return b
		}(),
	}
	for name, b := range bad {
		if _, ok := DecodePairs(b); ok {
			t.Errorf("%s: decoded", name)
		}
	}
	many := make([][2]string, maxPairsCount+1)
	for i := range many {
		many[i] = [2]string{"k", "v"}
	}
	if _, ok := DecodePairs(EncodePairs(many)); ok {
		t.Error(">1024 pairs must be rejected")
	}
	big := EncodePairs([][2]string{{"k", string(bytes.Repeat([]byte("v"), maxPairsBytes))}})
	if _, ok := DecodePairs(big); ok {
		t.Error(">1 MiB must be rejected")
	}
}

// FuzzPairs: decoding never panics; whatever decodes re-encodes to the same bytes
// (the format has exactly one encoding), and encode→decode is the identity.
func FuzzPairs(f *testing.F) {
	f.Add(EncodePairs([][2]string{{":path", "/"}, {"x", "y"}}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 255, 255, 255, 255, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, ok := DecodePairs(b)
		if !ok {
			return
		}
		if len(b) == 0 {
			return
		}
		if re := EncodePairs(pairs); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n%q\n%q", b, re)
		}
		again, ok := DecodePairs(EncodePairs(pairs))
		if !ok || !reflect.DeepEqual(again, pairs) {
			t.Fatalf("encode→decode not identity: %q vs %q", pairs, again)
		}
	})
}

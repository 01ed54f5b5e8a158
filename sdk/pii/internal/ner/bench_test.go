package ner

import (
	"strings"
	"testing"
)

var prose = strings.Repeat("The history of bridge building is a story of materials and patience. Early builders used stone arches that carried loads by compression, and many of those arches still stand after two thousand years. Iron and later steel allowed longer spans, first with trusses and then with suspension cables hung from tall towers. Engineers today model wind, traffic and temperature before a single beam is placed. ", 11)[:4096]

func BenchmarkTokenize(b *testing.B) {
	text := []byte(prose)
	var toks []Token
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		toks = Tokenize(text, toks[:0])
	}
}

func BenchmarkTag(b *testing.B) {
	text := []byte(prose)
	sc := new(Scratch)
	sc.Toks = Tokenize(text, nil)
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		DefaultModel.Tag(text, sc)
	}
}

func BenchmarkLookupGaz(b *testing.B) {
	for i := 0; i < b.N; i++ {
		lookupGaz(uint32(i) * 2654435761)
	}
}

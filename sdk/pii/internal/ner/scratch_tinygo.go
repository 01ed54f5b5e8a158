//go:build tinygo

package ner

// letGoLarge: TinyGo builds keep the kept scratch's buffers whatever their size (see keepTokens).
const letGoLarge = false

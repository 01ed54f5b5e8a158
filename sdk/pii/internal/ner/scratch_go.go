//go:build !tinygo

package ner

// letGoLarge: std Go builds let the kept scratch drop the buffers of a very large text (see keepTokens).
const letGoLarge = true

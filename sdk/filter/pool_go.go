//go:build !tinygo

package filter

// pooling is off in std Go builds: the precise collector frees a body as soon as it is garbage (pool.go).
const pooling = false

// readWindow is unused without pooling (a body is read with one host call).
const readWindow = 1 << 30

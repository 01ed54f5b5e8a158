//go:build tinygo

package filter

import "github.com/wasmguard/wasmguard/sdk/llm"

// pooling keeps body buffers between exchanges in TinyGo builds (pool.go).
const pooling = true

// readWindow is the size of one host read: the SDK allocates each read's bytes, and a block this small that a
// false root pins stays small.
const readWindow = 4 << 10

// Large decoded strings (message texts) are written into pooled buffers the exchange owns.
func init() { llm.LargeText = Lend }

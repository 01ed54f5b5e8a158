//go:build !tinygo

package body

import (
	"bytes"
	"io"

	"github.com/dsnet/compress/brotli"
)

// brotliSupported: std Go builds decode br with github.com/dsnet/compress/brotli.
const brotliSupported = true

func newBrotliReader(data []byte) (io.Reader, error) {
	return brotli.NewReader(bytes.NewReader(data), nil)
}

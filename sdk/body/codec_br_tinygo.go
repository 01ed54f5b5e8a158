//go:build tinygo

package body

import (
	"fmt"
	"io"
)

// brotliSupported: TinyGo builds do not decode br. The only brotli decoder available through go.mod
// without net/http (github.com/dsnet/compress/brotli) signals corrupt input by panic and recover, and
// TinyGo on WebAssembly cannot recover: a corrupt br body would trap the VM instead of reaching the
// filter's on_error path. Codings reports br as ErrUnsupported, so the filter decides by on_error.
const brotliSupported = false

func newBrotliReader([]byte) (io.Reader, error) {
	return nil, fmt.Errorf("%w \"br\" (not in TinyGo builds)", ErrUnsupported)
}

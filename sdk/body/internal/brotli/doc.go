// Package brotli is the decoder half of github.com/andybalholm/brotli v1.2.8 (MIT, see LICENSE), a pure
// Go port of Google's C brotli decoder.
//
// It is copied rather than imported because the upstream package also holds an HTTP helper
// (http.go) that imports net/http. Linking net/http into a proxy-wasm module pulls in the WASI import
// path_filestat_get, which Envoy (proxy-wasm-cpp-host before #533) and Kong do not provide, so the
// module would fail to load, and it adds about 2.4 MB to every filter.
//
// Files taken unchanged: reader.go decode.go state.go bit_reader.go huffman.go prefix_dec.go
// transform.go dictionary.go context.go constants.go platform.go symbol_list.go. shared.go holds the
// two definitions the decoder shares with upstream's encoder files (kBlockLengthPrefixCode, assert).
// The encoder is not included: sdk/body decodes "br" but does not encode it.
package brotli

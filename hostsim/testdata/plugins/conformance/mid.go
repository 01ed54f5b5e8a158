package main

import (
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(bufferType uint32, start, size uint32, data *byte, dataSize uint32) uint32

// setBufferMid injects in the middle of the request body (0 < start < len), which
// Envoy refuses with BAD_ARGUMENT.
func setBufferMid() error {
	b := []byte("mid")
	if st := proxySetBufferBytes(0, 1, 0, unsafe.SliceData(b), uint32(len(b))); st != 0 {
		if st == 2 {
			return types.ErrorStatusBadArgument
		}
		return types.ErrorStatusNotFound
	}
	return nil
}

//go:wasmimport env proxy_close_stream
func proxyCloseStream(streamType uint32) uint32

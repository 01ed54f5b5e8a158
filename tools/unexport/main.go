// Command unexport removes named exports from a WebAssembly module:
//
//	go run ./tools/unexport -o out.wasm in.wasm malloc free calloc realloc
//
// `make build TOOLCHAIN=tinygo` uses it on every TinyGo module. TinyGo exports wasi-libc's allocator (malloc,
// free, calloc, realloc), and its malloc keeps every block alive in a map until free is called. A proxy-wasm host
// built on proxy-wasm-cpp-host (Envoy, Istio) allocates the data it hands to the filter (headers, bodies,
// properties) with the module's malloc when one is exported, and nobody ever frees it: every body read would
// stay in linear memory for the VM's life. Without the exports the host calls proxy_on_memory_allocate, which the
// proxy-wasm Go SDK implements as an ordinary garbage-collected allocation, as it does for a std Go module (which
// exports no malloc). The functions stay in the module for wasi-libc's own use; only the exports go.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "output file (default: rewrite the input in place)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: unexport [-o out.wasm] in.wasm name...")
		os.Exit(2)
	}
	in := flag.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "unexport:", err)
		os.Exit(1)
	}
	res, removed, err := Unexport(data, flag.Args()[1:]...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "unexport: %s: %v\n", in, err)
		os.Exit(1)
	}
	if *out == "" {
		*out = in
	}
	if err := os.WriteFile(*out, res, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "unexport:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "unexport: %s: removed %v\n", *out, removed)
}

var errTruncated = errors.New("truncated module")

// Unexport returns module without the exports whose names are listed, and the names it removed (in export
// order). Everything else is copied byte for byte.
func Unexport(module []byte, names ...string) ([]byte, []string, error) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, nil, errors.New("not a WebAssembly module")
	}
	out := append([]byte(nil), module[:8]...)
	var removed []string
	for p := 8; p < len(module); {
		id := module[p]
		size, n, err := uleb(module[p+1:])
		if err != nil {
			return nil, nil, err
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(module) || end < start {
			return nil, nil, errTruncated
		}
		if id != 7 { // not the export section
			out = append(out, module[p:end]...)
			p = end
			continue
		}
		body := module[start:end]
		count, n, err := uleb(body)
		if err != nil {
			return nil, nil, err
		}
		q := n
		var kept []byte
		var keptN uint64
		for i := uint64(0); i < count; i++ {
			entry := q
			nameLen, n, err := uleb(body[q:])
			if err != nil {
				return nil, nil, err
			}
			q += n
			if q+int(nameLen) > len(body) {
				return nil, nil, errTruncated
			}
			name := string(body[q : q+int(nameLen)])
			q += int(nameLen) + 1 // name, kind byte
			if q > len(body) {
				return nil, nil, errTruncated
			}
			_, n, err = uleb(body[q:]) // index
			if err != nil {
				return nil, nil, err
			}
			q += n
			if drop[name] {
				removed = append(removed, name)
				continue
			}
			kept = append(kept, body[entry:q]...)
			keptN++
		}
		if q != len(body) {
			return nil, nil, errors.New("export section has trailing bytes")
		}
		sec := append(putUleb(nil, keptN), kept...)
		out = append(out, 7)
		out = putUleb(out, uint64(len(sec)))
		out = append(out, sec...)
		p = end
	}
	return out, removed, nil
}

func uleb(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}

func putUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

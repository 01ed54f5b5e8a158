package filter

import (
	"errors"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// Body buffers kept between exchanges (TinyGo builds; std Go builds allocate as before, see pool_go.go).
//
// TinyGo's collector scans the module's whole data section as roots, word by word, and a module's constant
// tables (Unicode ranges, weights, Go's own tables) hold thousands of words whose values fall inside the heap.
// Each one pins whatever object lies at that address. A large block freed after an exchange (a 1 MiB body read
// from the host, the buffer a response is collected in) almost always covers several such values and is never
// freed: measured on promptguard, every exchange of 1 MiB left its body and its decoded text pinned, and linear
// memory doubled until it passed 64 MiB after 7 exchanges (std Go, with a precise collector, stays flat).
// Small blocks are pinned too, but each false root pins one small block once, so that stays bounded.
//
// So in TinyGo builds the large buffers of an exchange never become garbage: the host's bodies are read in
// small windows (readWindow) into buffers taken from a per-VM pool, and every buffer an exchange took goes back
// to the pool when the exchange ends (OnHttpStreamDone). A stage must not keep a body slice (the bytes
// GetResponseBody, RequestBody.Collect and ResponseBody.Collect return) past OnDone.

// bufPool is the VM's free body buffers (wasm runs one callback at a time).
type bufPool struct {
	free  [][]byte
	bytes int // total capacity held in free
}

var pool bufPool

// poolKeepBytes bounds what the pool holds between exchanges; a buffer put beyond it is left to the
// collector.
const poolKeepBytes = 16 << 20

// get returns an empty buffer with room for n bytes: the smallest pooled one that fits, else a new one.
func (p *bufPool) get(n int) []byte {
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, 0, bufSize(n))
	}
	b := p.free[best]
	last := len(p.free) - 1
	p.free[best], p.free[last] = p.free[last], nil
	p.free = p.free[:last]
	p.bytes -= cap(b)
	return b[:0]
}

// put returns b to the pool.
func (p *bufPool) put(b []byte) {
	if cap(b) == 0 || p.bytes+cap(b) > poolKeepBytes {
		return
	}
	p.free = append(p.free, b[:0])
	p.bytes += cap(b)
}

// bufSize rounds a request up (4 KiB steps, an eighth more for a body that grows a little next time), so
// that buffers of similar sizes serve each other.
func bufSize(n int) int {
	n += n / 8
	return (n + 4<<10 - 1) &^ (4<<10 - 1)
}

// appendBody appends b to buf; in TinyGo builds a full buf moves into a larger pooled buffer and goes back to
// the pool (buf must not be shared yet).
func appendBody(buf, b []byte) []byte {
	if !pooling {
		return append(buf, b...)
	}
	return pool.append(buf, b)
}

func (p *bufPool) append(buf, b []byte) []byte {
	if len(buf)+len(b) <= cap(buf) {
		return append(buf, b...)
	}
	nb := p.get(max(len(buf)+len(b), 2*cap(buf)))
	nb = append(append(nb, buf...), b...)
	p.put(buf)
	return nb
}

// unused returns a buffer nobody else holds to the pool (TinyGo builds).
func unused(b []byte) {
	if pooling {
		pool.put(b)
	}
}

// own hands a pooled buffer to the running exchange: it goes back to the pool when the exchange ends (outside
// an exchange it is left to the collector).
func own(b []byte) {
	if x := cur; pooling && x != nil && cap(b) > 0 {
		x.owned = append(x.owned, b)
	}
}

// Lend returns an empty buffer with room for n bytes, for a large buffer a stage builds up during an exchange
// (a streamed answer's text collected over many callbacks). In TinyGo builds it is a pooled buffer the running
// exchange owns: it goes back to the pool when the exchange ends, so nothing may use it (or a string sharing it)
// past OnDone, and a buffer the stage outgrows is not reused before then (grow by doubling). In std Go builds, and
// outside an exchange, it is a new buffer. sdk/llm.LargeText is Lend in TinyGo builds.
func Lend(n int) []byte {
	if !pooling || cur == nil {
		return make([]byte, 0, n)
	}
	b := pool.get(n)
	own(b)
	return b
}

// AppendLent appends b to buf, moving into a Lend buffer twice as large (at least 16 KiB) when buf is full: a body
// or text a stage collects over several callbacks (in TinyGo builds every buffer it outgrows stays with the
// exchange until it ends, and nothing becomes garbage; OnDone's rule applies to the result).
func AppendLent(buf, b []byte) []byte {
	if len(buf)+len(b) <= cap(buf) {
		return append(buf, b...)
	}
	nb := Lend(max(len(buf)+len(b), 2*cap(buf), 16<<10))
	return append(append(nb, buf...), b...)
}

// release returns the exchange's buffers to the pool.
func (x *exchange) release() {
	x.dropChunk()
	for i, b := range x.owned {
		pool.put(b)
		x.owned[i] = nil
	}
	x.owned = x.owned[:0]
}

func isNotFound(err error) bool { return errors.Is(err, types.ErrorStatusNotFound) }

// readBody reads a host body buffer from its start: with one host call in std Go builds; in TinyGo builds in
// windows of readWindow bytes into a pooled buffer (hint: the expected size) that the caller hands to the
// exchange (own, or exchange.chunk).
func readBody(get func(start, max int) ([]byte, error), hint int) ([]byte, error) {
	if !pooling {
		return get(0, 1<<30)
	}
	return pool.readWindows(get, hint, readWindow)
}

// setChunk makes b the buffer of the current callback's response chunk: it goes back to the pool when the next
// callback starts (a stage copies what it keeps of a chunk: sdk/sse, ResponseBody). A chunk read again in the
// same callback (after a prepend) leaves the previous buffer to the exchange.
func (x *exchange) setChunk(b []byte) {
	if !pooling {
		return
	}
	if x.chunk != nil {
		own(x.chunk)
	}
	x.chunk = b
}

// keepChunk hands the current chunk's buffer to the exchange (ResponseBody returns it as the whole body).
func (x *exchange) keepChunk() {
	if x.chunk != nil {
		own(x.chunk)
		x.chunk = nil
	}
}

// dropChunk returns the previous callback's chunk buffer to the pool.
func (x *exchange) dropChunk() {
	if x.chunk != nil {
		pool.put(x.chunk)
		x.chunk = nil
	}
}

// readWindows reads a host buffer in windows of w bytes into a buffer from p. A host answers a read at the exact
// end of the buffer with no data (the SDK's ErrorStatusNotFound), which ends the body; any other error, or
// NotFound for the first window, is returned.
func (p *bufPool) readWindows(get func(start, max int) ([]byte, error), hint, w int) ([]byte, error) {
	buf := p.get(min(max(hint, w), 64<<20))
	for {
		win, err := get(len(buf), w)
		if err != nil {
			if len(buf) > 0 && isNotFound(err) {
				return buf, nil
			}
			p.put(buf)
			return nil, err
		}
		buf = p.append(buf, win)
		if len(win) < w {
			return buf, nil
		}
	}
}

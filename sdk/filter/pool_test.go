package filter

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// fakeBuffer answers get_buffer_bytes as Envoy does: a read at the exact end returns no data, which the SDK
// reports as ErrorStatusNotFound.
func fakeBuffer(body []byte, calls *int) func(start, max int) ([]byte, error) {
	return func(start, max int) ([]byte, error) {
		*calls++
		if start >= len(body) {
			return nil, types.ErrorStatusNotFound
		}
		end := min(start+max, len(body))
		return append([]byte(nil), body[start:end]...), nil
	}
}

func TestReadWindows(t *testing.T) {
	const w = 4096
	for _, n := range []int{1, 100, w - 1, w, w + 1, 2 * w, 10000, 1 << 20} {
		for _, hint := range []int{0, n, n / 2, 2 * n} {
			t.Run(fmt.Sprintf("%d/hint%d", n, hint), func(t *testing.T) {
				var p bufPool
				body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
				calls := 0
				got, err := p.readWindows(fakeBuffer(body, &calls), hint, w)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, body) {
					t.Fatalf("read %d bytes, want the %d of the body", len(got), n)
				}
				if want := n/w + 1; calls != want {
					t.Errorf("%d host calls, want %d", calls, want)
				}
			})
		}
	}
}

func TestReadWindowsErrors(t *testing.T) {
	var p bufPool
	calls := 0
	if _, err := p.readWindows(fakeBuffer(nil, &calls), 0, 4096); !errors.Is(err, types.ErrorStatusNotFound) {
		t.Errorf("empty buffer: %v, want NotFound (as one read of the whole buffer)", err)
	}
	// any other error mid-body is returned, never a truncated body
	bad := func(start, max int) ([]byte, error) {
		if start > 0 {
			return nil, types.ErrorStatusBadArgument
		}
		return make([]byte, max), nil
	}
	if b, err := p.readWindows(bad, 0, 4096); err == nil {
		t.Errorf("a host error after the first window was dropped: got %d bytes", len(b))
	}
	if len(p.free) != 1 { // both reads took the same buffer back from the pool
		t.Errorf("the buffers of failed reads are not back in the pool: %d free", len(p.free))
	}
}

func TestPoolReuse(t *testing.T) {
	var p bufPool
	a := p.get(1 << 20)
	if cap(a) < 1<<20 {
		t.Fatalf("cap %d", cap(a))
	}
	a = append(a, 'x')
	p.put(a)
	b := p.get(1000)
	if &b[:1][0] != &a[0] || len(b) != 0 {
		t.Errorf("get did not reuse the pooled buffer (len %d)", len(b))
	}
	p.put(b)
	// append moves a full buffer into a larger one and pools the old one
	small := p.get(100)
	small = append(small, bytes.Repeat([]byte{1}, cap(small))...)
	grown := p.append(small, []byte{2})
	if len(grown) != len(small)+1 || grown[len(grown)-1] != 2 || len(p.free) != 1 || cap(p.free[0]) != cap(small) {
		t.Errorf("append: len %d, %d free", len(grown), len(p.free))
	}
	// the pool keeps at most poolKeepBytes
	for i := 0; i < 20; i++ {
		p.put(make([]byte, 0, 1<<20))
	}
	if p.bytes > poolKeepBytes {
		t.Errorf("pool holds %d bytes, bound %d", p.bytes, poolKeepBytes)
	}
}

// TestAppendLent: a body collected with AppendLent keeps every byte and grows by doubling from 16 KiB, so a
// 1 MiB body takes a handful of Lend buffers (in TinyGo builds each stays with the exchange until it ends).
func TestAppendLent(t *testing.T) {
	var buf []byte
	var want bytes.Buffer
	moves := 0
	for i := 0; want.Len() < 1<<20; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 1+i%5000)
		before := cap(buf)
		buf = AppendLent(buf, chunk)
		want.Write(chunk)
		if cap(buf) != before {
			moves++
			if before > 0 && cap(buf) < 2*before {
				t.Fatalf("grew from %d to %d bytes of room (not doubling)", before, cap(buf))
			}
		}
	}
	if !bytes.Equal(buf, want.Bytes()) {
		t.Fatal("the collected bytes differ from the appended ones")
	}
	if cap(buf) < 16<<10 || moves > 8 {
		t.Errorf("%d moves to %d bytes of room for %d bytes", moves, cap(buf), len(buf))
	}
}

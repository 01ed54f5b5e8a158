package hostsim

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator backs each VM's linear memory: reserved up front where the platform can (reserveMemory), else,
// or with copying set, a Go []byte that grows by reallocation as wazero's default backing does.
func memoryAllocator(copying bool) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		if !copying {
			if m := reserveMemory(max); m != nil {
				return m
			}
		}
		return &growingMemory{buf: make([]byte, 0, capacity)}
	})
}

// growingMemory is wazero's default backing: memory.grow appends to the []byte, which reallocates and copies the
// whole memory whenever the capacity runs out.
type growingMemory struct {
	buf []byte
}

func (m *growingMemory) Reallocate(size uint64) []byte {
	if n := uint64(len(m.buf)); size > n {
		m.buf = append(m.buf, make([]byte, size-n)...)
	}
	return m.buf[:size]
}

func (m *growingMemory) Free() { m.buf = nil }

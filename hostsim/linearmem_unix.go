//go:build linux || darwin || freebsd

package hostsim

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// reservedMemory backs a VM's linear memory with one mapping of the memory's maximum size, reserved up front and
// committed by the kernel page by page as the guest touches it, as V8 and WAMR do in Envoy: memory.grow then
// changes a length and never moves or copies the memory. wazero's default backing is a Go []byte that grows by
// reallocation, so every memory.grow copies the whole linear memory (1–6 ms for a 12–28 MiB filter VM), which
// made the guest's heap growth (and the allocations that caused it) look many times costlier than in a real host.
type reservedMemory struct {
	buf []byte
}

func (m *reservedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size]
}

func (m *reservedMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}

// reserveMemory maps max bytes for one linear memory (MAP_NORESERVE: the reservation counts against no commit
// limit until pages are touched), or returns nil if the mapping fails.
func reserveMemory(max uint64) experimental.LinearMemory {
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &reservedMemory{buf: b}
}

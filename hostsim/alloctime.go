package hostsim

import "time"

// AllocSample is one call of a guest's allocator (malloc or proxy_on_memory_allocate) by the host, through which
// every host hands the guest a value (a body, a header map, a property), recorded with Config.TimeAllocations.
type AllocSample struct {
	Plugin string        // the plugin whose VM was called (the first of a shared VM's plugins on a root context)
	Size   int           // bytes asked for
	CPU    time.Duration // the calling thread's CPU time during the call (wall time where there is no thread clock)
	Grew   bool          // the call grew the VM's linear memory
}

// maxAllocSamples bounds what a Host keeps between two AllocSamples calls.
const maxAllocSamples = 1 << 20

func (h *Host) recordAlloc(s AllocSample) {
	h.allocMu.Lock()
	if len(h.allocs) < maxAllocSamples {
		h.allocs = append(h.allocs, s)
	}
	h.allocMu.Unlock()
}

// AllocSamples returns the allocator calls recorded since the last call (Config.TimeAllocations; at most 2^20
// are kept in between) and forgets them.
func (h *Host) AllocSamples() []AllocSample {
	h.allocMu.Lock()
	defer h.allocMu.Unlock()
	s := h.allocs
	h.allocs = nil
	return s
}

// TimeAllocations turns the recording of Config.TimeAllocations on or off from now on.
func (h *Host) TimeAllocations(on bool) { h.timeAllocs.Store(on) }

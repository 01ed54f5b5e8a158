package hostsim

import (
	"fmt"
	"strings"
	"sync"
)

// tracer records ABI calls in the wazero logging-listener style:
//
//	==> env.proxy_get_buffer_bytes(buffer_type=0,start=0,max_size=42,...)
//	<== status=OK
type tracer struct {
	mu    sync.Mutex
	limit int
	lines []string
}

func (t *tracer) add(line string) {
	t.mu.Lock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 2*t.limit {
		t.lines = append([]string(nil), t.lines[len(t.lines)-t.limit:]...)
	}
	t.mu.Unlock()
}

func who(v *vm) string {
	if v.worker < 0 {
		return v.p.spec.Name + "/canary"
	}
	return fmt.Sprintf("%s/w%d", v.p.spec.Name, v.worker)
}

func (t *tracer) callback(v *vm, cb cbKind, args []uint64) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	t.add(fmt.Sprintf("%s --> %s(%s)", who(v), cb, strings.Join(parts, ",")))
}

func (t *tracer) callbackRet(v *vm, cb cbKind, res uint64, has bool) {
	if has {
		t.add(fmt.Sprintf("%s <-- %s = %d", who(v), cb, uint32(res)))
	} else {
		t.add(fmt.Sprintf("%s <-- %s", who(v), cb))
	}
}

func (t *tracer) hostCall(v *vm, module, name string, sg sig, stack []uint64) {
	parts := make([]string, len(sg.params))
	for i := range sg.params {
		n := fmt.Sprint(i)
		if i < len(sg.names) {
			n = sg.names[i]
		}
		val := stack[i]
		if sg.params[i] == i32 {
			val = uint64(uint32(val))
		}
		parts[i] = fmt.Sprintf("%s=%d", n, val)
	}
	t.add(fmt.Sprintf("%s   ==> %s.%s(%s)", who(v), module, name, strings.Join(parts, ",")))
}

var statusNames = map[uint64]string{
	0: "OK", 1: "NOT_FOUND", 2: "BAD_ARGUMENT", 3: "SERIALIZATION_FAILURE", 4: "PARSE_FAILURE",
	5: "BAD_EXPRESSION", 6: "INVALID_MEMORY_ACCESS", 7: "EMPTY", 8: "CAS_MISMATCH",
	9: "RESULT_MISMATCH", 10: "INTERNAL_FAILURE", 11: "BROKEN_CONNECTION", 12: "UNIMPLEMENTED",
}

func (t *tracer) hostRet(v *vm, module string, res uint64) {
	if module == "env" {
		name, ok := statusNames[res]
		if !ok {
			name = fmt.Sprint(res)
		}
		t.add(fmt.Sprintf("%s   <== status=%s", who(v), name))
		return
	}
	t.add(fmt.Sprintf("%s   <== errno=%d", who(v), res))
}

// Trace returns the recorded ABI calls (Config.Trace), oldest first.
func (h *Host) Trace() []string {
	if h.tracer == nil {
		return nil
	}
	h.tracer.mu.Lock()
	defer h.tracer.mu.Unlock()
	lines := h.tracer.lines
	if len(lines) > h.tracer.limit {
		lines = lines[len(lines)-h.tracer.limit:]
	}
	return append([]string(nil), lines...)
}

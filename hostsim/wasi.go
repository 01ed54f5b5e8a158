package hostsim

import (
	"crypto/rand"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// WASI errno values hosts return.
const (
	errnoSuccess    = 0
	errnoBadf       = 8
	errnoFault      = 21
	errnoInval      = 28
	errnoNoent      = 44
	errnoNosys      = 52
	errnoNotdir     = 54
	errnoNotsup     = 58
	errnoNotcapable = 76
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

type sig struct {
	params  []api.ValueType
	results []api.ValueType
	names   []string
}

func s32(names ...string) sig {
	p := make([]api.ValueType, len(names))
	for i := range p {
		p[i] = i32
	}
	return sig{params: p, results: []api.ValueType{i32}, names: names}
}

func sigT(params []api.ValueType, names ...string) sig {
	return sig{params: params, results: []api.ValueType{i32}, names: names}
}

// wasiSigs lists every wasip1 function with its signature.
var wasiSigs = map[string]sig{
	"args_get":                s32("argv", "argv_buf"),
	"args_sizes_get":          s32("result.argc", "result.argv_len"),
	"environ_get":             s32("environ", "environ_buf"),
	"environ_sizes_get":       s32("result.environc", "result.environv_len"),
	"clock_res_get":           s32("id", "result.resolution"),
	"clock_time_get":          sigT([]api.ValueType{i32, i64, i32}, "id", "precision", "result.timestamp"),
	"fd_advise":               sigT([]api.ValueType{i32, i64, i64, i32}, "fd", "offset", "len", "advice"),
	"fd_allocate":             sigT([]api.ValueType{i32, i64, i64}, "fd", "offset", "len"),
	"fd_close":                s32("fd"),
	"fd_datasync":             s32("fd"),
	"fd_fdstat_get":           s32("fd", "result.stat"),
	"fd_fdstat_set_flags":     s32("fd", "flags"),
	"fd_fdstat_set_rights":    sigT([]api.ValueType{i32, i64, i64}, "fd", "fs_rights_base", "fs_rights_inheriting"),
	"fd_filestat_get":         s32("fd", "result.filestat"),
	"fd_filestat_set_size":    sigT([]api.ValueType{i32, i64}, "fd", "size"),
	"fd_filestat_set_times":   sigT([]api.ValueType{i32, i64, i64, i32}, "fd", "atim", "mtim", "fst_flags"),
	"fd_pread":                sigT([]api.ValueType{i32, i32, i32, i64, i32}, "fd", "iovs", "iovs_len", "offset", "result.nread"),
	"fd_prestat_get":          s32("fd", "result.prestat"),
	"fd_prestat_dir_name":     s32("fd", "path", "path_len"),
	"fd_pwrite":               sigT([]api.ValueType{i32, i32, i32, i64, i32}, "fd", "iovs", "iovs_len", "offset", "result.nwritten"),
	"fd_read":                 s32("fd", "iovs", "iovs_len", "result.nread"),
	"fd_readdir":              sigT([]api.ValueType{i32, i32, i32, i64, i32}, "fd", "buf", "buf_len", "cookie", "result.bufused"),
	"fd_renumber":             s32("fd", "to"),
	"fd_seek":                 sigT([]api.ValueType{i32, i64, i32, i32}, "fd", "offset", "whence", "result.newoffset"),
	"fd_sync":                 s32("fd"),
	"fd_tell":                 s32("fd", "result.offset"),
	"fd_write":                s32("fd", "iovs", "iovs_len", "result.nwritten"),
	"path_create_directory":   s32("fd", "path", "path_len"),
	"path_filestat_get":       s32("fd", "flags", "path", "path_len", "result.filestat"),
	"path_filestat_set_times": sigT([]api.ValueType{i32, i32, i32, i32, i64, i64, i32}, "fd", "flags", "path", "path_len", "atim", "mtim", "fst_flags"),
	"path_link":               s32("old_fd", "old_flags", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"),
	"path_open":               sigT([]api.ValueType{i32, i32, i32, i32, i32, i64, i64, i32, i32}, "fd", "dirflags", "path", "path_len", "oflags", "fs_rights_base", "fs_rights_inheriting", "fdflags", "result.opened_fd"),
	"path_readlink":           s32("fd", "path", "path_len", "buf", "buf_len", "result.bufused"),
	"path_remove_directory":   s32("fd", "path", "path_len"),
	"path_rename":             s32("fd", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"),
	"path_symlink":            s32("old_path", "old_path_len", "fd", "new_path", "new_path_len"),
	"path_unlink_file":        s32("fd", "path", "path_len"),
	"poll_oneoff":             s32("in", "out", "nsubscriptions", "result.nevents"),
	"proc_exit":               {params: []api.ValueType{i32}, names: []string{"rval"}},
	"proc_raise":              s32("sig"),
	"random_get":              s32("buf", "buf_len"),
	"sched_yield":             s32(),
	"sock_accept":             s32("fd", "flags", "result.fd"),
	"sock_recv":               s32("fd", "ri_data", "ri_data_len", "ri_flags", "result.ro_datalen", "result.ro_flags"),
	"sock_send":               s32("fd", "si_data", "si_data_len", "si_flags", "result.so_datalen"),
	"sock_shutdown":           s32("fd", "how"),
}

// wasiAllowedInit is Envoy's restricted set during _initialize (#427 era); #533 adds
// clock_res_get, poll_oneoff and every fd/path/sock stub.
var wasiAllowedInit = map[string]bool{
	"proxy_log": true, "emscripten_notify_memory_growth": true, "fd_write": true,
	"args_sizes_get": true, "args_get": true, "environ_sizes_get": true, "environ_get": true,
	"clock_time_get": true, "random_get": true, "fd_fdstat_get": true, "fd_fdstat_set_flags": true,
	"fd_prestat_get": true, "fd_prestat_dir_name": true,
}

// wasiAllowedAlloc is Envoy's restricted set inside proxy_on_memory_allocate (#533 adds
// poll_oneoff).
var wasiAllowedAlloc = map[string]bool{"proxy_log": true, "fd_write": true, "clock_time_get": true}

func (v *vm) allowed(name string) bool {
	full := v.h.cfg.Profile == ProfileEnvoyFullWASI
	switch v.restrict {
	case restrictInit:
		if wasiAllowedInit[name] {
			return true
		}
		if full {
			if name == "clock_res_get" || name == "poll_oneoff" ||
				strings.HasPrefix(name, "fd_") || strings.HasPrefix(name, "path_") || strings.HasPrefix(name, "sock_") {
				return true
			}
		}
		return false
	case restrictAlloc:
		return wasiAllowedAlloc[name] || (full && name == "poll_oneoff")
	}
	return true
}

// wasiImpl implements one WASI function for the VM's profile; results in stack[0].
func (h *Host) wasiImpl(name string) func(v *vm, stack []uint64) {
	kong := h.cfg.Profile.isKong()
	full := h.cfg.Profile == ProfileEnvoyFullWASI
	ret := func(errno uint32) func(v *vm, stack []uint64) {
		return func(_ *vm, stack []uint64) { stack[0] = uint64(errno) }
	}
	switch name {
	case "args_get":
		return ret(errnoSuccess)
	case "args_sizes_get":
		return func(v *vm, stack []uint64) {
			if !v.writeU32(uint32(stack[0]), 0) || !v.writeU32(uint32(stack[1]), 0) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "environ_sizes_get":
		return func(v *vm, stack []uint64) {
			env := v.h.environ()
			size := 0
			for _, e := range env {
				size += len(e) + 1
			}
			if !v.writeU32(uint32(stack[0]), uint32(len(env))) || !v.writeU32(uint32(stack[1]), uint32(size)) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "environ_get":
		return func(v *vm, stack []uint64) {
			ptrs, buf := uint32(stack[0]), uint32(stack[1])
			for i, e := range v.h.environ() {
				if !v.writeU32(ptrs+4*uint32(i), buf) || !v.mem.Write(buf, append([]byte(e), 0)) {
					stack[0] = errnoFault
					return
				}
				buf += uint32(len(e) + 1)
			}
			stack[0] = errnoSuccess
		}
	case "clock_time_get":
		return func(v *vm, stack []uint64) {
			id := uint32(stack[0])
			var ns int64
			switch id {
			case 0:
				ns = v.h.now().UnixNano()
			case 1:
				ns = v.h.monotonic()
				if kong { // Kong's monotonic clock has millisecond resolution
					ns -= ns % 1_000_000
				}
			default:
				stack[0] = errnoNotsup
				return
			}
			if !v.writeU64(uint32(stack[2]), uint64(ns)) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "clock_res_get":
		return func(v *vm, stack []uint64) {
			if uint32(stack[0]) > 1 {
				stack[0] = errnoNotsup
				return
			}
			if !v.writeU64(uint32(stack[1]), 1) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "fd_write", "fd_pwrite":
		pwrite := name == "fd_pwrite"
		return func(v *vm, stack []uint64) {
			fd := uint32(stack[0])
			iovs, n := uint32(stack[1]), uint32(stack[2])
			resultPtr := uint32(stack[3])
			if pwrite {
				resultPtr = uint32(stack[4])
			}
			if fd != 1 && fd != 2 {
				stack[0] = errnoBadf
				return
			}
			var msg []byte
			for i := uint32(0); i < n; i++ {
				iov, ok := v.read(iovs+8*i, 8)
				if !ok {
					stack[0] = errnoFault
					return
				}
				b, ok := v.read(le32(iov), le32(iov[4:]))
				if !ok {
					stack[0] = errnoFault
					return
				}
				msg = append(msg, b...)
			}
			v.writeStd(fd, msg)
			if !v.writeU32(resultPtr, uint32(len(msg))) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "fd_read":
		if kong {
			return ret(errnoBadf)
		}
		return ret(errnoNosys)
	case "fd_seek", "fd_close":
		if kong {
			return ret(errnoBadf)
		}
		return func(v *vm, stack []uint64) {
			v.log(LogEntry{Level: LogError, Message: "wasi " + name + " is not supported", Source: "hostsim"})
			stack[0] = errnoSuccess
		}
	case "fd_fdstat_get":
		if kong {
			return ret(errnoBadf)
		}
		return func(v *vm, stack []uint64) {
			fd := uint32(stack[0])
			if fd != 1 && fd != 2 {
				stack[0] = errnoBadf
				return
			}
			// fdstat: filetype u8, flags u16, rights_base u64, rights_inheriting u64 (24 bytes)
			var st [24]byte
			st[8] = 64 // FD_WRITE
			if !v.mem.Write(uint32(stack[1]), st[:]) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	case "fd_fdstat_set_flags":
		if kong {
			return ret(errnoBadf)
		}
		return ret(errnoNosys)
	case "fd_prestat_get":
		return ret(errnoBadf)
	case "fd_prestat_dir_name":
		if kong {
			return ret(errnoNotsup)
		}
		return ret(errnoNosys)
	case "path_open":
		if kong {
			return ret(errnoNotdir)
		}
		return ret(errnoNoent)
	case "random_get":
		return func(v *vm, stack []uint64) {
			n := uint32(stack[1])
			if !kong && n > 64<<10 {
				stack[0] = errnoInval
				return
			}
			buf, ok := v.read(uint32(stack[0]), n)
			if !ok {
				stack[0] = errnoFault
				return
			}
			_, _ = rand.Read(buf)
			stack[0] = errnoSuccess
		}
	case "proc_exit":
		if kong {
			return func(v *vm, stack []uint64) { trap("host trap (function not yet implemented): proc_exit") }
		}
		// Envoy only logs and returns; the Go runtime then reaches `unreachable`.
		return func(v *vm, stack []uint64) {
			v.log(LogEntry{Level: LogTrace, Message: "wasi_unstable proc_exit", Source: "hostsim"})
		}
	case "sched_yield":
		if kong {
			return ret(errnoNotsup)
		}
		return ret(errnoSuccess)
	case "poll_oneoff":
		if kong {
			return ret(errnoNotsup)
		}
		if !full {
			return ret(errnoNosys) // cpp-host #427: nevents not written
		}
		return func(v *vm, stack []uint64) {
			if !v.writeU32(uint32(stack[3]), 0) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}
	// cpp-host #533 stubs
	case "fd_advise":
		return ret(errnoSuccess)
	case "fd_allocate", "fd_datasync", "fd_sync", "fd_fdstat_set_rights", "fd_filestat_set_size", "fd_filestat_set_times":
		return func(v *vm, stack []uint64) {
			if fd := uint32(stack[0]); fd == 1 || fd == 2 {
				stack[0] = errnoSuccess
				return
			}
			stack[0] = errnoBadf
		}
	case "fd_pread":
		return ret(errnoNosys)
	case "fd_readdir":
		return func(v *vm, stack []uint64) {
			v.writeU32(uint32(stack[4]), 0)
			stack[0] = errnoNotdir
		}
	case "fd_renumber":
		return ret(errnoBadf)
	case "fd_tell":
		return func(v *vm, stack []uint64) {
			if fd := uint32(stack[0]); fd == 1 || fd == 2 {
				v.writeU64(uint32(stack[1]), 0)
				stack[0] = errnoSuccess
				return
			}
			stack[0] = errnoBadf
		}
	case "fd_filestat_get":
		return ret(errnoBadf)
	case "proc_raise":
		return ret(errnoNosys)
	case "sock_accept":
		return func(v *vm, stack []uint64) { v.writeU32(uint32(stack[2]), 0); stack[0] = errnoNotsup }
	case "sock_recv":
		return func(v *vm, stack []uint64) {
			v.writeU32(uint32(stack[4]), 0)
			v.mem.WriteUint16Le(uint32(stack[5]), 0)
			stack[0] = errnoNotsup
		}
	case "sock_send":
		return func(v *vm, stack []uint64) { v.writeU32(uint32(stack[4]), 0); stack[0] = errnoNotsup }
	}
	// path_* and sock_shutdown
	return ret(errnoNotsup)
}

// writeStd turns writes to fd 1/2 into log entries, one per line (fd 1 → info,
// fd 2 → error). Envoy logs every fd_write call as its own line, which splits a Go
// panic into hundreds of fragments; hostsim joins the fragments into lines instead.
func (v *vm) writeStd(fd uint32, msg []byte) {
	buf := append(v.lineBuf[fd], msg...)
	for {
		i := bytesIndexNL(buf)
		if i < 0 {
			break
		}
		v.emitStd(fd, string(buf[:i]))
		buf = buf[i+1:]
	}
	if len(buf) > 64<<10 { // never hold an unbounded partial line
		v.emitStd(fd, string(buf))
		buf = nil
	}
	v.lineBuf[fd] = append(v.lineBuf[fd][:0], buf...)
}

func bytesIndexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// flushStd emits partial lines left at the end of a call.
func (v *vm) flushStd() {
	for fd := 1; fd <= 2; fd++ {
		if len(v.lineBuf[fd]) > 0 {
			v.emitStd(uint32(fd), string(v.lineBuf[fd]))
			v.lineBuf[fd] = v.lineBuf[fd][:0]
		}
	}
}

func (v *vm) emitStd(fd uint32, line string) {
	level, src := LogInfo, "stdout"
	if fd == 2 {
		level, src = LogError, "stderr"
		if len(v.stderr) < 32 {
			v.stderr = append(v.stderr, line)
		}
	}
	v.log(LogEntry{Level: level, Message: line, Source: src})
}

func (h *Host) environ() []string {
	if h.env == nil {
		keys := make([]string, 0, len(h.cfg.Env))
		for k := range h.cfg.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		env := make([]string, 0, len(keys))
		for _, k := range keys {
			env = append(env, k+"="+h.cfg.Env[k])
		}
		h.env = env
	}
	return h.env
}

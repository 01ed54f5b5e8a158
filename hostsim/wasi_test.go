package hostsim

import (
	"strings"
	"testing"
)

// TestWASIErrnoPerProfile calls WASI functions from a hand-assembled module and checks
// the errno each host returns (notes §10.1).
func TestWASIErrnoPerProfile(t *testing.T) {
	type wcall struct {
		name string
		fn   string
		args []byte // pushes the arguments
		want map[Profile]uint32
	}
	all := func(e uint32) map[Profile]uint32 {
		return map[Profile]uint32{ProfileEnvoy: e, ProfileEnvoyFullWASI: e, ProfileKong: e}
	}
	per := func(envoy, full, kong uint32) map[Profile]uint32 {
		return map[Profile]uint32{ProfileEnvoy: envoy, ProfileEnvoyFullWASI: full, ProfileKong: kong}
	}
	calls := []wcall{
		{"poll_oneoff", "poll_oneoff", cat(i32c(0), i32c(64), i32c(1), i32c(128)), per(errnoNosys, errnoSuccess, errnoNotsup)},
		{"sched_yield", "sched_yield", nil, per(errnoSuccess, errnoSuccess, errnoNotsup)},
		{"fd_prestat_get(3)", "fd_prestat_get", cat(i32c(3), i32c(64)), all(errnoBadf)},
		{"fd_fdstat_set_flags", "fd_fdstat_set_flags", cat(i32c(1), i32c(0)), per(errnoNosys, errnoNosys, errnoBadf)},
		{"fd_read", "fd_read", cat(i32c(0), i32c(64), i32c(1), i32c(128)), per(errnoNosys, errnoNosys, errnoBadf)},
		{"fd_fdstat_get(1)", "fd_fdstat_get", cat(i32c(1), i32c(256)), per(errnoSuccess, errnoSuccess, errnoBadf)},
		{"fd_write(3)", "fd_write", cat(i32c(3), i32c(64), i32c(0), i32c(128)), all(errnoBadf)},
		{"path_open", "path_open", cat(i32c(3), i32c(0), i32c(0), i32c(1), i32c(0), i64c(0), i64c(0), i32c(0), i32c(128)), per(errnoNoent, errnoNoent, errnoNotdir)},
		{"random_get 100 KiB", "random_get", cat(i32c(28000), i32c(100<<10)), per(errnoInval, errnoInval, errnoSuccess)},
		{"random_get 16 B", "random_get", cat(i32c(28000), i32c(16)), all(errnoSuccess)},
		{"clock_time_get(realtime)", "clock_time_get", cat(i32c(0), i64c(0), i32c(256)), all(errnoSuccess)},
		{"clock_time_get(5)", "clock_time_get", cat(i32c(5), i64c(0), i32c(256)), all(errnoNotsup)},
		{"environ_sizes_get", "environ_sizes_get", cat(i32c(256), i32c(260)), all(errnoSuccess)},
		{"args_sizes_get bad pointer", "args_sizes_get", cat(i32c(0x7ffffff0), i32c(0)), all(errnoFault)},
	}
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			idx := map[string]uint32{}
			wasm := proxyModule(func(m *modBuilder) {
				for _, c := range calls {
					if _, ok := idx[c.fn]; ok {
						continue
					}
					sg := wasiSigs[c.fn]
					params := make([]byte, len(sg.params))
					for i, v := range sg.params {
						params[i] = byte(v)
					}
					idx[c.fn] = m.importFunc("wasi_snapshot_preview1", c.fn, params, i32s(1))
				}
			}, func() []byte {
				var b []byte
				for i, c := range calls {
					b = append(b, storeResult(int64(2048+4*i), cat(c.args, call(idx[c.fn])))...)
				}
				return b
			})
			h := New(t, Config{Profile: p, Workers: 1, Env: map[string]string{"A": "1"}, Plugins: []PluginSpec{{Name: "wasi", Wasm: wasm}}})
			if res := h.Do(Request{}, Response{}); res.Trapped {
				t.Fatalf("trapped: %v", res.Traps)
			}
			mem := h.workers[0].vms[0].mem
			for i, c := range calls {
				got, _ := mem.ReadUint32Le(uint32(2048 + 4*i))
				if got != c.want[p] {
					t.Errorf("%s: errno %d, want %d", c.name, got, c.want[p])
				}
			}
			if n, _ := mem.ReadUint32Le(256); n != 1 {
				t.Errorf("environ count = %d, want 1 (Config.Env)", n)
			}
		})
	}
}

// TestWASIImportSets: clock_res_get exists only with cpp-host #533.
func TestWASIImportSets(t *testing.T) {
	wasm := proxyModule(func(m *modBuilder) { m.importFunc("wasi_snapshot_preview1", "clock_res_get", i32s(2), i32s(1)) }, nil)
	for _, tc := range []struct {
		p    Profile
		load bool
	}{{ProfileEnvoy, false}, {ProfileEnvoyFullWASI, true}, {ProfileKong, false}} {
		h, err := Start(Config{Profile: tc.p, Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
		if (err == nil) != tc.load {
			t.Fatalf("%s: err = %v", tc.p, err)
		}
		if err != nil && !strings.Contains(err.Error(), "wasi_snapshot_preview1.clock_res_get") {
			t.Fatalf("%s: %v", tc.p, err)
		}
		if h != nil {
			h.Close()
		}
	}
	// wasi_unstable is registered too.
	wasm = proxyModule(func(m *modBuilder) { m.importFunc("wasi_unstable", "fd_write", i32s(4), i32s(1)) }, nil)
	h, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
	if err != nil {
		t.Fatalf("wasi_unstable: %v", err)
	}
	h.Close()
}

package hostsim

import (
	"strings"
	"testing"
)

// TestABIEdgeCases drives host functions with bad pointers, out-of-range sizes, unknown
// types and ids from a hand-assembled module and checks the statuses Envoy returns.
func TestABIEdgeCases(t *testing.T) {
	var fLog, fPairs, fBuf, fEff, fCont, fDone, fIncr, fShared, fProp, fSetBuf uint32
	imports := func(m *modBuilder) {
		fLog = m.importFunc("env", "proxy_log", i32s(3), i32s(1))
		fPairs = m.importFunc("env", "proxy_get_header_map_pairs", i32s(3), i32s(1))
		fBuf = m.importFunc("env", "proxy_get_buffer_bytes", i32s(5), i32s(1))
		fEff = m.importFunc("env", "proxy_set_effective_context", i32s(1), i32s(1))
		fCont = m.importFunc("env", "proxy_continue_stream", i32s(1), i32s(1))
		fDone = m.importFunc("env", "proxy_done", nil, i32s(1))
		fIncr = m.importFunc("env", "proxy_increment_metric", []byte{vI32, vI64}, i32s(1))
		fShared = m.importFunc("env", "proxy_get_shared_data", i32s(5), i32s(1))
		fProp = m.importFunc("env", "proxy_get_property", i32s(4), i32s(1))
		fSetBuf = m.importFunc("env", "proxy_set_buffer_bytes", i32s(5), i32s(1))
	}
	const far = 0x7ffffff0 // far outside 2 pages of memory
	type probe struct {
		name string
		code []byte
		want uint32
	}
	mkProbes := func() []probe {
		return []probe{
			{"log bad pointer", cat(i32c(2), i32c(far), i32c(100), call(fLog)), statusInvalidMemoryAccess},
			{"log bad level", cat(i32c(9), i32c(0), i32c(1), call(fLog)), statusBadArgument},
			{"log ok", cat(i32c(2), i32c(0), i32c(4), call(fLog)), statusOK},
			{"pairs bad map type", cat(i32c(99), i32c(64), i32c(68), call(fPairs)), statusBadArgument},
			{"pairs bad return pointer", cat(i32c(0), i32c(far), i32c(68), call(fPairs)), statusInvalidMemoryAccess},
			{"pairs ok", cat(i32c(0), i32c(64), i32c(68), call(fPairs)), statusOK},
			{"buffer bad type", cat(i32c(99), i32c(0), i32c(10), i32c(64), i32c(68), call(fBuf)), statusBadArgument},
			{"buffer call body outside callout", cat(i32c(4), i32c(0), i32c(10), i32c(64), i32c(68), call(fBuf)), statusNotFound},
			{"buffer plugin config outside configure", cat(i32c(7), i32c(0), i32c(10), i32c(64), i32c(68), call(fBuf)), statusNotFound},
			{"set buffer immutable", cat(i32c(6), i32c(0), i32c(0), i32c(0), i32c(1), call(fSetBuf)), statusBadArgument},
			{"effective unknown context", cat(i32c(777), call(fEff)), statusBadArgument},
			{"continue bad stream type", cat(i32c(9), call(fCont)), statusBadArgument},
			{"continue upstream unimplemented", cat(i32c(3), call(fCont)), statusUnimplemented},
			{"done without pending", call(fDone), statusNotFound},
			{"increment unknown metric", cat(i32c(12345), i64c(1), call(fIncr)), statusNotFound},
			{"shared data missing", cat(i32c(0), i32c(3), i32c(64), i32c(68), i32c(72), call(fShared)), statusNotFound},
			{"property path out of range", cat(i32c(0), i32c(far), i32c(64), i32c(68), call(fProp)), statusInvalidMemoryAccess},
			{"property missing", cat(i32c(0), i32c(3), i32c(64), i32c(68), call(fProp)), statusNotFound},
			// allocation failure: the allocator returns 0 ⇒ INVALID_MEMORY_ACCESS
			{"allocation failure", cat(storeResult(8, i32c(0)), i32c(0), i32c(64), i32c(68), call(fPairs)), statusInvalidMemoryAccess},
		}
	}
	var probes []probe
	wasm := proxyModule(imports, func() []byte {
		probes = mkProbes() // after the imports got their indices
		var b []byte
		for i, p := range probes {
			b = append(b, storeResult(int64(1024+4*i), p.code)...)
		}
		return b
	})
	h := New(t, Config{Workers: 1, Plugins: []PluginSpec{{Name: "edge", Wasm: wasm}}})
	res := h.Do(Request{Headers: [][2]string{{"x", "y"}}}, Response{})
	if res.Trapped {
		t.Fatalf("trapped: %v", res.Traps)
	}
	mem := h.workers[0].vms[0].mem
	for i, p := range probes {
		got, _ := mem.ReadUint32Le(uint32(1024 + 4*i))
		if got != p.want {
			t.Errorf("%s: status %d, want %d", p.name, got, p.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no ABI export", func(t *testing.T) {
		m := &modBuilder{}
		m.fn("proxy_on_memory_allocate", i32s(1), i32s(1), i32c(0))
		_, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: m.bytes()}}})
		if err == nil || !strings.Contains(err.Error(), "proxy-wasm ABI version") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown host function", func(t *testing.T) {
		wasm := proxyModule(func(m *modBuilder) { m.importFunc("env", "proxy_does_not_exist", nil, i32s(1)) }, nil)
		_, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
		if err == nil || !strings.Contains(err.Error(), "env.proxy_does_not_exist") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("import type mismatch", func(t *testing.T) {
		wasm := proxyModule(func(m *modBuilder) { m.importFunc("env", "proxy_log", i32s(2), i32s(1)) }, nil)
		_, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
		if err == nil || !strings.Contains(err.Error(), "import type mismatch: env.proxy_log") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("get_log_level needs ABI 0.2.1 on Envoy, registered (NYI) on Kong", func(t *testing.T) {
		var f uint32
		wasm := proxyModule(func(m *modBuilder) { f = m.importFunc("env", "proxy_get_log_level", i32s(1), i32s(1)) },
			func() []byte { return cat(i32c(64), call(f), opDrop) })
		_, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
		if err == nil || !strings.Contains(err.Error(), "env.proxy_get_log_level") {
			t.Fatalf("envoy: err = %v", err)
		}
		h := New(t, Config{Profile: ProfileKong, Plugins: []PluginSpec{{Name: "x", Wasm: wasm}}})
		res := h.Do(Request{}, Response{})
		if !res.Trapped || !strings.Contains(res.Traps[0], "function not yet implemented") {
			t.Fatalf("kong: calling an NYI function must trap: %+v", res.Traps)
		}
	})
	t.Run("missing memory", func(t *testing.T) {
		m := &modBuilder{noMem: true}
		m.fn("proxy_abi_version_0_2_0", nil, nil)
		m.fn("proxy_on_memory_allocate", i32s(1), i32s(1), i32c(0))
		_, err := Start(Config{Plugins: []PluginSpec{{Name: "x", Wasm: m.bytes()}}})
		if err == nil || !strings.Contains(err.Error(), "memory") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRestrictedDuringAllocation: Envoy allows only a few host calls inside
// proxy_on_memory_allocate; anything else traps (restricted_callback).
func TestRestrictedDuringAllocation(t *testing.T) {
	var fPairs, fShared uint32
	m := &modBuilder{}
	fPairs = m.importFunc("env", "proxy_get_header_map_pairs", i32s(3), i32s(1))
	fShared = m.importFunc("env", "proxy_get_shared_data", i32s(5), i32s(1))
	m.fn("proxy_abi_version_0_2_0", nil, nil)
	// the allocator itself calls a host function that is not allowed there
	m.fn("proxy_on_memory_allocate", i32s(1), i32s(1), cat(i32c(0), i32c(3), i32c(64), i32c(68), i32c(72), call(fShared), opDrop), i32c(4096))
	m.fn("proxy_on_context_create", i32s(2), nil)
	m.fn("proxy_on_vm_start", i32s(2), i32s(1), i32c(1))
	m.fn("proxy_on_configure", i32s(2), i32s(1), i32c(1))
	m.fn("proxy_on_request_headers", i32s(3), i32s(1), cat(i32c(0), i32c(64), i32c(68), call(fPairs), opDrop), i32c(0))
	m.fn("proxy_on_log", i32s(1), nil)
	m.fn("proxy_on_done", i32s(1), i32s(1), i32c(1))
	m.fn("proxy_on_delete", i32s(1), nil)
	h := New(t, Config{Workers: 1, Plugins: []PluginSpec{{Name: "alloc", Wasm: m.bytes()}}})
	res := h.Do(Request{}, Response{})
	if !res.Trapped || !strings.Contains(res.Traps[0], "restricted_callback") || !strings.Contains(res.Traps[0], "proxy_get_shared_data") {
		t.Fatalf("traps = %v", res.Traps)
	}
}

// TestAllocatorMallocPreferred: a module exporting both malloc and proxy_on_memory_allocate gets host-allocated
// results from malloc on every profile, as proxy-wasm-cpp-host (Envoy) and ngx_wasm_module (Kong) do. hostsim
// used to call proxy_on_memory_allocate, which hid the leak of TinyGo's exported malloc (tools/unexport).
func TestAllocatorMallocPreferred(t *testing.T) {
	for _, profile := range []Profile{ProfileEnvoy, ProfileKong} {
		t.Run(string(profile), func(t *testing.T) {
			var fPairs uint32
			m := &modBuilder{}
			fPairs = m.importFunc("env", "proxy_get_header_map_pairs", i32s(3), i32s(1))
			m.fn("proxy_abi_version_0_2_0", nil, nil)
			m.fn("malloc", i32s(1), i32s(1), i32c(8192))
			m.fn("proxy_on_memory_allocate", i32s(1), i32s(1), i32c(4096))
			m.fn("proxy_on_context_create", i32s(2), nil)
			m.fn("proxy_on_vm_start", i32s(2), i32s(1), i32c(1))
			m.fn("proxy_on_configure", i32s(2), i32s(1), i32c(1))
			m.fn("proxy_on_request_headers", i32s(3), i32s(1), cat(i32c(0), i32c(64), i32c(68), call(fPairs), opDrop), i32c(0))
			m.fn("proxy_on_log", i32s(1), nil)
			m.fn("proxy_on_done", i32s(1), i32s(1), i32c(1))
			m.fn("proxy_on_delete", i32s(1), nil)
			h := New(t, Config{Workers: 1, Profile: profile, Plugins: []PluginSpec{{Name: "alloc", Wasm: m.bytes()}}})
			res := h.Do(Request{Headers: [][2]string{{"x", "y"}}}, Response{})
			if res.Trapped {
				t.Fatalf("trapped: %v", res.Traps)
			}
			rep, err := CheckModule(m.bytes())
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range rep.Profiles {
				if pr.Profile == profile && !strings.Contains(strings.Join(pr.Warnings, "\n"), "exports malloc") {
					t.Errorf("hostsim check does not warn about the exported malloc: %+v", pr)
				}
			}
			got, _ := h.workers[0].vms[0].mem.ReadUint32Le(64)
			if got != 8192 {
				t.Fatalf("header map written at %d, want 8192 (malloc's block), not proxy_on_memory_allocate's 4096", got)
			}
		})
	}
}

package hostsim

// A minimal WebAssembly binary writer for hand-assembled ABI edge-case modules (we do
// not commit .wasm files, so tests build them as bytes).

const (
	vI32 = 0x7f
	vI64 = 0x7e
)

type wasmFunc struct {
	typ    uint32
	body   []byte
	export string
}

type wasmImport struct {
	module, name string
	typ          uint32
}

type modBuilder struct {
	types   [][2][]byte
	imports []wasmImport
	funcs   []wasmFunc
	noMem   bool
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func wname(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func (m *modBuilder) typeIdx(params, results []byte) uint32 {
	for i, t := range m.types {
		if string(t[0]) == string(params) && string(t[1]) == string(results) {
			return uint32(i)
		}
	}
	m.types = append(m.types, [2][]byte{params, results})
	return uint32(len(m.types) - 1)
}

// importFunc adds an imported function; call it before adding functions.
func (m *modBuilder) importFunc(module, name string, params, results []byte) uint32 {
	m.imports = append(m.imports, wasmImport{module, name, m.typeIdx(params, results)})
	return uint32(len(m.imports) - 1)
}

// fn adds a function (exported when export != "") and returns its index.
func (m *modBuilder) fn(export string, params, results []byte, body ...[]byte) uint32 {
	var code []byte
	for _, b := range body {
		code = append(code, b...)
	}
	m.funcs = append(m.funcs, wasmFunc{typ: m.typeIdx(params, results), body: code, export: export})
	return uint32(len(m.imports) + len(m.funcs) - 1)
}

func section(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(content)))...), content...)
}

func vec(n int, items []byte) []byte { return append(uleb(uint64(n)), items...) }

func (m *modBuilder) bytes() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	var ts []byte
	for _, t := range m.types {
		ts = append(ts, 0x60)
		ts = append(ts, vec(len(t[0]), t[0])...)
		ts = append(ts, vec(len(t[1]), t[1])...)
	}
	out = append(out, section(1, vec(len(m.types), ts))...)
	var is []byte
	for _, im := range m.imports {
		is = append(is, wname(im.module)...)
		is = append(is, wname(im.name)...)
		is = append(is, 0x00)
		is = append(is, uleb(uint64(im.typ))...)
	}
	out = append(out, section(2, vec(len(m.imports), is))...)
	var fs []byte
	for _, f := range m.funcs {
		fs = append(fs, uleb(uint64(f.typ))...)
	}
	out = append(out, section(3, vec(len(m.funcs), fs))...)
	if !m.noMem {
		out = append(out, section(5, vec(1, []byte{0x00, 0x02}))...) // 2 pages
	}
	var es []byte
	n := 0
	for i, f := range m.funcs {
		if f.export != "" {
			es = append(es, wname(f.export)...)
			es = append(es, 0x00)
			es = append(es, uleb(uint64(len(m.imports)+i))...)
			n++
		}
	}
	if !m.noMem {
		es = append(es, wname("memory")...)
		es = append(es, 0x02, 0x00)
		n++
	}
	out = append(out, section(7, vec(n, es))...)
	var cs []byte
	for _, f := range m.funcs {
		body := append([]byte{0x00}, f.body...) // no locals
		body = append(body, 0x0b)
		cs = append(cs, uleb(uint64(len(body)))...)
		cs = append(cs, body...)
	}
	out = append(out, section(10, vec(len(m.funcs), cs))...)
	return out
}

// instructions
func i32c(v int64) []byte    { return append([]byte{0x41}, sleb(v)...) }
func i64c(v int64) []byte    { return append([]byte{0x42}, sleb(v)...) }
func call(idx uint32) []byte { return append([]byte{0x10}, uleb(uint64(idx))...) }

var (
	opDrop     = []byte{0x1a}
	opI32Store = []byte{0x36, 0x02, 0x00}
	opI32Load  = []byte{0x28, 0x02, 0x00}
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// storeResult stores the i32 result of expr at addr.
func storeResult(addr int64, expr []byte) []byte { return cat(i32c(addr), expr, opI32Store) }

func i32s(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = vI32
	}
	return b
}

// proxyModule returns a builder with the proxy-wasm callback exports a host needs
// (ABI 0.2.0): allocation at a bump address read from memory[8], contexts that do
// nothing. Extra behaviour is added by the caller through hooks.
func proxyModule(imports func(m *modBuilder), onHeaders func() []byte) []byte {
	m := &modBuilder{}
	if imports != nil {
		imports(m)
	}
	m.fn("proxy_abi_version_0_2_0", nil, nil)
	m.fn("_initialize", nil, nil, storeResult(8, i32c(4096)))
	// proxy_on_memory_allocate(size) = memory[8] (0 = allocation failure)
	m.fn("proxy_on_memory_allocate", i32s(1), i32s(1), i32c(8), opI32Load)
	m.fn("proxy_on_context_create", i32s(2), nil)
	m.fn("proxy_on_vm_start", i32s(2), i32s(1), i32c(1))
	m.fn("proxy_on_configure", i32s(2), i32s(1), i32c(1))
	var hb []byte
	if onHeaders != nil {
		hb = onHeaders()
	}
	m.fn("proxy_on_request_headers", i32s(3), i32s(1), hb, i32c(0))
	m.fn("proxy_on_log", i32s(1), nil)
	m.fn("proxy_on_done", i32s(1), i32s(1), i32c(1))
	m.fn("proxy_on_delete", i32s(1), nil)
	return m.bytes()
}

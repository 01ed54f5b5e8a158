package main

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
)

// module exports four functions and a memory; built by hand: (func $f) exported as "malloc", "keep", "free",
// "zzz" and memory 0 as "memory". A multi-byte LEB count is not needed here; uleb/putUleb are tested below.
func module() []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 1, 4, 1, 0x60, 0, 0) // type section: one func type () -> ()
	m = append(m, 3, 2, 1, 0)          // function section: one func of type 0
	m = append(m, 5, 3, 1, 0, 1)       // memory section: one memory, min 1 page
	exp := []byte{5}                   // five exports
	for _, n := range []string{"malloc", "keep", "free", "zzz"} {
		exp = append(exp, byte(len(n)))
		exp = append(exp, n...)
		exp = append(exp, 0, 0) // func 0
	}
	exp = append(exp, 6)
	exp = append(exp, "memory"...)
	exp = append(exp, 2, 0) // memory 0
	m = append(m, 7, byte(len(exp)))
	m = append(m, exp...)
	m = append(m, 10, 4, 1, 2, 0, 0x0b) // code section: one empty body
	return m
}

func exports(t *testing.T, wasm []byte) []string {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("the result is not a valid module: %v", err)
	}
	var names []string
	for n := range cm.ExportedFunctions() {
		names = append(names, n)
	}
	for n := range cm.ExportedMemories() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestUnexport(t *testing.T) {
	in := module()
	if got := exports(t, in); !reflect.DeepEqual(got, []string{"free", "keep", "malloc", "memory", "zzz"}) {
		t.Fatalf("fixture exports %v", got)
	}
	out, removed, err := Unexport(in, "malloc", "free", "calloc")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(removed, []string{"malloc", "free"}) {
		t.Errorf("removed %v", removed)
	}
	if got := exports(t, out); !reflect.DeepEqual(got, []string{"keep", "memory", "zzz"}) {
		t.Errorf("exports after: %v", got)
	}
	// nothing to remove: byte-identical
	same, removed, err := Unexport(in, "nope")
	if err != nil || len(removed) != 0 || string(same) != string(in) {
		t.Errorf("no-op changed the module (%v, %v)", removed, err)
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm\x01\x00\x00\x00\x07\x10\x01"), []byte("MZ\x00\x00\x00\x00\x00\x00")} {
		if _, _, err := Unexport(bad, "malloc"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLEB(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 20, 1<<32 - 1} {
		b := putUleb(nil, v)
		got, n, err := uleb(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("%d: %v %d %v", v, got, n, err)
		}
	}
}

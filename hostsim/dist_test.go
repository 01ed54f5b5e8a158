package hostsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records Fatalf/Skipf instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = format; panic(f) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skip = format; panic(f) }

func callDist(t *testing.T, name string) (ftb *fakeTB, wasm []byte) {
	ftb = &fakeTB{TB: t}
	defer func() {
		if r := recover(); r != nil && r != ftb {
			panic(r)
		}
	}()
	return ftb, DistWasm(ftb, name)
}

func TestDistWasmSkipsLocallyFailsInCI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WASMGUARD_DIST", dir)
	t.Setenv("CI", "")
	t.Setenv("HOSTSIM_REQUIRE_WASM", "")
	if f, _ := callDist(t, "nope"); f.skip == "" || f.fatal != "" {
		t.Fatalf("locally a missing module must skip: %+v", f)
	}
	t.Setenv("HOSTSIM_REQUIRE_WASM", "1")
	if f, _ := callDist(t, "nope"); f.fatal == "" || !strings.Contains(f.fatal, "make build") {
		t.Fatalf("HOSTSIM_REQUIRE_WASM=1 must fail: %+v", f)
	}
	t.Setenv("HOSTSIM_REQUIRE_WASM", "")
	t.Setenv("CI", "true")
	if f, _ := callDist(t, "nope"); f.fatal == "" {
		t.Fatalf("CI must fail: %+v", f)
	}
	if err := os.WriteFile(filepath.Join(dir, "there.wasm"), []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, wasm := callDist(t, "there"); f.fatal != "" || string(wasm) != "\x00asm" {
		t.Fatalf("existing module: %+v %q", f, wasm)
	}
}

func TestRepoRootAndDistDir(t *testing.T) {
	root := RepoRoot()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot = %q: %v", root, err)
	}
	t.Setenv("WASMGUARD_DIST", "")
	if DistDir() != filepath.Join(root, "dist") {
		t.Fatalf("DistDir = %q", DistDir())
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

// TestCheckDistFiltersLoadEverywhere: the four built filters must load on every
// profile. A module importing a WASI function the host lacks is rejected by the real
// gateway at configuration time (Envoy: "Failed to load Wasm module due to a missing
// import"), so this must fail loudly. Typical cause: a dependency pulling in os or
// net/http file code (path_filestat_get, path_open, fd_filestat_get, ...).
func TestCheckDistFiltersLoadEverywhere(t *testing.T) {
	for _, name := range []string{"promptguard", "piimask", "tokenbudget", "outputguard"} {
		t.Run(name, func(t *testing.T) {
			wasm := hostsim.DistWasm(t, name)
			file := filepath.Join(t.TempDir(), name+".wasm")
			if err := os.WriteFile(file, wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := runCheck([]string{"-start=false", file}, &out, &errb)
			if code != 0 {
				var missing []string
				for _, l := range strings.Split(out.String(), "\n") {
					if strings.Contains(l, "REFUSED") || strings.Contains(l, "missing imports") {
						missing = append(missing, strings.TrimSpace(l))
					}
				}
				t.Fatalf("%s.wasm cannot load on every gateway: %s\n(a dependency imports WASI file functions; find it with `GOOS=wasip1 GOARCH=wasm go list -deps ./plugins/%s`, e.g. os/net/http)\nfull report:\n%s",
					name, strings.Join(missing, "; "), name, out.String())
			}
			for _, p := range hostsim.Profiles {
				if !strings.Contains(out.String(), string(p)) {
					t.Fatalf("no line for %s:\n%s", p, out.String())
				}
			}
			if !strings.Contains(out.String(), "proxy-wasm ABI: 0.2.0") {
				t.Fatalf("unexpected report:\n%s", out.String())
			}
		})
	}
}

// TestCheckRefusesOSFileModule: a Go module using os file APIs imports WASI functions
// Envoy (#427) and Kong lack; check names them and fails.
func TestCheckRefusesOSFileModule(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "osfile.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", file, "../../testdata/plugins/osfile")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, msg)
	}
	var out, errb bytes.Buffer
	code := runCheck([]string{file}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out.String())
	}
	s := out.String()
	for _, want := range []string{"envoy           REFUSED", "kong            REFUSED", "envoy-fullwasi  LOADS", "wasi_snapshot_preview1.fd_filestat_get", "start: ok"} {
		if !strings.Contains(s, want) {
			t.Fatalf("report lacks %q:\n%s", want, s)
		}
	}
	// JSON output carries the same verdicts.
	out.Reset()
	runCheck([]string{"-json", "-start=false", "-profile", "envoy", file}, &out, &errb)
	if !strings.Contains(out.String(), `"Loads": false`) || !strings.Contains(out.String(), "path_open") && !strings.Contains(out.String(), "fd_filestat_get") {
		t.Fatalf("json:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	var errb bytes.Buffer
	if code := run([]string{"bogus"}, &errb); code != 2 || !strings.Contains(errb.String(), "check") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if code := runCheck([]string{"-profile", "nginx", "x.wasm"}, &errb, &errb); code != 2 {
		t.Fatalf("bad profile exit %d", code)
	}
}

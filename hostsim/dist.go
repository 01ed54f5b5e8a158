package hostsim

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, walking up from the working
// directory, or "" when there is none.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// DistDir is where built filters live: $WASMGUARD_DIST, else <repo>/dist. WASMGUARD_DIST is the one switch
// between builds: `make test` points it at dist/ (std Go), `make test-tinygo` at dist/tinygo/ (TinyGo).
func DistDir() string {
	if d := os.Getenv("WASMGUARD_DIST"); d != "" {
		return d
	}
	if root := RepoRoot(); root != "" {
		return filepath.Join(root, "dist")
	}
	return "dist"
}

// RequireWasm reports whether a missing built .wasm must fail the test instead of
// skipping it: HOSTSIM_REQUIRE_WASM=1 (set by `make test`) or CI set.
func RequireWasm() bool {
	return os.Getenv("HOSTSIM_REQUIRE_WASM") == "1" || os.Getenv("CI") != ""
}

// DistWasm returns the built dist/<name>.wasm. When it is missing the test fails if
// RequireWasm (CI, `make test`), and is skipped otherwise (run `make build`).
func DistWasm(t testing.TB, name string) []byte {
	t.Helper()
	path := filepath.Join(DistDir(), name+".wasm")
	b, err := os.ReadFile(path)
	if err != nil {
		toolchain := ""
		if filepath.Base(DistDir()) == "tinygo" {
			toolchain = " TOOLCHAIN=tinygo"
		}
		if RequireWasm() {
			t.Fatalf("hostsim: %s is missing (%v); run `make build%s` first", path, err, toolchain)
		}
		t.Skipf("hostsim: %s is missing; run `make build%s` (set HOSTSIM_REQUIRE_WASM=1 to fail instead)", path, toolchain)
	}
	return b
}

// DatasetsDir is the labelled datasets' directory: $WASMGUARD_DATASETS, else ../shared/datasets beside the
// repository (CI clones the repository with shared/ beside it).
func DatasetsDir() string {
	if d := os.Getenv("WASMGUARD_DATASETS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "..", "shared", "datasets")
}

// Dataset returns the path of the dataset file name in DatasetsDir. When it is missing the test fails if
// RequireWasm (CI, `make test`: the datasets are part of the checkout there), and is skipped otherwise.
func Dataset(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(DatasetsDir(), name)
	if _, err := os.Stat(path); err != nil {
		if RequireWasm() {
			t.Fatalf("hostsim: dataset %s is missing: %v", path, err)
		}
		t.Skipf("hostsim: dataset %s is missing: %v", path, err)
	}
	return path
}

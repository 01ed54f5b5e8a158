package filter

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

// TestNoFilterImportsProxywasm enforces the pipeline's boundary: every filter (plugins/*) reaches the host
// only through sdk/filter. No file under plugins/ may import the proxy-wasm SDK, not even a main.go (it calls
// filter.Run); tests may use the SDK's native host emulator (proxytest) and nothing else of it.
func TestNoFilterImportsProxywasm(t *testing.T) {
	root := hostsim.RepoRoot()
	if root == "" {
		t.Fatal("repo root not found")
	}
	n := 0
	err := filepath.WalkDir(filepath.Join(root, "plugins"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasSuffix(path, "_test.go") && p == "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/proxytest" {
				continue
			}
			if strings.HasPrefix(p, "github.com/proxy-wasm/") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s: filters reach the host through sdk/filter only", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d Go files under plugins/: wrong directory?", n)
	}
}

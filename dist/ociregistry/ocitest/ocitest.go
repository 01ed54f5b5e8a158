// Package ocitest starts the real CNCF distribution registry (/usr/bin/docker-registry, Debian package
// docker-registry) on a free loopback port for tests, and pushes small Wasm images to it.
package ocitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmguard/wasmguard/dist/ociregistry"
)

// StartRegistry runs docker-registry with a temporary storage directory (extra: more top-level config, such as an
// auth: section) and returns its host:port. Without the binary it fails when CI=true or WASMGUARD_REQUIRE_E2E=1,
// else skips.
func StartRegistry(t testing.TB, extra string) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("WASMGUARD_REQUIRE_E2E") == "1" {
			t.Fatal("docker-registry is not installed (apt-get install -y docker-registry)")
		}
		t.Skip("docker-registry not installed (apt-get install -y docker-registry)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n%s",
		filepath.Join(dir, "storage"), addr, extra)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return fmt.Sprintf("localhost:%d", port)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", addr, err, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PushWasm pushes wasm as a one-layer image of the oci variant (application/vnd.module.wasm.content.layer.v1+wasm)
// to ref over plain http and returns the manifest descriptor.
func PushWasm(t testing.TB, ref string, wasm []byte) ocispec.Descriptor {
	t.Helper()
	r, err := ociregistry.ParseRef(ref, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"architecture":"wasm","os":"wasip1"}`)
	cfgDesc := ocispec.Descriptor{MediaType: ociregistry.MediaTypeWasmConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	layer := ocispec.Descriptor{MediaType: ociregistry.MediaTypeWasmLayer, Digest: digest.FromBytes(wasm), Size: int64(len(wasm))}
	man, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfgDesc, Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	manDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(man), Size: int64(len(man))}
	got, err := (&ociregistry.Client{PlainHTTP: true}).Push(context.Background(), r,
		[]ociregistry.Blob{{Desc: cfgDesc, Data: cfg}, {Desc: layer, Data: wasm}}, ociregistry.Blob{Desc: manDesc, Data: man})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/dist/ociregistry/ocitest"
	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/hostsim/gateway"
)

// TestCheckAndServePullOCIReference: `hostsim check` takes oci://host/repo:tag and host/repo@sha256:… of a built
// filter pushed to a real registry on loopback, and serve's plugin "wasm" may be such a reference too.
func TestCheckAndServePullOCIReference(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	wasm := hostsim.DistWasm(t, "promptguard")
	registry := ocitest.StartRegistry(t, "")
	desc := ocitest.PushWasm(t, registry+"/wasmguard/promptguard:dev", wasm)
	for _, ref := range []string{"oci://" + registry + "/wasmguard/promptguard:dev", registry + "/wasmguard/promptguard@" + desc.Digest.String()} {
		var out, errb bytes.Buffer
		if code := runCheck([]string{"-profile", "envoy", ref}, &out, &errb); code != 0 {
			t.Errorf("check %s: exit %d\n%s%s", ref, code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), ref) {
			t.Errorf("check %s: the report does not name the reference:\n%s", ref, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := runCheck([]string{"-profile", "envoy", "oci://" + registry + "/wasmguard/missing:dev"}, &out, &errb); code == 0 {
		t.Error("check of a missing image succeeded")
	}

	cfg, err := gateway.ParseConfig([]byte(`{"upstream": "mock", "plugins": [{"name": "promptguard", "wasm": "oci://`+registry+`/wasmguard/promptguard:dev"}]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	cleanup, err := pullPlugins(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(cfg.Plugins[0].Wasm)
	if err != nil || !bytes.Equal(got, wasm) {
		t.Errorf("serve's pulled plugin %s: %v", cfg.Plugins[0].Wasm, err)
	}
	cleanup()
	if _, err := os.Stat(cfg.Plugins[0].Wasm); err == nil {
		t.Error("pulled module not removed")
	}
}

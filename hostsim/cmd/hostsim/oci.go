package main

// hostsim check and hostsim serve accept a Wasm OCI image reference wherever they take a .wasm file:
//
//	hostsim check oci://ghcr.io/acme/wasmguard/promptguard:v0.1.0
//	hostsim check localhost:5000/wasmguard/piimask@sha256:<manifest digest>
//	{"plugins": [{"name": "promptguard", "wasm": "oci://localhost:5000/wasmguard/promptguard:dev"}]}   (serve --config)
//
// The image is pulled with dist/ociregistry (oras-go): either Wasm image variant (compat: plugin.wasm in the last
// tar+gzip layer; oci: the module as a ...wasm.content.layer.v1+wasm layer), an image index resolved to its wasm
// manifest, digests verified. Credentials: OCI_USERNAME/OCI_PASSWORD or OCI_TOKEN, else the docker config
// ($DOCKER_CONFIG or ~/.docker/config.json, credential helpers included). Plain http is used for loopback
// registries and when OCI_INSECURE=1.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/dist/ociregistry"
	"github.com/wasmguard/wasmguard/hostsim/gateway"
)

// isOCIRef reports whether a module argument names an image rather than a file.
func isOCIRef(s string) bool {
	if strings.HasPrefix(s, "oci://") {
		return true
	}
	if strings.HasSuffix(s, ".wasm") {
		return false
	}
	if _, err := os.Stat(s); err == nil {
		return false
	}
	return strings.Contains(s, "@sha256:")
}

func plainHTTP(registry string) bool {
	if os.Getenv("OCI_INSECURE") == "1" {
		return true
	}
	h := registry
	if hh, _, err := net.SplitHostPort(registry); err == nil {
		h = hh
	}
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// pullOCI pulls the module an image reference names into a temporary file; cleanup removes it.
func pullOCI(ref string) (file string, cleanup func(), err error) {
	r, err := ociregistry.ParseRef(ref, "latest")
	if err != nil {
		return "", nil, err
	}
	c := &ociregistry.Client{PlainHTTP: plainHTTP(r.Registry), Username: os.Getenv("OCI_USERNAME"),
		Password: os.Getenv("OCI_PASSWORD"), Token: os.Getenv("OCI_TOKEN")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wasm, desc, err := c.PullWasm(ctx, r)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "hostsim-oci-")
	if err != nil {
		return "", nil, err
	}
	file = filepath.Join(dir, path.Base(r.Repository)+".wasm")
	if err := os.WriteFile(file, wasm, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "hostsim: pulled %s (%s, %d bytes)\n", ref, desc.Digest, len(wasm))
	return file, func() { os.RemoveAll(dir) }, nil
}

// pullPlugins replaces every plugin "wasm" of a gateway config that is an image reference with the pulled file.
func pullPlugins(cfg *gateway.Config) (cleanup func(), err error) {
	var cleanups []func()
	cleanup = func() {
		for _, c := range cleanups {
			c()
		}
	}
	for i := range cfg.Plugins {
		if !isOCIRef(cfg.Plugins[i].Wasm) {
			continue
		}
		file, c, err := pullOCI(cfg.Plugins[i].Wasm)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("plugin %s: %w", cfg.Plugins[i].Name, err)
		}
		cleanups = append(cleanups, c)
		cfg.Plugins[i].Wasm = file
	}
	return cleanup, nil
}

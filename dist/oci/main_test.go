package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wasmguard/wasmguard/dist/ociregistry"
)

// fakeWasm is a small valid-looking module: the wasm header, a custom section and filler bytes.
func fakeWasm(seed string) []byte {
	var b bytes.Buffer
	b.WriteString("\x00asm\x01\x00\x00\x00")
	payload := "wasmguard-test-" + seed
	b.WriteByte(0) // custom section
	b.WriteByte(byte(len(payload) + 1))
	b.WriteByte(byte(len(payload)))
	b.WriteString(payload)
	for i := 0; i < 3000; i++ {
		b.WriteByte(byte(i * 7))
	}
	return b.Bytes()
}

func readJSON(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// readBlob reads a blob of a layout and checks its digest and size against desc.
func readBlob(t *testing.T, dir string, desc Descriptor) []byte {
	t.Helper()
	hexd, ok := strings.CutPrefix(desc.Digest, "sha256:")
	if !ok || len(hexd) != 64 {
		t.Fatalf("digest %q is not sha256:<64 hex>", desc.Digest)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hexd))
	if err != nil {
		t.Fatalf("blob %s: %v", desc.Digest, err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != hexd {
		t.Fatalf("blob %s: content hashes to %x", desc.Digest, sum)
	}
	if int64(len(b)) != desc.Size {
		t.Fatalf("blob %s: size %d, descriptor says %d", desc.Digest, len(b), desc.Size)
	}
	return b
}

// untar returns the entries of a gzip-compressed tar.
func untar(t *testing.T, layer []byte) (names []string, files map[string][]byte, hdrs []*tar.Header) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q / mtime %v; want none", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	files = map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("layer tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = b
		hdrs = append(hdrs, h)
	}
	return names, files, hdrs
}

// checkLayout verifies a layout written for module wasm and returns the manifest descriptor from index.json.
func checkLayout(t *testing.T, dir string, wasm []byte, meta Meta, tag string) Descriptor {
	t.Helper()
	var layout struct {
		ImageLayoutVersion string `json:"imageLayoutVersion"`
	}
	readJSON(t, filepath.Join(dir, "oci-layout"), &layout)
	if layout.ImageLayoutVersion != "1.0.0" {
		t.Errorf("oci-layout version %q", layout.ImageLayoutVersion)
	}
	var idx Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	if idx.SchemaVersion != 2 || idx.MediaType != MediaTypeIndex || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %+v", idx)
	}
	md := idx.Manifests[0]
	if md.MediaType != MediaTypeManifest {
		t.Errorf("index manifest media type %q", md.MediaType)
	}
	if got := md.Annotations[AnnotationRefName]; got != tag {
		t.Errorf("index ref.name %q, want %q", got, tag)
	}
	if md.Platform == nil || md.Platform.Architecture != "wasm" || md.Platform.OS != "wasip1" {
		t.Errorf("index platform %+v, want wasm/wasip1", md.Platform)
	}
	var m Manifest
	if err := json.Unmarshal(readBlob(t, dir, md), &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != MediaTypeManifest {
		t.Errorf("manifest schema %d media type %q", m.SchemaVersion, m.MediaType)
	}
	want := map[string]string{AnnotationTitle: meta.Name, AnnotationSource: meta.Source,
		AnnotationVersion: meta.Version, AnnotationRevision: meta.Revision, AnnotationVariant: "compat"}
	for k, v := range want {
		if m.Annotations[k] != v {
			t.Errorf("manifest annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	if m.Config.MediaType != MediaTypeConfig {
		t.Errorf("config media type %q", m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeLayer {
		t.Fatalf("layers %+v: want exactly one %s", m.Layers, MediaTypeLayer)
	}
	var cfg ImageConfig
	if err := json.Unmarshal(readBlob(t, dir, m.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "wasm" || cfg.OS != "wasip1" || cfg.RootFS.Type != "layers" || len(cfg.RootFS.DiffIDs) != 1 {
		t.Errorf("config %+v", cfg)
	}
	layer := readBlob(t, dir, m.Layers[0])
	names, files, hdrs := untar(t, layer)
	if len(names) != 1 || names[0] != PluginFile {
		t.Fatalf("layer tar holds %q, want exactly [%s]", names, PluginFile)
	}
	if !bytes.Equal(files[PluginFile], wasm) {
		t.Errorf("plugin.wasm in the layer (%d bytes) differs from the module (%d bytes)", len(files[PluginFile]), len(wasm))
	}
	h := hdrs[0]
	if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(time.Unix(0, 0)) || h.Mode != 0o644 {
		t.Errorf("tar header not normalised: uid %d gid %d uname %q gname %q mtime %v mode %o", h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime, h.Mode)
	}
	// diff_id is the digest of the uncompressed tar.
	zr, _ := gzip.NewReader(bytes.NewReader(layer))
	raw, _ := io.ReadAll(zr)
	if d := digestOf(raw); d != cfg.RootFS.DiffIDs[0] {
		t.Errorf("diff_id %s, uncompressed tar hashes to %s", cfg.RootFS.DiffIDs[0], d)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if len(entries) != 3 {
		t.Errorf("layout holds %d blobs, want 3 (manifest, config, layer)", len(entries))
	}
	return md
}

func testMeta() Meta {
	return Meta{Name: "promptguard", Source: "https://github.com/wasmguard/wasmguard", Version: "v0.1.0-test", Revision: "0123456789abcdef0123456789abcdef01234567"}
}

func TestLayout(t *testing.T) {
	wasm := fakeWasm("a")
	dir := filepath.Join(t.TempDir(), "promptguard")
	img, err := BuildImage(wasm, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img, "v0.1.0-test"); err != nil {
		t.Fatal(err)
	}
	md := checkLayout(t, dir, wasm, testMeta(), "v0.1.0-test")
	if md.Digest != img.ManifestDesc.Digest {
		t.Errorf("index points at %s, built manifest is %s", md.Digest, img.ManifestDesc.Digest)
	}
	// Rewriting replaces the old layout: no stale blobs.
	img2, err := BuildImage(fakeWasm("b"), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img2, "v0.1.0-test"); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, dir, fakeWasm("b"), testMeta(), "v0.1.0-test")
}

func TestRejects(t *testing.T) {
	if _, err := BuildImage([]byte("#!/bin/sh\necho not wasm\n"), testMeta()); err == nil {
		t.Error("a non-wasm input was accepted")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, _ := BuildImage(fakeWasm("a"), testMeta())
	if err := WriteLayout(dir, img, "t"); err == nil {
		t.Error("WriteLayout replaced a directory that is not an OCI layout")
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Errorf("unrelated file was removed: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	wasm := fakeWasm("det")
	a, err := BuildImage(wasm, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildImage(append([]byte(nil), wasm...), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if a.LayerDesc.Digest != b.LayerDesc.Digest || a.ConfigDesc.Digest != b.ConfigDesc.Digest || a.ManifestDesc.Digest != b.ManifestDesc.Digest {
		t.Errorf("two builds differ: layer %s/%s config %s/%s manifest %s/%s", a.LayerDesc.Digest, b.LayerDesc.Digest,
			a.ConfigDesc.Digest, b.ConfigDesc.Digest, a.ManifestDesc.Digest, b.ManifestDesc.Digest)
	}
	// Through the command, into two directories: identical files.
	src := filepath.Join(t.TempDir(), "promptguard.wasm")
	if err := os.WriteFile(src, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	var outs [2]string
	for i := range outs {
		outs[i] = t.TempDir()
		var so, se bytes.Buffer
		if rc := run([]string{"-out", outs[i], "-version", "v1", "-revision", "abc", src}, &so, &se); rc != 0 {
			t.Fatalf("run: rc %d: %s", rc, se.String())
		}
	}
	for _, f := range []string{"index.json", "oci-layout"} {
		x, _ := os.ReadFile(filepath.Join(outs[0], "promptguard", f))
		y, _ := os.ReadFile(filepath.Join(outs[1], "promptguard", f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs (or is empty)", f)
		}
	}
	// A different module must give a different layer.
	c, _ := BuildImage(fakeWasm("other"), testMeta())
	if c.LayerDesc.Digest == a.LayerDesc.Digest {
		t.Error("different modules gave the same layer digest")
	}
}

func TestParseReference(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Reference
		bad  bool
	}{
		{in: "localhost:5000/wasmguard/promptguard:v1", want: Reference{"localhost:5000", "wasmguard/promptguard", "v1"}},
		{in: "ghcr.io/acme/wasmguard/piimask", want: Reference{"ghcr.io", "acme/wasmguard/piimask", "def"}},
		{in: "oci://127.0.0.1:5000/x:latest", want: Reference{"127.0.0.1:5000", "x", "latest"}},
		{in: "wasmguard/promptguard:v1", bad: true},
		{in: "localhost:5000", bad: true},
		{in: "localhost:5000/Upper:v1", bad: true},
		{in: "localhost:5000/x@sha256:00", bad: true},
	} {
		got, err := ParseReference(tc.in, "def")
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// requireE2E reports whether a missing e2e dependency must fail the test instead of skipping it.
func requireE2E() bool {
	return os.Getenv("CI") == "true" || os.Getenv("WASMGUARD_REQUIRE_E2E") == "1"
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs /usr/bin/docker-registry (CNCF distribution) on a free loopback port with a temp storage dir.
func startRegistry(t *testing.T) string {
	t.Helper()
	return startRegistryWith(t, "")
}

// startRegistryWith is startRegistry with extra top-level config (e.g. an auth: section).
func startRegistryWith(t *testing.T, extra string) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if requireE2E() {
			t.Fatal("docker-registry is not installed (apt-get install -y docker-registry); the OCI push e2e test needs it")
		}
		t.Skip("docker-registry not installed (apt-get install -y docker-registry)")
	}
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n%s",
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
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || (extra != "" && resp.StatusCode == http.StatusUnauthorized) {
				return fmt.Sprintf("localhost:%d", port)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", addr, err, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url, accept string) ([]byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b, resp.Header
}

func TestPushE2E(t *testing.T) {
	registry := startRegistry(t)
	wasm := fakeWasm("push")
	src := filepath.Join(t.TempDir(), "promptguard.wasm")
	if err := os.WriteFile(src, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ref := registry + "/wasmguard/{name}:e2e"
	var so, se bytes.Buffer
	args := []string{"-out", out, "-version", "v1", "-revision", "abc", "-insecure", "-push", ref, src}
	if rc := run(args, &so, &se); rc != 0 {
		t.Fatalf("push: rc %d\n%s\n%s", rc, so.String(), se.String())
	}
	if !strings.Contains(so.String(), "uploaded") {
		t.Errorf("first push uploaded nothing:\n%s", so.String())
	}
	img, err := BuildImage(wasm, Meta{Name: "promptguard", Source: "https://github.com/wasmguard/wasmguard", Version: "v1", Revision: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + registry + "/v2/wasmguard/promptguard"
	man, hdr := httpGet(t, base+"/manifests/e2e", MediaTypeManifest)
	if !bytes.Equal(man, img.Manifest) {
		t.Errorf("pulled manifest differs from the built one:\n%s\n%s", man, img.Manifest)
	}
	if d := hdr.Get("Docker-Content-Digest"); d != img.ManifestDesc.Digest {
		t.Errorf("registry digest %s, want %s", d, img.ManifestDesc.Digest)
	}
	var m Manifest
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	layer, _ := httpGet(t, base+"/blobs/"+m.Layers[0].Digest, "")
	if !bytes.Equal(layer, img.Layer) {
		t.Error("pulled layer differs from the built one")
	}
	_, files, _ := untar(t, layer)
	if !bytes.Equal(files[PluginFile], wasm) {
		t.Error("plugin.wasm pulled from the registry differs from the module")
	}
	cfg, _ := httpGet(t, base+"/blobs/"+m.Config.Digest, "")
	if !bytes.Equal(cfg, img.Config) {
		t.Error("pulled config differs from the built one")
	}

	// A second push finds the blobs and skips them (HEAD), and re-tagging works.
	so.Reset()
	se.Reset()
	args = []string{"-out", out, "-version", "v1", "-revision", "abc", "-insecure", "-push", registry + "/wasmguard/promptguard:again", src}
	if rc := run(args, &so, &se); rc != 0 {
		t.Fatalf("second push: rc %d\n%s", rc, se.String())
	}
	if strings.Contains(so.String(), "uploaded") || !strings.Contains(so.String(), "exists") {
		t.Errorf("second push re-uploaded blobs:\n%s", so.String())
	}
	// both variants come back as the module through the puller hostsim uses (dist/ociregistry)
	for _, tag := range []string{"e2e", "e2e" + ArtifactSuffix, "again"} {
		r, err := ociregistry.ParseRef("oci://"+registry+"/wasmguard/promptguard:"+tag, "")
		if err != nil {
			t.Fatal(err)
		}
		got, desc, err := (&ociregistry.Client{PlainHTTP: true}).PullWasm(context.Background(), r)
		if err != nil || !bytes.Equal(got, wasm) {
			t.Errorf("pull %s: %v (%d bytes, want the %d-byte module)", tag, err, len(got), len(wasm))
		}
		if tag == "e2e" && desc.Digest.String() != img.ManifestDesc.Digest {
			t.Errorf("pull %s resolved to %s, want %s", tag, desc.Digest, img.ManifestDesc.Digest)
		}
		byDigest, _ := ociregistry.ParseRef(registry+"/wasmguard/promptguard@"+desc.Digest.String(), "")
		if got2, _, err := (&ociregistry.Client{PlainHTTP: true}).PullWasm(context.Background(), byDigest); err != nil || !bytes.Equal(got2, wasm) {
			t.Errorf("pull %s by digest: %v", tag, err)
		}
	}
	art, _ := httpGet(t, base+"/manifests/e2e"+ArtifactSuffix, MediaTypeManifest)
	var am Manifest
	if err := json.Unmarshal(art, &am); err != nil || len(am.Layers) != 1 || am.Layers[0].MediaType != MediaTypeWasmLayer || am.Config.MediaType != MediaTypeWasmConfig {
		t.Errorf("oci-variant manifest: %s", art)
	}
	man2, _ := httpGet(t, base+"/manifests/again", MediaTypeManifest)
	if !bytes.Equal(man2, img.Manifest) {
		t.Error("manifest under the second tag differs")
	}

	// Without --insecure the pusher speaks TLS and must fail against the plain-http registry.
	p := &Pusher{Client: &http.Client{Timeout: 10 * time.Second}}
	r, _ := ParseReference(registry+"/wasmguard/promptguard:tls", "")
	if err := p.Push(context.Background(), r, img); err == nil {
		t.Error("a push over https to a plain-http registry succeeded")
	}

	skopeoCheck(t, registry, img, wasm)
}

// skopeoCheck reads the pushed image with skopeo, an independent client.
func skopeoCheck(t *testing.T, registry string, img *Image, wasm []byte) {
	bin, err := exec.LookPath("skopeo")
	if err != nil {
		if requireE2E() {
			t.Fatal("skopeo is not installed (apt-get install -y skopeo); the OCI e2e test needs it")
		}
		t.Log("skopeo not installed: skipping the independent-client check")
		return
	}
	// Our own layout, read by skopeo: it must see the same manifest digest and layer.
	img2, _ := BuildImage(wasm, Meta{Name: "promptguard"})
	layoutDir := filepath.Join(t.TempDir(), "promptguard")
	if err := WriteLayout(layoutDir, img2, "local"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--insecure-policy", "inspect", "oci:"+layoutDir+":local").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect of our layout: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), img2.ManifestDesc.Digest) || !strings.Contains(string(out), img2.LayerDesc.Digest) {
		t.Errorf("skopeo inspect of our layout does not show manifest %s / layer %s:\n%s", img2.ManifestDesc.Digest, img2.LayerDesc.Digest, out)
	}

	src := "docker://" + registry + "/wasmguard/promptguard:e2e"
	out, err = exec.Command(bin, "--insecure-policy", "inspect", "--tls-verify=false", src).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	var info struct {
		Digest       string
		Architecture string
		Os           string
		Layers       []string
		Labels       map[string]string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("skopeo inspect output: %v\n%s", err, out)
	}
	if info.Digest != img.ManifestDesc.Digest || info.Architecture != "wasm" || info.Os != "wasip1" ||
		len(info.Layers) != 1 || info.Layers[0] != img.LayerDesc.Digest || info.Labels[AnnotationTitle] != "promptguard" {
		t.Errorf("skopeo inspect: %+v; want digest %s, wasm/wasip1, layer %s", info, img.ManifestDesc.Digest, img.LayerDesc.Digest)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	out, err = exec.Command(bin, "--insecure-policy", "copy", "--src-tls-verify=false", src, "oci:"+dst+":e2e").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	var idx Index
	readJSON(t, filepath.Join(dst, "index.json"), &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != img.ManifestDesc.Digest {
		t.Errorf("skopeo's copy holds %+v; want manifest %s", idx.Manifests, img.ManifestDesc.Digest)
	}
	layer := readBlob(t, dst, img.LayerDesc)
	_, files, _ := untar(t, layer)
	if !bytes.Equal(files[PluginFile], wasm) {
		t.Error("plugin.wasm in skopeo's copy differs from the module")
	}
}

// TestPushBearerTLS pushes over HTTPS through a front that demands a bearer token (as ghcr.io, Docker Hub and
// Harbor do) and hands one out for basic credentials, in front of the real registry.
func TestPushBearerTLS(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no stored credentials: the anonymous push below has none
	registry := startRegistry(t)
	target, _ := url.Parse("http://" + registry)
	const user, pass, token = "ci-bot", "s3cret", "tok-123"
	var tokenRequests, unauthorized int
	var ts *httptest.Server
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.SetXForwarded()
	}}
	ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokenRequests++
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			// oras asks for pull to check what exists, then for pull,push to upload
			if got := r.URL.Query()["scope"]; len(got) == 0 || !strings.HasPrefix(got[0], "repository:wasmguard/promptguard:pull") {
				http.Error(w, "bad scope "+strings.Join(got, " "), http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":%q}`, token)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			unauthorized++
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test-registry",scope="repository:wasmguard/promptguard:pull"`, ts.URL))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "https://")
	wasm := fakeWasm("bearer")
	img, err := BuildImage(wasm, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ParseReference(host+"/wasmguard/promptguard:auth", "")
	if err != nil {
		t.Fatal(err)
	}
	// Without credentials the token endpoint refuses: the push must fail.
	anon := &Pusher{Client: ts.Client()}
	if err := anon.Push(context.Background(), ref, img); err == nil {
		t.Fatal("push without credentials succeeded")
	}
	var log bytes.Buffer
	p := &Pusher{Client: ts.Client(), Username: user, Password: pass, Log: &log}
	if err := p.Push(context.Background(), ref, img); err != nil {
		t.Fatalf("push with credentials: %v\n%s", err, log.String())
	}
	if tokenRequests < 2 || unauthorized < 2 {
		t.Errorf("token requests %d, 401s %d: the bearer flow was not exercised", tokenRequests, unauthorized)
	}
	man, _ := httpGet(t, "http://"+registry+"/v2/wasmguard/promptguard/manifests/auth", MediaTypeManifest)
	if !bytes.Equal(man, img.Manifest) {
		t.Error("manifest pushed through the authenticating front differs")
	}
	layer, _ := httpGet(t, "http://"+registry+"/v2/wasmguard/promptguard/blobs/"+img.LayerDesc.Digest, "")
	if !bytes.Equal(layer, img.Layer) {
		t.Error("layer pushed through the authenticating front differs")
	}
}

func TestCommandLine(t *testing.T) {
	var so, se bytes.Buffer
	if rc := run([]string{"-h"}, &so, &se); rc != 0 || !strings.Contains(se.String(), "make build") || !strings.Contains(se.String(), "-push") {
		t.Errorf("-h: rc %d, help:\n%s", rc, se.String())
	}
	se.Reset()
	dir := t.TempDir()
	if rc := run([]string{"-dist", dir, "-out", dir, "promptguard"}, &so, &se); rc != 1 || !strings.Contains(se.String(), "make build") {
		t.Errorf("missing module: rc %d, stderr %q", rc, se.String())
	}
	se.Reset()
	if rc := run([]string{"-dist", dir, "-out", dir, "-push", "localhost:1/x:y", "a", "b"}, &so, &se); rc != 1 || !strings.Contains(se.String(), "{name}") {
		t.Errorf("several modules to one reference: rc %d, stderr %q", rc, se.String())
	}
}

// TestPushWithDockerCredentials runs the real registry with htpasswd (basic) auth and pushes with credentials
// that only the docker config holds: once as an "auths" entry of $DOCKER_CONFIG/config.json, once through a
// credential helper (credHelpers → docker-credential-<name> on PATH). Without them the push is refused.
func TestPushWithDockerCredentials(t *testing.T) {
	const user, pass = "ci-bot", "s3cret-pass"
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	registry := startRegistryWith(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: wasmguard-test\n    path: %s\n", htpasswd))
	for _, k := range []string{"OCI_USERNAME", "OCI_PASSWORD", "OCI_TOKEN"} {
		t.Setenv(k, "")
	}
	wasm := fakeWasm("docker-config")
	src := filepath.Join(dir, "piimask.wasm")
	if err := os.WriteFile(src, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	push := func(tag string) (int, string) {
		var so, se bytes.Buffer
		rc := run([]string{"-out", t.TempDir(), "-version", "v1", "-revision", "abc", "-insecure", "-push",
			registry + "/wasmguard/{name}:" + tag, src}, &so, &se)
		return rc, so.String() + se.String()
	}

	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "empty"))
	if rc, out := push("anon"); rc == 0 || !strings.Contains(out, "credential not found") {
		t.Errorf("push without credentials: rc %d\n%s", rc, out)
	}

	auths := filepath.Join(dir, "auths")
	os.MkdirAll(auths, 0o700)
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, registry, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	if err := os.WriteFile(filepath.Join(auths, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", auths)
	if rc, out := push("auths"); rc != 0 || !strings.Contains(out, "uploaded") {
		t.Fatalf("push with config.json auths: rc %d\n%s", rc, out)
	}
	r, _ := ociregistry.ParseRef(registry+"/wasmguard/piimask:auths", "")
	if got, _, err := (&ociregistry.Client{PlainHTTP: true}).PullWasm(context.Background(), r); err != nil || !bytes.Equal(got, wasm) {
		t.Errorf("pull with config.json auths: %v", err)
	}

	helperDir := filepath.Join(dir, "bin")
	os.MkdirAll(helperDir, 0o755)
	script := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"" + user + "\",\"Secret\":\"" + pass + "\"}' \"$server\"\n"
	if err := os.WriteFile(filepath.Join(helperDir, "docker-credential-wgtest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "helper")
	os.MkdirAll(helper, 0o700)
	if err := os.WriteFile(filepath.Join(helper, "config.json"), []byte(fmt.Sprintf(`{"credHelpers":{%q:"wgtest"}}`, registry)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", helper)
	t.Setenv("PATH", helperDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if rc, out := push("helper"); rc != 0 {
		t.Fatalf("push with a credential helper: rc %d\n%s", rc, out)
	}
	man, _ := httpGetAuth(t, "http://"+registry+"/v2/wasmguard/piimask/manifests/helper", MediaTypeManifest, user, pass)
	var m Manifest
	if err := json.Unmarshal(man, &m); err != nil || len(m.Layers) != 1 {
		t.Errorf("manifest pushed with the helper: %s", man)
	}
}

func httpGetAuth(t *testing.T, u, accept, user, pass string) ([]byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(user, pass)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, b)
	}
	return b, resp.Header
}

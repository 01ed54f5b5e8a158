// Command oci packages the built wasmguard filters (dist/<name>.wasm) as OCI images that Istio's WasmPlugin,
// Higress and Envoy Gateway can pull, without docker.
//
// Each image is the "compat" variant of the Wasm image spec: an ordinary OCI image whose single layer
// (application/vnd.oci.image.layer.v1.tar+gzip) is a tar holding one file, plugin.wasm. The layer is built
// deterministically (fixed tar header times and owners, gzip without name or mtime), so the same .wasm always gives
// the same layer digest. The image is written as an OCI image layout directory (dist/oci/<name>/) and can be pushed
// to a registry with the OCI distribution API (--push REGISTRY/REPO:TAG).
//
// Run `go run ./dist/oci -h` for usage.
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
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Media types and annotation keys used in the images.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"

	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationTitle    = "org.opencontainers.image.title"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationRefName  = "org.opencontainers.image.ref.name"
	// AnnotationVariant marks the manifest as the compat variant, as the Wasm image spec (spec-compat.md) asks for
	// images with the OCI layer media type.
	AnnotationVariant = "module.wasm.image/variant"

	// PluginFile is the file name Istio and Higress look for inside the layer tar.
	PluginFile = "plugin.wasm"
)

// DefaultPlugins are the filters `make build` produces.
var DefaultPlugins = []string{"promptguard", "piimask", "tokenbudget", "outputguard"}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is the platform of an image.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Manifest is an OCI image manifest.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// ImageConfig is the OCI image configuration blob.
type ImageConfig struct {
	Architecture string            `json:"architecture"`
	OS           string            `json:"os"`
	Config       ImageConfigConfig `json:"config"`
	RootFS       RootFS            `json:"rootfs"`
}

// ImageConfigConfig is the execution part of the image config (only labels are set).
type ImageConfigConfig struct {
	Labels map[string]string `json:"Labels,omitempty"`
}

// RootFS lists the uncompressed layer digests.
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// Index is an OCI image index (index.json of a layout).
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// Meta is what is written into the image annotations. Empty fields are left out.
type Meta struct {
	Name     string // filter name, becomes org.opencontainers.image.title
	Source   string
	Version  string
	Revision string
}

// Image is a built image: its manifest, config and layer, each with its bytes and descriptor.
type Image struct {
	Manifest      []byte
	ManifestDesc  Descriptor
	Config        []byte
	ConfigDesc    Descriptor
	Layer         []byte
	LayerDesc     Descriptor
	LayerDiffID   string // sha256 of the uncompressed tar
	ManifestValue Manifest
}

// Blobs returns the config and layer blobs keyed by digest.
func (img *Image) Blobs() []Blob {
	return []Blob{{img.LayerDesc, img.Layer}, {img.ConfigDesc, img.Config}}
}

// Blob is a descriptor with its content.
type Blob struct {
	Desc Descriptor
	Data []byte
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layerTime is the fixed modification time of plugin.wasm in the tar (the epoch, unless SOURCE_DATE_EPOCH says
// otherwise at the command line).
var layerTime = time.Unix(0, 0).UTC()

// BuildLayer returns the gzip-compressed tar holding plugin.wasm and the digest of the uncompressed tar.
// The output depends only on wasm and mtime.
func BuildLayer(wasm []byte, mtime time.Time) (layer []byte, diffID string, err error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     PluginFile,
		Mode:     0o644,
		Size:     int64(len(wasm)),
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, "", fmt.Errorf("layer tar header: %w", err)
	}
	if _, err := tw.Write(wasm); err != nil {
		return nil, "", fmt.Errorf("layer tar body: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, "", fmt.Errorf("layer tar close: %w", err)
	}
	var gzBuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gzBuf, gzip.BestCompression)
	if err != nil {
		return nil, "", fmt.Errorf("layer gzip: %w", err)
	}
	// No name, no comment, zero mtime: nothing but the content decides the bytes.
	zw.Header = gzip.Header{OS: 255}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, "", fmt.Errorf("layer gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, "", fmt.Errorf("layer gzip close: %w", err)
	}
	return gzBuf.Bytes(), digestOf(tarBuf.Bytes()), nil
}

// BuildImage builds the compat-variant image for one module.
func BuildImage(wasm []byte, meta Meta) (*Image, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errors.New("build image: input is not a wasm module (missing \\0asm magic)")
	}
	layer, diffID, err := BuildLayer(wasm, layerTime)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	ann := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			ann[k] = v
		}
	}
	set(AnnotationTitle, meta.Name)
	set(AnnotationSource, meta.Source)
	set(AnnotationVersion, meta.Version)
	set(AnnotationRevision, meta.Revision)
	if len(ann) == 0 {
		ann = nil
	}
	cfg := ImageConfig{
		Architecture: "wasm",
		OS:           "wasip1",
		Config:       ImageConfigConfig{Labels: ann},
		RootFS:       RootFS{Type: "layers", DiffIDs: []string{diffID}},
	}
	cfgBytes, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("build image: config: %w", err)
	}
	img := &Image{
		Config:      cfgBytes,
		ConfigDesc:  Descriptor{MediaType: MediaTypeConfig, Digest: digestOf(cfgBytes), Size: int64(len(cfgBytes))},
		Layer:       layer,
		LayerDesc:   Descriptor{MediaType: MediaTypeLayer, Digest: digestOf(layer), Size: int64(len(layer))},
		LayerDiffID: diffID,
	}
	img.ManifestValue = Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        img.ConfigDesc,
		Layers:        []Descriptor{img.LayerDesc},
		Annotations:   manifestAnnotations(ann),
	}
	img.Manifest, err = json.Marshal(img.ManifestValue)
	if err != nil {
		return nil, fmt.Errorf("build image: manifest: %w", err)
	}
	img.ManifestDesc = Descriptor{
		MediaType: MediaTypeManifest,
		Digest:    digestOf(img.Manifest),
		Size:      int64(len(img.Manifest)),
		Platform:  &Platform{Architecture: "wasm", OS: "wasip1"},
	}
	return img, nil
}

func manifestAnnotations(ann map[string]string) map[string]string {
	m := map[string]string{AnnotationVariant: "compat"}
	for k, v := range ann {
		m[k] = v
	}
	return m
}

// WriteLayout writes img as an OCI image layout in dir, tagged tag (index.json ref.name). An existing layout in dir
// is replaced; a non-empty dir that is not a layout is refused.
func WriteLayout(dir string, img *Image, tag string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("write layout %s: directory exists and is not an OCI layout; refusing to replace it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("write layout %s: %w", dir, err)
		}
	}
	blobDir := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	write := func(name string, b []byte) error {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return fmt.Errorf("write layout %s: %w", dir, err)
		}
		return nil
	}
	for _, b := range append(img.Blobs(), Blob{img.ManifestDesc, img.Manifest}) {
		if err := write(filepath.Join(blobDir, strings.TrimPrefix(b.Desc.Digest, "sha256:")), b.Data); err != nil {
			return err
		}
	}
	desc := img.ManifestDesc
	if tag != "" {
		desc.Annotations = map[string]string{AnnotationRefName: tag}
	}
	idx, err := json.Marshal(Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{desc}})
	if err != nil {
		return fmt.Errorf("write layout %s: index: %w", dir, err)
	}
	if err := write(filepath.Join(dir, "index.json"), idx); err != nil {
		return err
	}
	return write(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))
}

// Reference is a parsed REGISTRY/REPO[:TAG] image reference.
type Reference struct {
	Registry string // host[:port]
	Repo     string
	Tag      string
}

func (r Reference) String() string { return r.Registry + "/" + r.Repo + ":" + r.Tag }

// ParseReference parses REGISTRY/REPO[:TAG]; the registry part is required (it must contain a dot or a colon or be
// localhost) and the tag defaults to defTag.
func ParseReference(s, defTag string) (Reference, error) {
	s = strings.TrimPrefix(s, "oci://")
	host, rest, ok := strings.Cut(s, "/")
	if !ok || rest == "" {
		return Reference{}, fmt.Errorf("reference %q: want REGISTRY/REPO[:TAG], e.g. localhost:5000/wasmguard/promptguard:v1", s)
	}
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return Reference{}, fmt.Errorf("reference %q: %q is not a registry host (want host.domain, host:port or localhost)", s, host)
	}
	if strings.Contains(rest, "@") {
		return Reference{}, fmt.Errorf("reference %q: digest references cannot be pushed to; give a tag", s)
	}
	repo, tag := rest, defTag
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		repo, tag = rest[:i], rest[i+1:]
	}
	if repo == "" || repo != strings.ToLower(repo) || strings.Contains(repo, "//") {
		return Reference{}, fmt.Errorf("reference %q: repository %q must be non-empty lowercase path components", s, repo)
	}
	if tag == "" {
		return Reference{}, fmt.Errorf("reference %q: empty tag", s)
	}
	return Reference{Registry: host, Repo: repo, Tag: tag}, nil
}

// Pusher pushes images with the OCI distribution API.
type Pusher struct {
	Client   *http.Client
	Insecure bool   // use plain http
	Username string // from OCI_USERNAME
	Password string // from OCI_PASSWORD
	Token    string // from OCI_TOKEN: a ready bearer token
	Log      io.Writer

	auth string // Authorization header value once a challenge was answered
}

func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (p *Pusher) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, format+"\n", args...)
	}
}

// do sends a request with a replayable body; on a 401 it answers the Basic or Bearer challenge once and retries.
func (p *Pusher) do(ctx context.Context, ref Reference, method, u string, body []byte, hdr http.Header) (*http.Response, error) {
	send := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(body))
		for k, v := range hdr {
			req.Header[k] = v
		}
		if p.auth != "" {
			req.Header.Set("Authorization", p.auth)
		}
		return p.Client.Do(req)
	}
	resp, err := send()
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	drain(resp)
	if err := p.answer(ctx, ref, challenge); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return send()
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

func (p *Pusher) answer(ctx context.Context, ref Reference, challenge string) error {
	if p.Username == "" && p.Token == "" && !strings.HasPrefix(strings.ToLower(challenge), "bearer") {
		return errors.New("registry wants credentials: set OCI_USERNAME and OCI_PASSWORD (or OCI_TOKEN)")
	}
	if p.Insecure && !isLoopback(ref.Registry) {
		return fmt.Errorf("registry %s wants credentials over plain http; refusing to send them (drop --insecure)", ref.Registry)
	}
	scheme, params := parseChallenge(challenge)
	switch scheme {
	case "basic":
		if p.Username == "" {
			return errors.New("registry wants basic auth: set OCI_USERNAME and OCI_PASSWORD")
		}
		p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password))
		return nil
	case "bearer":
		if p.Token != "" && p.Username == "" {
			p.auth = "Bearer " + p.Token
			return nil
		}
		realm := params["realm"]
		if realm == "" {
			return fmt.Errorf("bearer challenge without realm: %q", challenge)
		}
		tu, err := url.Parse(realm)
		if err != nil {
			return fmt.Errorf("bearer realm %q: %w", realm, err)
		}
		q := tu.Query()
		if s := params["service"]; s != "" {
			q.Set("service", s)
		}
		scope := params["scope"]
		if scope == "" || !strings.Contains(scope, "push") {
			scope = "repository:" + ref.Repo + ":pull,push"
		}
		q.Set("scope", scope)
		tu.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, tu.String(), nil)
		if err != nil {
			return err
		}
		if p.Username != "" {
			req.SetBasicAuth(p.Username, p.Password)
		}
		resp, err := p.Client.Do(req)
		if err != nil {
			return fmt.Errorf("token request: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("token request to %s: %s", tu.Host, resp.Status)
		}
		var tok struct {
			Token       string `json:"token"`
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
			return fmt.Errorf("token response: %w", err)
		}
		t := tok.Token
		if t == "" {
			t = tok.AccessToken
		}
		if t == "" {
			return errors.New("token response holds no token")
		}
		p.auth = "Bearer " + t
		return nil
	default:
		return fmt.Errorf("unsupported auth challenge %q", challenge)
	}
}

// parseChallenge parses `Bearer realm="...",service="...",scope="..."`.
func parseChallenge(h string) (scheme string, params map[string]string) {
	params = map[string]string{}
	h = strings.TrimSpace(h)
	s, rest, _ := strings.Cut(h, " ")
	scheme = strings.ToLower(s)
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		var v string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				v, rest = after[1:], ""
			} else {
				v, rest = after[1:1+end], after[2+end:]
			}
		} else {
			v, rest, _ = strings.Cut(after, ",")
		}
		params[k] = v
	}
	return scheme, params
}

func (p *Pusher) base(ref Reference) string {
	scheme := "https"
	if p.Insecure {
		scheme = "http"
	}
	return scheme + "://" + ref.Registry + "/v2/" + ref.Repo
}

// Push uploads the blobs (skipping those the registry has) and then the manifest under ref.Tag.
func (p *Pusher) Push(ctx context.Context, ref Reference, img *Image) error {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	base := p.base(ref)
	for _, b := range img.Blobs() {
		if err := p.pushBlob(ctx, ref, base, b); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	resp, err := p.do(ctx, ref, http.MethodPut, base+"/manifests/"+url.PathEscape(ref.Tag), img.Manifest,
		http.Header{"Content-Type": {MediaTypeManifest}})
	if err != nil {
		return fmt.Errorf("push %s: manifest: %w", ref, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push %s: manifest: %s: %s", ref, resp.Status, snippet(resp))
	}
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" && d != img.ManifestDesc.Digest {
		return fmt.Errorf("push %s: registry stored manifest as %s, want %s", ref, d, img.ManifestDesc.Digest)
	}
	p.logf("pushed %s@%s", ref, img.ManifestDesc.Digest)
	return nil
}

func snippet(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return strings.TrimSpace(string(b))
}

func (p *Pusher) pushBlob(ctx context.Context, ref Reference, base string, b Blob) error {
	resp, err := p.do(ctx, ref, http.MethodHead, base+"/blobs/"+b.Desc.Digest, nil, nil)
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
	}
	drain(resp)
	if resp.StatusCode == http.StatusOK {
		p.logf("  blob %s exists", b.Desc.Digest)
		return nil
	}
	resp, err = p.do(ctx, ref, http.MethodPost, base+"/blobs/uploads/", nil, nil)
	if err != nil {
		return fmt.Errorf("blob %s: start upload: %w", b.Desc.Digest, err)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		defer drain(resp)
		return fmt.Errorf("blob %s: start upload: %s: %s", b.Desc.Digest, resp.Status, snippet(resp))
	}
	drain(resp)
	baseURL, _ := url.Parse(base)
	u, err := baseURL.Parse(loc)
	if err != nil {
		return fmt.Errorf("blob %s: upload location %q: %w", b.Desc.Digest, loc, err)
	}
	q := u.Query()
	q.Set("digest", b.Desc.Digest)
	u.RawQuery = q.Encode()
	resp, err = p.do(ctx, ref, http.MethodPut, u.String(), b.Data, http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return fmt.Errorf("blob %s: upload: %w", b.Desc.Digest, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("blob %s: upload: %s: %s", b.Desc.Digest, resp.Status, snippet(resp))
	}
	p.logf("  blob %s uploaded (%d bytes)", b.Desc.Digest, b.Desc.Size)
	return nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

func gitOutput(root string, args ...string) string {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

const usage = `oci — package the built wasmguard filters as OCI images (no docker needed)

Usage:
  go run ./dist/oci [flags] [NAME | PATH.wasm ...]

With no arguments it packages the four filters built by 'make build':
dist/promptguard.wasm, dist/piimask.wasm, dist/tokenbudget.wasm, dist/outputguard.wasm.
A NAME means dist/NAME.wasm; a PATH.wasm names a module directly (the image name is the file name).

For each module it writes an OCI image layout to dist/oci/NAME/ (oci-layout, index.json, blobs/sha256/...).
The image is the "compat" Wasm image format that Istio WasmPlugin, Higress and Envoy Gateway pull: one
application/vnd.oci.image.layer.v1.tar+gzip layer whose tar holds plugin.wasm. The same .wasm always
gives the same layer digest.

Push to a registry (OCI distribution API, HTTPS unless --insecure):
  go run ./dist/oci --push ghcr.io/acme/wasmguard/{name}:v1.2.0
  go run ./dist/oci --insecure --push localhost:5000/wasmguard/promptguard:dev promptguard
'{name}' in --push is replaced by each filter's name; without it, give exactly one module.
Credentials come only from the environment: OCI_USERNAME + OCI_PASSWORD (basic auth, or exchanged
for a bearer token when the registry asks), or OCI_TOKEN (a ready bearer token). They are never sent
over plain http to a non-loopback host.

Flags:
`

type options struct {
	dist, out, version, revision, source, tag, push string
	insecure                                        bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := repoRoot()
	fs := flag.NewFlagSet("oci", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.dist, "dist", filepath.Join(root, "dist"), "directory holding the built NAME.wasm files")
	fs.StringVar(&o.out, "out", filepath.Join(root, "dist", "oci"), "directory the image layouts are written to (OUT/NAME/)")
	fs.StringVar(&o.version, "version", "", "org.opencontainers.image.version (default: git describe --tags --always --dirty, else \"dev\")")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision (default: git rev-parse HEAD when available)")
	fs.StringVar(&o.source, "source", "https://github.com/wasmguard/wasmguard", "org.opencontainers.image.source")
	fs.StringVar(&o.tag, "tag", "", "tag in index.json and default push tag (default: the version)")
	fs.StringVar(&o.push, "push", "", "push to `REGISTRY/REPO[:TAG]` after writing the layout ({name} = filter name)")
	fs.BoolVar(&o.insecure, "insecure", false, "talk plain http to the registry (for a registry on localhost)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := execute(o, fs.Args(), root, stdout); err != nil {
		fmt.Fprintf(stderr, "oci: %v\n", err)
		return 1
	}
	return 0
}

func execute(o options, names []string, root string, stdout io.Writer) error {
	if t := os.Getenv("SOURCE_DATE_EPOCH"); t != "" {
		var sec int64
		if _, err := fmt.Sscan(t, &sec); err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: want seconds since the epoch; got %q", t)
		}
		layerTime = time.Unix(sec, 0).UTC()
	}
	if len(names) == 0 {
		names = DefaultPlugins
	}
	if o.push != "" && len(names) > 1 && !strings.Contains(o.push, "{name}") {
		return fmt.Errorf("--push %s: several modules to push; put {name} in the reference (e.g. host/wasmguard/{name}:tag)", o.push)
	}
	if o.version == "" {
		o.version = gitOutput(root, "describe", "--tags", "--always", "--dirty")
		if o.version == "" {
			o.version = "dev"
		}
	}
	if o.revision == "" {
		o.revision = gitOutput(root, "rev-parse", "HEAD")
	}
	if o.tag == "" {
		o.tag = sanitizeTag(o.version)
	}
	pusher := &Pusher{
		Insecure: o.insecure,
		Username: os.Getenv("OCI_USERNAME"),
		Password: os.Getenv("OCI_PASSWORD"),
		Token:    os.Getenv("OCI_TOKEN"),
		Log:      stdout,
	}
	for _, arg := range names {
		name, path := arg, filepath.Join(o.dist, arg+".wasm")
		if strings.HasSuffix(arg, ".wasm") {
			name, path = strings.TrimSuffix(filepath.Base(arg), ".wasm"), arg
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s: %s is missing; run 'make build' first", name, path)
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		img, err := BuildImage(wasm, Meta{Name: name, Source: o.source, Version: o.version, Revision: o.revision})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dir := filepath.Join(o.out, name)
		if err := WriteLayout(dir, img, o.tag); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s (layer %s, %d bytes; manifest %s = WasmPlugin sha256 %s)\n", name, dir,
			img.LayerDesc.Digest, img.LayerDesc.Size, img.ManifestDesc.Digest, strings.TrimPrefix(img.ManifestDesc.Digest, "sha256:"))
		if o.push != "" {
			ref, err := ParseReference(strings.ReplaceAll(o.push, "{name}", name), o.tag)
			if err != nil {
				return err
			}
			if err := pusher.Push(context.Background(), ref, img); err != nil {
				if !o.insecure && strings.Contains(err.Error(), "HTTP response to HTTPS client") {
					return fmt.Errorf("%w (the registry speaks plain http: add --insecure, or OCI_INSECURE=1 with make oci)", err)
				}
				return err
			}
		}
	}
	return nil
}

// sanitizeTag turns a version into a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).
func sanitizeTag(v string) string {
	b := []byte(v)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || (i > 0 && (c == '.' || c == '-'))
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	if len(b) == 0 {
		return "dev"
	}
	return string(b)
}

// Command oci packages the built wasmguard filters (dist/<name>.wasm) as OCI images that Istio's WasmPlugin,
// Higress and Envoy Gateway can pull, without docker.
//
// Each module is published in both variants of the Wasm image spec. The "compat" variant: an ordinary OCI image whose single layer
// (application/vnd.oci.image.layer.v1.tar+gzip) is a tar holding one file, plugin.wasm. The layer is built
// deterministically (fixed tar header times and owners, gzip without name or mtime), so the same .wasm always gives
// the same layer digest. The image is written as an OCI image layout directory (dist/oci/<name>/) and can be pushed
// to a registry (--push REGISTRY/REPO:TAG) with oras-go through dist/ociregistry. The "oci" variant (the module as a
// application/vnd.module.wasm.content.layer.v1+wasm layer) goes to dist/oci/<name>-wasm/ and TAG-wasm.
//
// Run `go run ./dist/oci -h` for usage.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"

	"github.com/wasmguard/wasmguard/dist/ociregistry"
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

	// The oci variant of the Wasm image spec: a Wasm config and the module as the layer.
	MediaTypeWasmConfig = ociregistry.MediaTypeWasmConfig
	MediaTypeWasmLayer  = ociregistry.MediaTypeWasmLayer
)

// ArtifactSuffix names the oci variant: layout OUT/NAME-wasm/, pushed as TAG-wasm beside the compat image TAG.
const ArtifactSuffix = "-wasm"

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

// WriteLayout writes img as an OCI image layout in dir (oras-go's content/oci store), tagged tag (index.json
// ref.name). An existing layout in dir is replaced; a non-empty dir that is not a layout is refused.
func WriteLayout(dir string, img *Image, tag string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("write layout %s: directory exists and is not an OCI layout; refusing to replace it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("write layout %s: %w", dir, err)
		}
	}
	ctx := context.Background()
	store, err := oci.NewWithContext(ctx, dir)
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	for _, b := range append(img.Blobs(), Blob{img.ManifestDesc, img.Manifest}) {
		d := specDesc(b.Desc)
		d.Platform = nil
		if err := store.Push(ctx, d, bytes.NewReader(b.Data)); err != nil {
			return fmt.Errorf("write layout %s: %w", dir, err)
		}
	}
	if tag == "" {
		tag = img.ManifestDesc.Digest
	}
	if err := store.Tag(ctx, specDesc(img.ManifestDesc), tag); err != nil {
		return fmt.Errorf("write layout %s: tag %s: %w", dir, tag, err)
	}
	return nil
}

// BuildArtifact builds the oci variant of the Wasm image spec for one module: config of media type
// application/vnd.module.wasm.config.v1+json and one layer of media type
// application/vnd.module.wasm.content.layer.v1+wasm that is the module itself (Istio's fetcher reads both
// variants; this one has no tar to unpack).
func BuildArtifact(wasm []byte, meta Meta) (*Image, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errors.New("build artifact: input is not a wasm module (missing \\0asm magic)")
	}
	ann := map[string]string{}
	for k, v := range map[string]string{AnnotationTitle: meta.Name, AnnotationSource: meta.Source,
		AnnotationVersion: meta.Version, AnnotationRevision: meta.Revision} {
		if v != "" {
			ann[k] = v
		}
	}
	cfg, err := json.Marshal(map[string]any{"created": layerTime.UTC().Format(time.RFC3339), "author": meta.Source,
		"architecture": "wasm", "os": "wasip1"})
	if err != nil {
		return nil, err
	}
	img := &Image{
		Config:     cfg,
		ConfigDesc: Descriptor{MediaType: MediaTypeWasmConfig, Digest: digestOf(cfg), Size: int64(len(cfg))},
		Layer:      wasm,
		LayerDesc: Descriptor{MediaType: MediaTypeWasmLayer, Digest: digestOf(wasm), Size: int64(len(wasm)),
			Annotations: map[string]string{AnnotationTitle: PluginFile}},
	}
	img.ManifestValue = Manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: img.ConfigDesc,
		Layers: []Descriptor{img.LayerDesc}, Annotations: ann}
	if img.Manifest, err = json.Marshal(img.ManifestValue); err != nil {
		return nil, err
	}
	img.ManifestDesc = Descriptor{MediaType: MediaTypeManifest, Digest: digestOf(img.Manifest), Size: int64(len(img.Manifest)),
		Platform: &Platform{Architecture: "wasm", OS: "wasip1"}}
	return img, nil
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

// Pusher pushes images with oras-go through dist/ociregistry: blob existence checks, bearer and basic auth
// (credentials from the environment, else the docker config with its credential helpers), retries.
type Pusher struct {
	Client   *http.Client // base HTTP client (nil: default transport); retries are added
	Insecure bool         // use plain http
	Username string       // from OCI_USERNAME
	Password string       // from OCI_PASSWORD
	Token    string       // from OCI_TOKEN: a ready bearer token
	Log      io.Writer
}

func specDesc(d Descriptor) ocispec.Descriptor {
	out := ocispec.Descriptor{MediaType: d.MediaType, Digest: digest.Digest(d.Digest), Size: d.Size, Annotations: d.Annotations}
	if d.Platform != nil {
		out.Platform = &ocispec.Platform{Architecture: d.Platform.Architecture, OS: d.Platform.OS}
	}
	return out
}

// Push uploads the blobs (skipping those the registry has) and then the manifest under ref.Tag; the digest the
// registry resolves the tag to must be the one built.
func (p *Pusher) Push(ctx context.Context, ref Reference, img *Image) error {
	r, err := ociregistry.ParseRef(ref.String(), "")
	if err != nil {
		return err
	}
	c := &ociregistry.Client{PlainHTTP: p.Insecure, Username: p.Username, Password: p.Password, Token: p.Token,
		HTTPClient: p.Client, Log: p.Log}
	var blobs []ociregistry.Blob
	for _, b := range img.Blobs() {
		blobs = append(blobs, ociregistry.Blob{Desc: specDesc(b.Desc), Data: b.Data})
	}
	man := img.ManifestDesc
	man.Platform = nil
	got, err := c.Push(ctx, r, blobs, ociregistry.Blob{Desc: specDesc(man), Data: img.Manifest})
	if err != nil {
		return err
	}
	if got.Digest.String() != img.ManifestDesc.Digest {
		return fmt.Errorf("push %s: registry stored manifest as %s, want %s", ref, got.Digest, img.ManifestDesc.Digest)
	}
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

It also writes the "oci" variant to dist/oci/NAME-wasm/: a Wasm config and the module itself as one
application/vnd.module.wasm.content.layer.v1+wasm layer (tag TAG-wasm).

Push to a registry (oras-go: HTTPS unless --insecure, retries, blobs the registry has are skipped):
  go run ./dist/oci --push ghcr.io/acme/wasmguard/{name}:v1.2.0
  go run ./dist/oci --insecure --push localhost:5000/wasmguard/promptguard:dev promptguard
'{name}' in --push is replaced by each filter's name; without it, give exactly one module. Each module
is pushed twice: the compat image as TAG and the oci variant as TAG-wasm.
Credentials: OCI_USERNAME + OCI_PASSWORD (basic auth, or exchanged for a bearer token when the registry
asks) or OCI_TOKEN (a bearer/identity token); without them, the docker config ($DOCKER_CONFIG or
~/.docker/config.json: auths, credsStore, credHelpers — as written by docker login). Explicit credentials
are never sent over plain http to a non-loopback host.

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
		art, err := BuildArtifact(wasm, Meta{Name: name, Source: o.source, Version: o.version, Revision: o.revision})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dir := filepath.Join(o.out, name)
		if err := WriteLayout(dir, img, o.tag); err != nil {
			return err
		}
		artDir := filepath.Join(o.out, name+ArtifactSuffix)
		if err := WriteLayout(artDir, art, o.tag+ArtifactSuffix); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s (layer %s, %d bytes; manifest %s = WasmPlugin sha256 %s)\n", name, dir,
			img.LayerDesc.Digest, img.LayerDesc.Size, img.ManifestDesc.Digest, strings.TrimPrefix(img.ManifestDesc.Digest, "sha256:"))
		fmt.Fprintf(stdout, "%s: %s (oci variant: the module as a %s layer; manifest %s)\n", name, artDir,
			MediaTypeWasmLayer, art.ManifestDesc.Digest)
		if o.push != "" {
			ref, err := ParseReference(strings.ReplaceAll(o.push, "{name}", name), o.tag)
			if err != nil {
				return err
			}
			artRef := ref
			artRef.Tag += ArtifactSuffix
			for _, p := range []struct {
				ref Reference
				img *Image
			}{{ref, img}, {artRef, art}} {
				if err := pusher.Push(context.Background(), p.ref, p.img); err != nil {
					if !o.insecure && strings.Contains(err.Error(), "HTTP response to HTTPS client") {
						return fmt.Errorf("%w (the registry speaks plain http: add --insecure, or OCI_INSECURE=1 with make oci)", err)
					}
					return err
				}
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

// Package ociregistry pushes and pulls wasmguard's Wasm OCI images with oras-go (oras.land/oras-go/v2): the
// distribution API, blob existence checks, bearer and basic auth with credentials from the environment or from
// the docker config (~/.docker/config.json or $DOCKER_CONFIG, including credential helpers and credsStore), and
// retries of transient failures. dist/oci uses it to publish images and hostsim to run an image by reference.
//
// It reads both Wasm image variants: the compat variant (an OCI/docker image whose last tar+gzip layer holds
// plugin.wasm) and the oci variant (a layer of media type application/vnd.module.wasm.content.layer.v1+wasm
// that is the module itself).
package ociregistry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Media types of the two Wasm image variants.
const (
	MediaTypeLayerTarGzip       = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeWasmLayer          = "application/vnd.module.wasm.content.layer.v1+wasm"
	MediaTypeWasmConfig         = "application/vnd.module.wasm.config.v1+json"
	PluginFile                  = "plugin.wasm"
	maxModuleBytes              = 256 << 20
	maxManifestBytes      int64 = 4 << 20
)

// Ref is a parsed image reference: host[:port]/repo followed by :tag or @sha256:<hex>.
type Ref struct {
	registry.Reference
}

// ParseRef parses "host/repo:tag", "host/repo@sha256:…" (an "oci://" prefix is accepted). defTag is used when
// the reference names neither a tag nor a digest.
func ParseRef(s, defTag string) (Ref, error) {
	s = strings.TrimPrefix(s, "oci://")
	r, err := registry.ParseReference(s)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %w", s, err)
	}
	if r.Reference == "" {
		if defTag == "" {
			return Ref{}, fmt.Errorf("image reference %q: needs a :tag or @sha256:digest", s)
		}
		r.Reference = defTag
	}
	return Ref{r}, nil
}

// Client talks to registries.
type Client struct {
	// PlainHTTP talks http instead of https (a registry on loopback).
	PlainHTTP bool
	// Username/Password (basic, or exchanged for a bearer token when the registry asks) or Token (a ready bearer
	// token / identity token). When all are empty, credentials come from the docker config (DOCKER_CONFIG or
	// ~/.docker/config.json: auths, credsStore, credHelpers).
	Username, Password, Token string
	// HTTPClient is the base client (its transport is wrapped with retries); nil: http.DefaultTransport.
	HTTPClient *http.Client
	// Log receives one line per blob (uploaded / exists) and per pushed tag; nil: silent.
	Log io.Writer
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
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

// Repository returns an oras repository for ref with auth, retries and the chosen scheme.
func (c *Client) Repository(ref Ref) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = c.PlainHTTP
	base := http.DefaultTransport
	hc := &http.Client{}
	if c.HTTPClient != nil {
		*hc = *c.HTTPClient
		if c.HTTPClient.Transport != nil {
			base = c.HTTPClient.Transport
		}
	}
	hc.Transport = retry.NewTransport(base)
	var cred auth.CredentialFunc
	explicit := c.Username != "" || c.Password != "" || c.Token != ""
	switch {
	case explicit:
		if c.PlainHTTP && !isLoopback(ref.Registry) {
			return nil, fmt.Errorf("%s: refusing to send credentials over plain http to a non-loopback host", ref.Registry)
		}
		cred = auth.StaticCredential(ref.Registry, auth.Credential{Username: c.Username, Password: c.Password, RefreshToken: "", AccessToken: c.Token})
	default:
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("docker credentials: %w", err)
		}
		cred = credentials.Credential(store)
	}
	client := &auth.Client{Client: hc, Cache: auth.NewCache(), Credential: cred}
	client.SetUserAgent("wasmguard-oci")
	repo.Client = client
	return repo, nil
}

// Blob is one piece of content with its descriptor.
type Blob struct {
	Desc ocispec.Descriptor
	Data []byte
}

// Push uploads blobs (skipping those the registry has) and the manifest, tagged with ref's tag (or pushed by
// digest when ref names one). It returns the manifest descriptor the registry resolves the reference to.
func (c *Client) Push(ctx context.Context, ref Ref, blobs []Blob, manifest Blob) (ocispec.Descriptor, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mem := memory.New()
	for _, b := range append(blobs, manifest) {
		if err := mem.Push(ctx, b.Desc, bytes.NewReader(b.Data)); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("stage %s: %w", b.Desc.Digest, err)
		}
	}
	src := manifest.Desc.Digest.String()
	if err := mem.Tag(ctx, manifest.Desc, src); err != nil {
		return ocispec.Descriptor{}, err
	}
	opts := oras.DefaultCopyOptions
	opts.Concurrency = 1
	opts.PostCopy = func(_ context.Context, d ocispec.Descriptor) error {
		if d.Digest != manifest.Desc.Digest {
			c.logf("  blob %s uploaded (%d bytes)", d.Digest, d.Size)
		}
		return nil
	}
	opts.OnCopySkipped = func(_ context.Context, d ocispec.Descriptor) error {
		if d.Digest == manifest.Desc.Digest {
			c.logf("  manifest %s exists (all its blobs too)", d.Digest)
		} else {
			c.logf("  blob %s exists", d.Digest)
		}
		return nil
	}
	dstRef := ref.Reference.Reference
	got := manifest.Desc
	if ok, err := repo.Exists(ctx, manifest.Desc); err == nil && ok {
		// the registry has the manifest, hence all its blobs: only (re)tag it
		c.logf("  manifest %s exists (all its blobs too)", manifest.Desc.Digest)
		if dstRef != manifest.Desc.Digest.String() {
			if err := repo.Tag(ctx, manifest.Desc, dstRef); err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("push %s: tag: %w", ref, err)
			}
		}
	} else if got, err = oras.Copy(ctx, mem, src, repo, dstRef, opts); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s: %w", ref, err)
	}
	resolved, err := repo.Resolve(ctx, dstRef)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s: resolve after push: %w", ref, err)
	}
	if resolved.Digest != got.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("push %s: registry resolves it to %s, want %s", ref, resolved.Digest, got.Digest)
	}
	c.logf("pushed %s@%s", ref, got.Digest)
	return resolved, nil
}

// PullWasm fetches the image ref names and returns the Wasm module inside it (either variant), with the manifest
// descriptor it resolved to. An image index is resolved to its first wasm/wasip1 (or first) manifest.
func (c *Client) PullWasm(ctx context.Context, ref Ref) ([]byte, ocispec.Descriptor, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, raw, err := oras.FetchBytes(ctx, repo, ref.Reference.Reference, oras.FetchBytesOptions{MaxBytes: maxManifestBytes})
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex || desc.MediaType == "application/vnd.docker.distribution.manifest.list.v2+json" {
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil || len(idx.Manifests) == 0 {
			return nil, desc, fmt.Errorf("pull %s: unreadable image index", ref)
		}
		pick := idx.Manifests[0]
		for _, m := range idx.Manifests {
			if m.Platform != nil && m.Platform.Architecture == "wasm" {
				pick = m
				break
			}
		}
		if raw, err = content.FetchAll(ctx, repo, pick); err != nil {
			return nil, desc, fmt.Errorf("pull %s: %w", ref, err)
		}
		desc = pick
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Layers) == 0 {
		return nil, desc, fmt.Errorf("pull %s: the manifest has no layers", ref)
	}
	for _, l := range m.Layers {
		if l.MediaType == MediaTypeWasmLayer {
			wasm, err := fetch(ctx, repo, l)
			return wasm, desc, err
		}
	}
	last := m.Layers[len(m.Layers)-1]
	if last.MediaType != MediaTypeLayerTarGzip && last.MediaType != MediaTypeDockerLayer {
		return nil, desc, fmt.Errorf("pull %s: no Wasm layer (media types %s)", ref, layerTypes(m.Layers))
	}
	gz, err := fetch(ctx, repo, last)
	if err != nil {
		return nil, desc, err
	}
	wasm, err := PluginFromLayer(gz)
	if err != nil {
		return nil, desc, fmt.Errorf("pull %s: %w", ref, err)
	}
	return wasm, desc, nil
}

func layerTypes(ls []ocispec.Descriptor) string {
	var out []string
	for _, l := range ls {
		out = append(out, l.MediaType)
	}
	return strings.Join(out, ", ")
}

func fetch(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor) ([]byte, error) {
	if d.Size > maxModuleBytes {
		return nil, fmt.Errorf("layer %s: %d bytes, more than %d", d.Digest, d.Size, maxModuleBytes)
	}
	return content.FetchAll(ctx, repo, d) // verifies size and digest
}

// PluginFromLayer returns the file named plugin.wasm (any directory) from a compat-variant tar+gzip layer.
func PluginFromLayer(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("layer: no plugin.wasm in the tar")
		}
		if err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
		if h.Typeflag == tar.TypeReg && path.Base(h.Name) == PluginFile {
			return io.ReadAll(io.LimitReader(tr, maxModuleBytes))
		}
	}
}

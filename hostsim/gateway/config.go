package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the JSON configuration of `hostsim serve`. Example (e2e/configs/local.json):
//
//	{
//	  "listen": "127.0.0.1:8080",
//	  "admin_listen": "127.0.0.1:9901",
//	  "upstream": "mock",
//	  "profile": "envoy",
//	  "workers": 2,
//	  "plugins": [
//	    {"name": "promptguard", "wasm": "promptguard.wasm", "config": {"mode": "enforce"}},
//	    {"name": "piimask", "wasm": "piimask.wasm", "config_file": "piimask.json"}
//	  ],
//	  "clusters": {"moderation": {"url": "http://127.0.0.1:9000", "timeout_ms": 2000}}
//	}
//
// Relative `wasm` paths are resolved against the dist directory (see Load); relative `config_file` paths against
// the directory of the config file.
type Config struct {
	// Listen is the address of the gateway (default 127.0.0.1:8080: loopback only).
	Listen string `json:"listen"`
	// AdminListen serves /stats/prometheus, /stats and /ready (default 127.0.0.1:9901; "off" disables it). The
	// same paths are also answered on Listen under /__hostsim/ so one port is enough for scripts.
	AdminListen string `json:"admin_listen"`
	// Upstream is the base URL requests are forwarded to (path and query of the request appended), or "mock" for
	// the built-in mock LLM upstream.
	Upstream string `json:"upstream"`
	// Profile is the hostsim host profile: envoy (default), envoy_full_wasi, kong.
	Profile string `json:"profile"`
	// Workers is the number of VMs per plugin chain (Envoy: one per worker thread); default 2.
	Workers int `json:"workers"`
	// Plugins is the filter chain, in request order.
	Plugins []PluginConfig `json:"plugins"`
	// Clusters maps the cluster names plugins pass to http_call onto real HTTP endpoints.
	Clusters map[string]ClusterConfig `json:"clusters"`
	// UpstreamTimeoutMS bounds one upstream exchange, streaming included (default 300000).
	UpstreamTimeoutMS int `json:"upstream_timeout_ms"`
	// MaxRequestBytes caps a buffered request body (default 1 MiB, Envoy's per_connection_buffer_limit_bytes);
	// a bigger body is answered 413 as Envoy does.
	MaxRequestBytes int64 `json:"max_request_bytes"`
	// Mock tunes the built-in mock upstream.
	Mock MockConfig `json:"mock"`
	// Routes name requests by path prefix, first match wins; the name is the route property plugins read
	// (Envoy xds.route_name, Kong kong.route_name), as an Envoy route config's route names would.
	Routes []RouteConfig `json:"routes"`

	dir string // directory of the config file ("" when embedded)
}

// PluginConfig is one filter of the chain.
type PluginConfig struct {
	Name       string          `json:"name"`
	Wasm       string          `json:"wasm"`
	Config     json.RawMessage `json:"config"`      // inline JSON (object, or a string holding the raw configuration)
	ConfigFile string          `json:"config_file"` // or a file holding the configuration
}

// ClusterConfig is one http_call target.
type ClusterConfig struct {
	URL       string `json:"url"`
	TimeoutMS int    `json:"timeout_ms"` // default 5000; the plugin's own timeout applies too when shorter
}

// RouteConfig names the requests whose path starts with PathPrefix.
type RouteConfig struct {
	Name       string `json:"name"`
	PathPrefix string `json:"path_prefix"`
}

// RouteFor returns the name of the first route whose prefix matches path ("" when none does).
func (c *Config) RouteFor(path string) string {
	for _, r := range c.Routes {
		if strings.HasPrefix(path, r.PathPrefix) {
			return r.Name
		}
	}
	return ""
}

// MockConfig tunes the mock upstream.
type MockConfig struct {
	ChunkDelayMS int    `json:"chunk_delay_ms"` // default 20
	Answer       string `json:"answer"`
}

// ParseConfig decodes and validates a configuration; dir is the directory of the file it came from ("" for an
// embedded one). Unknown keys are rejected; errors name the JSON path.
func ParseConfig(raw []byte, dir string) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	c.dir = dir
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.AdminListen == "" {
		c.AdminListen = "127.0.0.1:9901"
	}
	if c.Profile == "" {
		c.Profile = "envoy"
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.UpstreamTimeoutMS == 0 {
		c.UpstreamTimeoutMS = 300000
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 1 << 20
	}
	if c.Mock.ChunkDelayMS == 0 {
		c.Mock.ChunkDelayMS = 20
	}
	var errs []error
	bad := func(path, format string, a ...any) { errs = append(errs, fmt.Errorf(path+": "+format, a...)) }
	switch c.Profile {
	case "envoy", "envoy_full_wasi", "kong":
	default:
		bad("profile", "must be one of envoy, envoy_full_wasi, kong; got %q", c.Profile)
	}
	if c.Workers < 1 || c.Workers > 64 {
		bad("workers", "must be between 1 and 64; got %d", c.Workers)
	}
	if c.Upstream == "" {
		bad("upstream", "must be a base URL (http://host:port) or \"mock\"; got nothing")
	} else if c.Upstream != "mock" {
		u, err := url.Parse(c.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("upstream", "must be a base URL (http://host:port) or \"mock\"; got %q", c.Upstream)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Plugins {
		path := fmt.Sprintf("plugins[%d]", i)
		if p.Name == "" {
			bad(path+".name", "must be set")
		} else if seen[p.Name] {
			bad(path+".name", "must be unique in the chain; %q is used twice", p.Name)
		}
		seen[p.Name] = true
		if p.Wasm == "" {
			bad(path+".wasm", "must be the path of a .wasm file")
		}
		if len(p.Config) > 0 && p.ConfigFile != "" {
			bad(path, "set config or config_file, not both")
		}
		if len(p.Config) > 0 && !json.Valid(p.Config) {
			bad(path+".config", "must be JSON")
		}
	}
	for name, cl := range c.Clusters {
		u, err := url.Parse(cl.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("clusters."+name+".url", "must be an http(s) URL; got %q", cl.URL)
		}
		if cl.TimeoutMS < 0 {
			bad("clusters."+name+".timeout_ms", "must be >= 0; got %d", cl.TimeoutMS)
		}
	}
	for i, r := range c.Routes {
		if r.Name == "" {
			bad(fmt.Sprintf("routes[%d].name", i), "must be set")
		}
		if !strings.HasPrefix(r.PathPrefix, "/") {
			bad(fmt.Sprintf("routes[%d].path_prefix", i), "must start with /; got %q", r.PathPrefix)
		}
	}
	if c.MaxRequestBytes < 0 {
		bad("max_request_bytes", "must be >= 0; got %d", c.MaxRequestBytes)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	return &c, nil
}

// LoadConfig reads a configuration file.
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	c, err := ParseConfig(raw, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WasmPath resolves a plugin's wasm path: absolute paths as they are, relative ones against dist.
func (p *PluginConfig) WasmPath(dist string) string {
	if filepath.IsAbs(p.Wasm) {
		return p.Wasm
	}
	return filepath.Join(dist, p.Wasm)
}

// RawConfig returns the configuration bytes handed to the plugin's on_configure: the inline object as written,
// a JSON string's contents, the config file's bytes, or nothing.
func (c *Config) RawConfig(p *PluginConfig) ([]byte, error) {
	if p.ConfigFile != "" {
		path := p.ConfigFile
		if !filepath.IsAbs(path) && c.dir != "" {
			path = filepath.Join(c.dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: config_file: %w", p.Name, err)
		}
		return b, nil
	}
	t := bytes.TrimSpace(p.Config)
	if len(t) > 0 && t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, fmt.Errorf("plugin %s: config: %w", p.Name, err)
		}
		return []byte(s), nil
	}
	return t, nil
}

// UpstreamTimeout is UpstreamTimeoutMS as a duration.
func (c *Config) UpstreamTimeout() time.Duration {
	return time.Duration(c.UpstreamTimeoutMS) * time.Millisecond
}

// DefaultDist finds the dist directory: $WASMGUARD_DIST, else <repo root>/dist when the working directory is
// inside the repository, else ./dist.
func DefaultDist() string {
	if d := os.Getenv("WASMGUARD_DIST"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return "dist"
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/wasmguard/wasmguard") {
				return filepath.Join(d, "dist")
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return filepath.Join(dir, "dist")
		}
		d = parent
	}
}

package configs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wasmguard/wasmguard/dist/schema"
)

// validateKong checks a Kong declarative config the way Kong 3.5-3.10 does for filter chains: the entity rules of
// kong/db/schema/entities/filter_chains.lua (service xor route, at least one filter, a filter name that is an
// installed filter — "no such filter" — and at most one chain per service or route) as written here, and each
// filter's config validated by Kong's own schema format: the config_schema of dist/<filter>.meta.json as draft 4,
// the draft of Kong's validator (lua-resty-ljsonschema). Kong itself is not run here.
func validateKong(b []byte) error {
	var doc struct {
		Format   string `yaml:"_format_version"`
		Services []struct {
			Name   string
			URL    string `yaml:"url"`
			Routes []struct {
				Name      string
				Paths     []string
				StripPath *bool `yaml:"strip_path"`
			}
		}
		FilterChains []struct {
			Name, Service, Route string
			Filters              []struct {
				Name    string
				Enabled *bool
				Config  any
			}
		} `yaml:"filter_chains"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	var errs []error
	if doc.Format != "3.0" {
		errs = append(errs, fmt.Errorf("_format_version: %q", doc.Format))
	}
	services, routes := map[string]bool{}, map[string]bool{}
	for _, s := range doc.Services {
		services[s.Name] = true
		for _, r := range s.Routes {
			routes[r.Name] = true
		}
	}
	used := map[string]bool{}
	for i, c := range doc.FilterChains {
		at := fmt.Sprintf("filter_chains[%d] (%s)", i, c.Name)
		switch {
		case c.Service != "" && c.Route != "":
			errs = append(errs, fmt.Errorf("%s: service and route are mutually exclusive", at))
		case c.Service != "" && !services[c.Service]:
			errs = append(errs, fmt.Errorf("%s: no service %q", at, c.Service))
		case c.Route != "" && !routes[c.Route]:
			errs = append(errs, fmt.Errorf("%s: no route %q", at, c.Route))
		case c.Service == "" && c.Route == "":
			errs = append(errs, fmt.Errorf("%s: at least one of service, route must be set", at))
		}
		key := "service:" + c.Service + "/route:" + c.Route
		if used[key] {
			errs = append(errs, fmt.Errorf("%s: a second chain on %s (unique)", at, key))
		}
		used[key] = true
		if len(c.Filters) == 0 {
			errs = append(errs, fmt.Errorf("%s: filters: length must be at least 1", at))
		}
		for j, f := range c.Filters {
			fat := fmt.Sprintf("%s.filters[%d]", at, j)
			meta, err := os.ReadFile(filepath.Join("..", "..", "dist", f.Name+".meta.json"))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.name: no such filter (%q)", fat, f.Name))
				continue
			}
			s, err := schema.CompileDraft4(meta)
			if err != nil {
				return err
			}
			raw, err := jsonOf(f.Config)
			if err != nil {
				return err
			}
			if err := schema.Validate(s, raw); err != nil {
				errs = append(errs, fmt.Errorf("%s.config: %w", fat, err))
			}
		}
	}
	return errors.Join(errs...)
}

// TestKongConfigValidates: kong.yaml's chains (one per service and per route) pass Kong's filter_chains rules and
// each filter's meta.json schema.
func TestKongConfigValidates(t *testing.T) {
	b, err := os.ReadFile("kong.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateKong(b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"service: openai", "route: batch", "route: embeddings"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("kong.yaml no longer has a chain with %s", want)
		}
	}
	conf, err := os.ReadFile("kong.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wasm = on", "wasm_filters_path = ", "nginx_http_client_body_buffer_size = 1m", "nginx_wasm_shm_kv = "} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("kong.conf lacks %q", want)
		}
	}
}

func TestKongConfigRejectsBrokenFields(t *testing.T) {
	checkBroken(t, "kong.yaml", validateKong, []breakage{
		{"bad enum in a filter config", `config: {"mode": "monitor"}`, `config: {"mode": "monitoring"}`, `value must be one of 'enforce', 'monitor', <nil>`},
		{"typo in a filter config", `config: {"mode": "monitor"}`, `config: {"mdoe": "monitor"}`, `additional properties 'mdoe' not allowed`},
		{"wrong type in a filter config", `"windows": {"day": 5000000}`, `"windows": {"day": "lots"}`, `got string, want null or integer`},
		{"config as a string with meta.json", `config: {"mode": "monitor"}`, `config: '{"mode": "monitor"}'`, `got string, want null or object`},
		{"unknown filter", "  - name: piimask\n", "  - name: piimasq\n", `no such filter`},
		{"typo in the chain", "  route: batch\n", "  rout: batch\n", `field rout not found`},
		{"service and route", "  route: batch\n", "  route: batch\n  service: openai-batch\n", `mutually exclusive`},
	})
}

func jsonOf(v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		// a string config is passed as a JSON string value, which the meta.json schema (type object) refuses
		return []byte(fmt.Sprintf("%q", s)), nil
	}
	return jsonMarshal(v)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

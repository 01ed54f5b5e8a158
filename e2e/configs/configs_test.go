package configs

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/hostsim/gateway"
)

var chain = []string{"promptguard", "piimask", "tokenbudget", "outputguard"}

type filterRef struct {
	name, file string
	config     map[string]any
}

func jsonObject(t *testing.T, where, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: config is not a JSON object: %v", where, err)
	}
	return m
}

func localChain(t *testing.T) []filterRef {
	cfg, err := gateway.ParseConfig(Local, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []filterRef
	for _, p := range cfg.Plugins {
		raw, err := cfg.RawConfig(&p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filterRef{p.Name, p.Wasm, jsonObject(t, "local.json "+p.Name, string(raw))})
	}
	return out
}

func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// dig walks maps and lists ("0" indexes a list).
func dig(v any, path ...string) any {
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func envoyChain(t *testing.T) []filterRef {
	m := readYAML(t, "envoy.yaml")
	hcm := dig(m, "static_resources", "listeners", "0", "filter_chains", "0", "filters", "0", "typed_config")
	filters, _ := dig(hcm, "http_filters").([]any)
	if len(filters) == 0 {
		t.Fatal("envoy.yaml: no http_filters")
	}
	var out []filterRef
	for i, f := range filters {
		tc := dig(f, "typed_config")
		typ, _ := dig(tc, "@type").(string)
		if typ == "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" {
			if i != len(filters)-1 {
				t.Errorf("envoy.yaml: the router must be the last http filter")
			}
			continue
		}
		if typ != "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm" {
			t.Errorf("envoy.yaml: http_filters[%d] has type %q", i, typ)
			continue
		}
		name, _ := dig(tc, "config", "name").(string)
		if root, _ := dig(tc, "config", "root_id").(string); root != name {
			t.Errorf("envoy.yaml: %s: root_id %q differs from the name", name, root)
		}
		if vt, _ := dig(tc, "config", "configuration", "@type").(string); vt != "type.googleapis.com/google.protobuf.StringValue" {
			t.Errorf("envoy.yaml: %s: configuration must be a StringValue, got %q", name, vt)
		}
		if fp, _ := dig(tc, "config", "failure_policy").(string); fp != "FAIL_CLOSED" && fp != "FAIL_OPEN" {
			t.Errorf("envoy.yaml: %s: failure_policy %q", name, fp)
		}
		val, _ := dig(tc, "config", "configuration", "value").(string)
		file, _ := dig(tc, "config", "vm_config", "code", "local", "filename").(string)
		out = append(out, filterRef{name, file, jsonObject(t, "envoy.yaml "+name, val)})
	}
	routeCluster, _ := dig(hcm, "route_config", "virtual_hosts", "0", "routes", "0", "route", "cluster").(string)
	clusterName, _ := dig(m, "static_resources", "clusters", "0", "name").(string)
	if routeCluster == "" || routeCluster != clusterName {
		t.Errorf("envoy.yaml: route cluster %q, defined cluster %q", routeCluster, clusterName)
	}
	return out
}

func kongChain(t *testing.T) []filterRef {
	m := readYAML(t, "kong.yaml")
	if v, _ := m["_format_version"].(string); v != "3.0" {
		t.Errorf("kong.yaml: _format_version %q", v)
	}
	svc, _ := dig(m, "services", "0", "name").(string)
	fc := dig(m, "filter_chains", "0")
	if s, _ := dig(fc, "service").(string); s != svc || svc == "" {
		t.Errorf("kong.yaml: filter chain attached to %q, service is %q", s, svc)
	}
	filters, _ := dig(fc, "filters").([]any)
	var out []filterRef
	for _, f := range filters {
		name, _ := dig(f, "name").(string)
		cfg, ok := dig(f, "config").(map[string]any)
		if !ok {
			t.Errorf("kong.yaml: %s: config must be an object (Kong 3.5+ with <filter>.meta.json)", name)
		}
		raw, _ := json.Marshal(cfg)
		out = append(out, filterRef{name, name + ".wasm", jsonObject(t, "kong.yaml "+name, string(raw))})
	}
	return out
}

// TestConfigsChainTheSameFilters checks that local.json, envoy.yaml and kong.yaml chain the four filters in the
// same order, load the right .wasm, and give each the same configuration.
func TestConfigsChainTheSameFilters(t *testing.T) {
	local := localChain(t)
	for name, got := range map[string][]filterRef{"local.json": local, "envoy.yaml": envoyChain(t), "kong.yaml": kongChain(t)} {
		var names []string
		for _, f := range got {
			names = append(names, f.name)
			if !strings.HasSuffix(f.file, "/"+f.name+".wasm") && f.file != f.name+".wasm" {
				t.Errorf("%s: filter %s loads %q", name, f.name, f.file)
			}
		}
		if !reflect.DeepEqual(names, chain) {
			t.Errorf("%s: chain %v, want %v", name, names, chain)
			continue
		}
		for i := range got {
			if !reflect.DeepEqual(got[i].config, local[i].config) {
				t.Errorf("%s: %s config %v differs from local.json's %v", name, got[i].name, got[i].config, local[i].config)
			}
		}
	}
}

// TestFiltersAcceptTheConfigs loads each built filter with its configuration from local.json (the same as in
// envoy.yaml and kong.yaml, see above) on both host profiles: a key the filter does not know, or a value it
// rejects, makes its configure fail and this test with it.
func TestFiltersAcceptTheConfigs(t *testing.T) {
	for _, f := range localChain(t) {
		raw, _ := json.Marshal(f.config)
		for _, prof := range []hostsim.Profile{hostsim.ProfileEnvoy, hostsim.ProfileKong} {
			h, err := hostsim.Start(hostsim.Config{Profile: prof, Workers: 1, NoCanary: true, KongSharedKV: true,
				Plugins: []hostsim.PluginSpec{{Name: f.name, Wasm: hostsim.DistWasm(t, f.name), Config: raw}}})
			if err != nil {
				t.Errorf("%s (%s) refuses its config %s: %v", f.name, prof, raw, err)
				continue
			}
			h.Close()
		}
	}
}

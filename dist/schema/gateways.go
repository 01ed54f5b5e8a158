package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// FilterConfig is one filter configuration found in a gateway config file.
type FilterConfig struct {
	Where  string // file and position ("e2e/configs/envoy.yaml: http_filters[0]")
	Filter string // promptguard, piimask, tokenbudget or outputguard
	Config []byte // the JSON the filter receives
}

const wasmType = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"

// GatewayConfigs finds every filter configuration in the gateway files under e2e/configs (JSON and YAML, several
// documents per file): Envoy Wasm filters (configuration StringValue), Kong filter_chains, Istio WasmPlugin
// pluginConfig, Envoy Gateway EnvoyExtensionPolicy wasm[].config, Flex policy configs and hostsim's local.json.
func GatewayConfigs(t testing.TB, root string) []FilterConfig {
	t.Helper()
	var files []string
	err := filepath.Walk(filepath.Join(root, "e2e", "configs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []FilterConfig
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		docs, err := ReadDocs(file)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for i, d := range docs {
			where := rel
			if len(docs) > 1 {
				where = fmt.Sprintf("%s (document %d)", rel, i+1)
			}
			out = append(out, find(t, where, d, "")...)
		}
	}
	if len(out) == 0 {
		t.Fatal("no filter configuration found under e2e/configs")
	}
	return out
}

// ConfigsIn finds the filter configurations in one gateway file's content (where names it in messages).
func ConfigsIn(t testing.TB, where string, b []byte) []FilterConfig {
	t.Helper()
	docs, err := DecodeDocs(b)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var out []FilterConfig
	for _, d := range docs {
		out = append(out, find(t, where, d, "")...)
	}
	return out
}

// ReadDocs reads every YAML (or JSON) document of a file as generic values.
func ReadDocs(file string) ([]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return DecodeDocs(b)
}

// DecodeDocs decodes every YAML (or JSON) document of b as generic values.
func DecodeDocs(b []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
	return docs, nil
}

func isFilter(name string) bool { return contains(Filters, name) || name == CombinedName }

// CombinedName is the combined module's name (dist/wasmguard.wasm); its config is validated by wasmguard.schema.json.
const CombinedName = "wasmguard"

// ValidateConfig validates one filter configuration (JSON text) by its schema; filter "wasmguard" is the
// combined module.
func ValidateConfig(filter string, raw []byte) error {
	var s *jsonschema.Schema
	var err error
	if filter == CombinedName {
		s, err = compileCombined()
	} else {
		s, err = compiledFor(filter)
	}
	if err != nil {
		return err
	}
	return Validate(s, raw)
}

// filterIn names the filter an image URL, file name or resource name refers to ("…/piimask:v1", "piimask.wasm").
func filterIn(s string) string {
	for _, f := range Filters {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

func find(t testing.TB, where string, v any, path string) []FilterConfig {
	var out []FilterConfig
	add := func(filter, at string, cfg any) {
		var raw []byte
		switch c := cfg.(type) {
		case string:
			raw = []byte(c)
		case nil:
			raw = []byte("{}")
		default:
			var err error
			if raw, err = json.Marshal(c); err != nil {
				t.Fatalf("%s: %s: %v", where, at, err)
			}
		}
		out = append(out, FilterConfig{Where: where + ": " + at, Filter: filter, Config: raw})
	}
	switch m := v.(type) {
	case map[string]any:
		// Envoy: a Wasm HTTP filter (typed_config, typed_per_filter_config, composite actions)
		if m["@type"] == wasmType {
			cfg, _ := m["config"].(map[string]any)
			name, _ := cfg["root_id"].(string)
			if code, ok := cfg["vm_config"].(map[string]any); ok && !isFilter(name) {
				b, _ := json.Marshal(code)
				name = filterIn(string(b))
			}
			if isFilter(name) {
				val, _ := cfg["configuration"].(map[string]any)
				add(name, path, val["value"])
			}
			return out
		}
		// Istio WasmPlugin
		if m["kind"] == "WasmPlugin" {
			spec, _ := m["spec"].(map[string]any)
			url, _ := spec["url"].(string)
			if f := filterIn(url); f != "" {
				add(f, "WasmPlugin "+fmt.Sprint(dig(m, "metadata", "name")), spec["pluginConfig"])
			}
			return out
		}
		// Anypoint Flex Gateway PolicyBinding (Local Mode)
		if m["kind"] == "PolicyBinding" {
			spec, _ := m["spec"].(map[string]any)
			ref, _ := dig(spec, "policyRef", "name").(string)
			if f := filterIn(ref); f != "" {
				add(f, "PolicyBinding "+fmt.Sprint(dig(m, "metadata", "name")), spec["config"])
			}
			return out
		}
		// Envoy Gateway EnvoyExtensionPolicy
		if m["kind"] == "EnvoyExtensionPolicy" {
			spec, _ := m["spec"].(map[string]any)
			ws, _ := spec["wasm"].([]any)
			for i, w := range ws {
				wm, _ := w.(map[string]any)
				b, _ := json.Marshal(wm["code"])
				if f := filterIn(string(b)); f != "" {
					add(f, fmt.Sprintf("EnvoyExtensionPolicy %v wasm[%d]", dig(m, "metadata", "name"), i), wm["config"])
				}
			}
			return out
		}
		// Kong filter_chains[].filters[] and hostsim's plugins[] ({"name": ..., "config": ...})
		for _, listKey := range []string{"filters", "plugins"} {
			if list, ok := m[listKey].([]any); ok {
				for i, x := range list {
					xm, _ := x.(map[string]any)
					name, _ := xm["name"].(string)
					if isFilter(name) {
						add(name, fmt.Sprintf("%s%s[%d]", path, listKey, i), xm["config"])
					}
				}
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			// (a Kong or hostsim filter entry found above holds only its name and config: nothing more to find)
			out = append(out, find(t, where, m[k], path+k+".")...)
		}
	case []any:
		for i, x := range m {
			out = append(out, find(t, where, x, fmt.Sprintf("%s%d.", path, i))...)
		}
	}
	return out
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// compileCombined compiles dist's combined schema with the four filter schemas as resources.
func compileCombined() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	docs := map[string]M{BaseURL + "wasmguard.schema.json": Combined()}
	for _, f := range Filters {
		s, _ := For(f)
		docs[BaseURL+f+".schema.json"] = s
	}
	for id, d := range docs {
		b, _ := json.Marshal(d)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(id, v); err != nil {
			return nil, err
		}
	}
	return c.Compile(BaseURL + "wasmguard.schema.json")
}

// CompileDraft4 compiles the config_schema of a Kong <filter>.meta.json as draft 4, the draft Kong validates with.
func CompileDraft4(meta []byte) (*jsonschema.Schema, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(m["config_schema"]))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("meta.json", v); err != nil {
		return nil, err
	}
	return c.Compile("meta.json")
}

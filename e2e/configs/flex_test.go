package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/dist/schema"
)

// TestFlexFiles: each dist/flex/<filter>-definition.yaml is an Extension extending extension-definition with the
// filter schema's top-level keys as properties; its (simplified) properties accept every example config of the
// filter, so the definition is never stricter than the filter; the implementation generated from a module extends
// that definition; e2e/configs/flex/wasmguard.yaml binds each filter's implementation to the API instance. Flex
// Gateway itself is not run here (no library or binary of it is available): this checks the files' shape as
// MuleSoft's Local Mode pages describe it, not Flex's acceptance.
func TestFlexFiles(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, f := range chain {
		docs, err := schema.ReadDocs(filepath.Join(root, "dist", "flex", f+"-definition.yaml"))
		if err != nil || len(docs) != 1 {
			t.Fatalf("%s definition: %v (%d documents)", f, err, len(docs))
		}
		d := docs[0].(map[string]any)
		if d["apiVersion"] != "gateway.mulesoft.com/v1alpha1" || d["kind"] != "Extension" ||
			dig(d, "metadata", "name") != "wasmguard-"+f+"-definition" || dig(d, "spec", "extends", "0", "name") != "extension-definition" {
			t.Errorf("%s definition: apiVersion/kind/name/extends wrong: %v", f, d)
		}
		props, _ := dig(d, "spec", "properties").(map[string]any)
		full, _ := schema.For(f)
		for k := range full["properties"].(map[string]any) {
			if props[k] == nil {
				t.Errorf("%s definition lacks property %s", f, k)
			}
		}
		// the definition's properties as a JSON Schema must accept the filter's examples
		b, _ := json.Marshal(map[string]any{"type": "object", "properties": props})
		s, err := schema.CompileJSON("flex-"+f+".json", b)
		if err != nil {
			t.Fatalf("%s definition properties are not a schema: %v", f, err)
		}
		examples, _ := filepath.Glob(filepath.Join(root, "plugins", f, "examples", "*.json"))
		for _, ex := range examples {
			raw, _ := os.ReadFile(ex)
			if err := schema.Validate(s, raw); err != nil {
				t.Errorf("%s definition refuses %s: %v", f, ex, err)
			}
		}
		impl, err := schema.FlexImplementation(f, []byte("\x00asm\x01\x00\x00\x00"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(impl), "name: wasmguard-"+f+"-definition") || !strings.Contains(string(impl), "base64://AGFzbQEAAAA=") {
			t.Errorf("%s implementation:\n%s", f, impl)
		}
	}
	docs, err := schema.ReadDocs("flex/wasmguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var bound []string
	api := ""
	for _, d := range docs {
		m := d.(map[string]any)
		switch m["kind"] {
		case "ApiInstance":
			api, _ = dig(m, "metadata", "name").(string)
		case "PolicyBinding":
			if dig(m, "spec", "targetRef", "kind") != "ApiInstance" || dig(m, "spec", "targetRef", "name") != api {
				t.Errorf("PolicyBinding %v does not target the ApiInstance %q", dig(m, "metadata", "name"), api)
			}
			ref, _ := dig(m, "spec", "policyRef", "name").(string)
			bound = append(bound, strings.TrimSuffix(strings.TrimPrefix(ref, "wasmguard-"), "-impl"))
		default:
			t.Errorf("unexpected kind %v", m["kind"])
		}
	}
	if strings.Join(bound, ",") != strings.Join(chain, ",") {
		t.Errorf("bound %v, want %v", bound, chain)
	}
}

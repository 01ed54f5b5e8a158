package schema

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wasmguard/wasmguard/hostsim"
)

func root(t *testing.T) string { return hostsim.RepoRoot() }

// TestGeneratedFilesAreCurrent: dist/*.schema.json and dist/*.meta.json are what `go generate ./dist/schema`
// writes now.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root(t), "dist", name))
		if err != nil {
			t.Errorf("%v (run go generate ./dist/schema)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dist/%s is stale: run go generate ./dist/schema", name)
		}
	}
}

// TestSchemasCompile: each file on disk is a valid draft 2020-12 schema (the library checks it against the
// metaschema), and the combined schema resolves the four filter schemas by $id.
func TestSchemasCompile(t *testing.T) {
	for _, f := range Filters {
		b, err := os.ReadFile(filepath.Join(root(t), "dist", f+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CompileJSON(BaseURL+f+".schema.json", b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	s := combined(t)
	ok := []byte(`{"promptguard": {"mode": "monitor"}, "tokenbudget": {"budgets": [{"name": "a", "windows": {"day": 5}}]}}`)
	if err := Validate(s, ok); err != nil {
		t.Errorf("combined schema refuses %s: %v", ok, err)
	}
	for _, bad := range []string{`{"promptguard": {"mode": "block"}}`, `{"promptgard": {}}`, `{"piimask": {"default_action": "hash"}}`} {
		if err := Validate(s, []byte(bad)); err == nil {
			t.Errorf("combined schema accepts %s", bad)
		}
	}
}

func combined(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c, err := compileCombined()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExamplesValidate: every example config (plugins/<filter>/examples/*.json) and every filter config in
// e2e/configs (local.json, envoy.yaml, kong.yaml, the Istio/Envoy Gateway/Flex files) is valid by its schema.
func TestExamplesValidate(t *testing.T) {
	n := 0
	for _, f := range Filters {
		s, err := Compile(f)
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(root(t), "plugins", f, "examples", "*.json"))
		if len(files) == 0 {
			t.Errorf("%s: no examples", f)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(s, b); err != nil {
				t.Errorf("%s: %v", file, err)
			}
			n++
		}
	}
	for _, c := range GatewayConfigs(t, root(t)) {
		if err := ValidateConfig(c.Filter, c.Config); err != nil {
			t.Errorf("%s: %s: %v", c.Where, c.Filter, err)
		}
		n++
	}
	t.Logf("%d example configs valid", n)
}

// readerMethods are the sdk/config.Obj methods that read a key (their first argument).
var readerMethods = map[string]bool{"String": true, "NonEmptyString": true, "Enum": true, "Int": true, "Float": true,
	"Bool": true, "Duration": true, "StringList": true, "StringOrList": true, "EnumList": true, "StringMap": true,
	"Object": true, "Array": true, "Regexp": true, "Raw": true, "HeaderName": true, "Has": true}

// keysRead lists the string-literal keys passed to sdk/config readers in the non-test Go files of dir.
func keysRead(t *testing.T, dir string) map[string]string {
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	out := map[string]string{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !readerMethods[sel.Sel.Name] {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if k, err := strconv.Unquote(lit.Value); err == nil && k != "" {
				out[k] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return out
}

// propertyNames collects every property name anywhere in a schema.
func propertyNames(v any, out map[string]bool) {
	switch t := v.(type) {
	case M:
		if p, ok := t["properties"].(M); ok {
			for k := range p {
				out[k] = true
			}
		}
		for _, x := range t {
			propertyNames(x, out)
		}
	case []any:
		for _, x := range t {
			propertyNames(x, out)
		}
	}
}

// TestSchemaHasEveryKeyTheParserReads: a key read by a filter's config.go (or by sdk/config for every filter)
// that its schema does not have fails here, before any generated config is needed. A new field added to a
// parser therefore needs its line in dist/schema/schema.go (and go generate).
func TestSchemaHasEveryKeyTheParserReads(t *testing.T) {
	common := keysRead(t, filepath.Join(root(t), "sdk", "config"))
	if len(common) < 10 {
		t.Fatalf("found only %d keys in sdk/config: %v", len(common), common)
	}
	for _, f := range Filters {
		s, _ := For(f)
		names := map[string]bool{}
		propertyNames(s, names)
		keys := keysRead(t, filepath.Join(root(t), "plugins", f))
		if len(keys) < 5 {
			t.Errorf("%s: found only %d keys read in config.go", f, len(keys))
		}
		for k, at := range common {
			keys[k] = at
		}
		var missing []string
		for k, at := range keys {
			if !names[k] {
				missing = append(missing, k+" (read at "+at+")")
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("%s: the parser reads %s but dist/%s.schema.json has no such property: add it to dist/schema/schema.go and run go generate ./dist/schema", f, m, f)
		}
	}
}

// TestKongMetaIsDraft4: Kong's validator (lua-resty-ljsonschema) is draft 4 and refuses a config_schema whose
// $schema is another draft; meta.json holds the same types, enums and ranges without 2020-12 keywords.
func TestKongMetaIsDraft4(t *testing.T) {
	draft4Only := map[string]bool{"$schema": false, "$id": false, "const": false, "contains": false, "if": false,
		"then": false, "propertyNames": false, "examples": false, "prefixItems": false, "$defs": false}
	for _, f := range Filters {
		b, err := os.ReadFile(filepath.Join(root(t), "dist", f+".meta.json"))
		if err != nil {
			t.Fatal(err)
		}
		var meta map[string]any
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatal(err)
		}
		if len(meta) != 1 || meta["config_schema"] == nil {
			t.Errorf("%s.meta.json: want exactly {\"config_schema\": ...}", f)
		}
		var walk func(v any, path string)
		walk = func(v any, path string) {
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					if _, bad := draft4Only[k]; bad && !strings.HasSuffix(path, "properties") {
						t.Errorf("%s.meta.json: %s/%s is not draft 4", f, path, k)
					}
					walk(c, path+"/"+k)
				}
			case []any:
				for i, c := range x {
					walk(c, path+"/"+strconv.Itoa(i))
				}
			}
		}
		walk(meta["config_schema"], "")
		// as draft 4 the schema still accepts the examples and refuses a wrong enum
		c, err := CompileDraft4(b)
		if err != nil {
			t.Fatalf("%s.meta.json: %v", f, err)
		}
		files, _ := filepath.Glob(filepath.Join(root(t), "plugins", f, "examples", "*.json"))
		for _, file := range files {
			ex, _ := os.ReadFile(file)
			if err := Validate(c, ex); err != nil {
				t.Errorf("%s.meta.json refuses %s: %v", f, file, err)
			}
		}
		if err := Validate(c, []byte(`{"mode": "enforced"}`)); err == nil {
			t.Errorf("%s.meta.json accepts mode \"enforced\"", f)
		}
	}
}

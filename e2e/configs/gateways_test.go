package configs

// The gateway files are validated by the gateways' own API definitions: Envoy's v3 protos (go-control-plane, with
// the protoc-gen-validate rules), Istio's WasmPlugin proto (istio.io/api) and Envoy Gateway's API types and CRD
// schema (github.com/envoyproxy/gateway). These imports are test-only: no filter module links them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	istioext "istio.io/api/extensions/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/wasmguard/wasmguard/dist/schema"
)

// validateAll runs the protoc-gen-validate rules of m and of every message inside it, including the ones packed
// in google.protobuf.Any (typed_config, typed_per_filter_config), which m.ValidateAll() does not open.
func validateAll(m protoreflect.Message, path string) error {
	if v, ok := m.Interface().(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return validateAll(inner.ProtoReflect(), path+"("+a.TypeUrl+")")
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = validateAll(l.Get(i).Message(), fmt.Sprintf("%s[%d]", p, i))
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				err = validateAll(mv.Message(), p+"["+k.String()+"]")
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			err = validateAll(v.Message(), p)
		}
		return err == nil
	})
	return err
}

// strictJSON is protojson with unknown fields rejected (the default) and a clear error.
func strictJSON(j []byte, m proto.Message) error {
	return protojson.UnmarshalOptions{}.Unmarshal(j, m)
}

// validateEnvoy parses a bootstrap YAML into envoy.config.bootstrap.v3.Bootstrap (unknown fields, wrong types
// and bad enums are errors) and runs every validation rule, inside Any too.
func validateEnvoy(b []byte) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	bs := &bootstrapv3.Bootstrap{}
	if err := strictJSON(j, bs); err != nil {
		return err
	}
	return validateAll(bs.ProtoReflect(), "bootstrap")
}

func envoyFiles(t *testing.T) []string {
	files, _ := filepath.Glob("envoy*.yaml")
	if len(files) < 3 {
		t.Fatalf("want envoy.yaml, envoy-routes.yaml and envoy-combined.yaml; found %v", files)
	}
	return files
}

// TestEnvoyConfigsValidate: every Envoy configuration in e2e/configs is a valid v3 bootstrap, and each filter
// configuration inside is valid by the filter's JSON Schema (or the combined module's).
func TestEnvoyConfigsValidate(t *testing.T) {
	for _, f := range envoyFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateEnvoy(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	routes, _ := os.ReadFile("envoy-routes.yaml")
	for _, want := range []string{"allow_on_headers_stop_iteration: true", "envoy.config.route.v3.FilterConfig", "FAIL_OPEN", `"match": {"route": "batch"}`} {
		if !bytes.Contains(routes, []byte(want)) {
			t.Errorf("envoy-routes.yaml no longer shows %s", want)
		}
	}
}

// breakage is one field broken in a gateway file, and the gateway library's message it must produce.
type breakage struct {
	name, old, new, msg string
}

func checkBroken(t *testing.T, file string, validate func([]byte) error, cases []breakage) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !bytes.Contains(b, []byte(c.old)) {
			t.Errorf("%s: %s: %q not in the file", file, c.name, c.old)
			continue
		}
		err := validate(bytes.Replace(b, []byte(c.old), []byte(c.new), 1))
		if err == nil {
			t.Errorf("%s: %s (%q → %q) is accepted", file, c.name, c.old, c.new)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %s: error %q does not say %q", file, c.name, err, c.msg)
		}
	}
}

// TestEnvoyConfigsRejectBrokenFields: a typo, a wrong type, a bad enum and a violated validation rule each fail
// with Envoy's API message.
func TestEnvoyConfigsRejectBrokenFields(t *testing.T) {
	checkBroken(t, "envoy-routes.yaml", validateEnvoy, []breakage{
		{"typo", "failure_policy: FAIL_OPEN", "failure_polcy: FAIL_OPEN", `unknown field "failure_polcy"`},
		{"wrong type", "port_value: 10000", "port_value: ten", `invalid value for uint32 field portValue: "ten"`},
		{"bad enum", "failure_policy: FAIL_CLOSED", "failure_policy: FAIL_CLOSE", `invalid value for enum field failurePolicy: "FAIL_CLOSE"`},
		{"bad enum in Any", "type: LOGICAL_DNS", "type: DNS", `invalid value for enum field type`},
		{"wrong type in Any", "                allow_on_headers_stop_iteration: true", "                allow_on_headers_stop_iteration: often", `invalid value for bool field value: "often"`},
		{"validation rule", "stat_prefix: llm", `stat_prefix: ""`, `invalid HttpConnectionManager.StatPrefix: value length must be at least 1 runes`},
		{"validation rule in route", "host_rewrite_literal: api.openai.com, timeout: 60s", "host_rewrite_literal: \"bad\\nhost\", timeout: 60s", `HostRewriteLiteral`},
	})
}

// The Istio WasmPlugin CRD and Envoy Gateway's EnvoyExtensionPolicy CRD ship in the Go modules.
func moduleDir(t *testing.T, mod string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

// crdSchema compiles the openAPIV3Schema of one version of a CRD (JSON Schema draft 4 as Kubernetes reads it).
func crdSchema(t *testing.T, file, kind, version string) *jsonschema.Schema {
	docs, err := schema.ReadDocs(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		m, _ := d.(map[string]any)
		spec, _ := m["spec"].(map[string]any)
		names, _ := spec["names"].(map[string]any)
		if names["kind"] != kind {
			continue
		}
		vs, _ := spec["versions"].([]any)
		for _, v := range vs {
			vm, _ := v.(map[string]any)
			if vm["name"] != version {
				continue
			}
			s := vm["schema"].(map[string]any)["openAPIV3Schema"]
			b, _ := json.Marshal(s)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft4)
			if err := c.AddResource("crd.json", doc); err != nil {
				t.Fatal(err)
			}
			cs, err := c.Compile("crd.json")
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
	}
	t.Fatalf("%s: no %s %s", file, kind, version)
	return nil
}

// validateK8s checks each document of a manifest file: apiVersion and kind, the spec by typed (proto or Go)
// decoding with unknown fields rejected, and the whole object by the CRD's schema.
func validateK8s(b []byte, apiVersion, kind string, crd *jsonschema.Schema, typed func(spec []byte) error) error {
	var errs []error
	for i, d := range bytes.Split(b, []byte("\n---\n"))[1:] {
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(j, &obj); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		if string(obj["apiVersion"]) != `"`+apiVersion+`"` || string(obj["kind"]) != `"`+kind+`"` {
			errs = append(errs, fmt.Errorf("document %d: apiVersion %s kind %s, want %s %s", i+1, obj["apiVersion"], obj["kind"], apiVersion, kind))
		}
		if err := typed(j); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err := crd.Validate(inst); err != nil {
			errs = append(errs, fmt.Errorf("document %d: CRD schema: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}

func validateIstio(t *testing.T) func([]byte) error {
	crd := crdSchema(t, filepath.Join(moduleDir(t, "istio.io/api"), "kubernetes", "customresourcedefinitions.gen.yaml"), "WasmPlugin", "v1alpha1")
	return func(b []byte) error {
		return validateK8s(b, "extensions.istio.io/v1alpha1", "WasmPlugin", crd, func(j []byte) error {
			var obj struct {
				Spec json.RawMessage `json:"spec"`
			}
			if err := json.Unmarshal(j, &obj); err != nil {
				return err
			}
			return strictJSON(obj.Spec, &istioext.WasmPlugin{})
		})
	}
}

// TestIstioWasmPlugins: istio/wasmplugins.yaml is four WasmPlugins valid by istio.io/api's proto (unknown fields,
// types, enums) and Istio's CRD schema, each pinned by digest, one per filter in chain order.
func TestIstioWasmPlugins(t *testing.T) {
	validate := validateIstio(t)
	b, err := os.ReadFile("istio/wasmplugins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(b); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, d := range bytes.Split(b, []byte("\n---\n"))[1:] {
		j, _ := yaml.YAMLToJSON(d)
		var obj struct{ Spec json.RawMessage }
		_ = json.Unmarshal(j, &obj)
		wp := &istioext.WasmPlugin{}
		if err := strictJSON(obj.Spec, wp); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, wp.Url)
		if !strings.Contains(wp.Url, "@sha256:") || wp.ImagePullPolicy != istioext.PullPolicy_IfNotPresent || len(wp.TargetRefs) == 0 {
			t.Errorf("%s: want a digest-pinned url, imagePullPolicy IfNotPresent and targetRefs", wp.Url)
		}
	}
	for i, f := range chain {
		if i >= len(urls) || !strings.Contains(urls[i], "/"+f+"@") {
			t.Errorf("WasmPlugin %d: url %v, want filter %s", i, urls, f)
		}
	}
}

func TestIstioWasmPluginsRejectBrokenFields(t *testing.T) {
	checkBroken(t, "istio/wasmplugins.yaml", validateIstio(t), []breakage{
		{"typo", "imagePullPolicy: IfNotPresent", "imagePullPolcy: IfNotPresent", `unknown field "imagePullPolcy"`},
		{"bad enum", "failStrategy: FAIL_CLOSE", "failStrategy: FAIL_CLOSED", `invalid value for enum field failStrategy`},
		{"bad enum (phase)", "phase: AUTHN", "phase: AUTH", `invalid value for enum field phase`},
		{"wrong type", "priority: 100", "priority: high", `priority`},
	})
}

func validateEG(t *testing.T) func([]byte) error {
	crd := crdSchema(t, filepath.Join(moduleDir(t, "github.com/envoyproxy/gateway"), "charts", "gateway-helm", "crds", "generated",
		"gateway.envoyproxy.io_envoyextensionpolicies.yaml"), "EnvoyExtensionPolicy", "v1alpha1")
	return func(b []byte) error {
		return validateK8s(b, "gateway.envoyproxy.io/v1alpha1", "EnvoyExtensionPolicy", crd, func(j []byte) error {
			dec := json.NewDecoder(bytes.NewReader(j))
			dec.DisallowUnknownFields()
			return dec.Decode(&egv1a1.EnvoyExtensionPolicy{})
		})
	}
}

// TestEnvoyGatewayPolicies: envoy-gateway/extensionpolicy.yaml decodes into Envoy Gateway's API types with
// unknown fields rejected and is valid by its CRD schema (enums, required fields).
func TestEnvoyGatewayPolicies(t *testing.T) {
	b, err := os.ReadFile("envoy-gateway/extensionpolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateEG(t)(b); err != nil {
		t.Fatal(err)
	}
	j, _ := yaml.YAMLToJSON(bytes.Split(b, []byte("\n---\n"))[1])
	var p egv1a1.EnvoyExtensionPolicy
	if err := json.Unmarshal(j, &p); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range p.Spec.Wasm {
		names = append(names, *w.Name)
		if w.Code.Type != egv1a1.ImageWasmCodeSourceType || w.Code.Image == nil || w.Code.Image.SHA256 == nil {
			t.Errorf("%s: want an Image code source pinned by sha256", *w.Name)
		}
	}
	if strings.Join(names, ",") != strings.Join(chain, ",") {
		t.Errorf("wasm extensions %v, want %v", names, chain)
	}
}

func TestEnvoyGatewayPoliciesRejectBrokenFields(t *testing.T) {
	checkBroken(t, "envoy-gateway/extensionpolicy.yaml", validateEG(t), []breakage{
		{"typo", "rootID: promptguard", "rootIDs: promptguard", `unknown field "rootIDs"`},
		{"bad enum", "pullPolicy: IfNotPresent", "pullPolicy: IfNotPresnt", `value must be one of 'IfNotPresent', 'Always'`},
		{"bad enum (code type)", "type: Image", "type: OCI", `value must be one of 'HTTP', 'Image'`},
		{"wrong type", "failOpen: false", "failOpen: nope", `failOpen`},
	})
}

// TestGatewayFilterConfigsValidate: every filter configuration in the gateway files is valid by its schema.
func TestGatewayFilterConfigsValidate(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]int{}
	for _, c := range schema.GatewayConfigs(t, root) {
		file, _, _ := strings.Cut(c.Where, ":")
		file, _, _ = strings.Cut(file, " (document")
		seen[strings.TrimPrefix(filepath.ToSlash(file), "e2e/configs/")]++
		if err := schema.ValidateConfig(c.Filter, c.Config); err != nil {
			t.Errorf("%s: %s: %v", c.Where, c.Filter, err)
		}
	}
	// every filter configuration of every gateway file is found (a file the walk cannot read would validate nothing)
	want := map[string]int{"envoy.yaml": 4, "envoy-routes.yaml": 4, "envoy-combined.yaml": 2, "kong.yaml": 9, "local.json": 4,
		"istio/wasmplugins.yaml": 4, "envoy-gateway/extensionpolicy.yaml": 5, "flex/wasmguard.yaml": 4}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("filter configurations found per file: %v, want %v", seen, want)
	}
}

// TestGatewayFilterConfigsRejectBrokenFields: a filter configuration broken inside any gateway file fails its
// JSON Schema with the validator's message (the gateway's own schema cannot see into it: Envoy, Istio and Flex
// pass it as opaque JSON).
func TestGatewayFilterConfigsRejectBrokenFields(t *testing.T) {
	for _, c := range []struct{ file, old, new, msg string }{
		{"envoy.yaml", `"on_error": "deny"`, `"on_error": "denied"`, `value must be one of 'allow', 'deny'`},
		{"envoy-routes.yaml", `"secret_action": "block"`, `"secret_action": "blocks"`, `value must be one of`},
		{"envoy-routes.yaml", `"hold_headers": true`, `"hold_header": true`, `additional properties 'hold_header' not allowed`},
		{"envoy-combined.yaml", `"promptguard": {"mode": "monitor"}`, `"promptguard": {"mode": "monitored"}`, `value must be one of`},
		{"istio/wasmplugins.yaml", "data_threshold: 0.35", "data_threshold: 3.5", `maximum: got 3.5, want 1`},
		{"envoy-gateway/extensionpolicy.yaml", "status: 400", "status: '400'", `got string, want null or integer`},
		{"flex/wasmguard.yaml", "minute: 20000", "minute: lots", `got string, want null or integer`},
		{"local.json", `"mode": "enforce", "on_error": "deny"}`, `"mode": "enforce", "on_eror": "deny"}`, `additional properties 'on_eror' not allowed`},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(c.old)) {
			t.Errorf("%s: %q not in the file", c.file, c.old)
			continue
		}
		var errs []string
		for _, fc := range schema.ConfigsIn(t, c.file, bytes.Replace(b, []byte(c.old), []byte(c.new), 1)) {
			if err := schema.ValidateConfig(fc.Filter, fc.Config); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0], c.msg) {
			t.Errorf("%s: %q → %q: errors %q, want one saying %q", c.file, c.old, c.new, errs, c.msg)
		}
	}
}

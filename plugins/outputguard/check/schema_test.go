package check

import (
	"errors"
	"reflect"
	"testing"
)

const orderSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "order",
  "type": "object",
  "properties": {
    "id": {"type": "string", "pattern": "^ord_[0-9a-z]{6}$"},
    "status": {"enum": ["open", "paid", "shipped"]},
    "currency": {"const": "EUR"},
    "note": {"type": ["string", "null"], "maxLength": 20},
    "items": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"$ref": "#/$defs/item"}},
    "customer": {"oneOf": [{"$ref": "#/$defs/person"}, {"type": "string", "minLength": 3}]}
  },
  "required": ["id", "status", "items"],
  "additionalProperties": false,
  "$defs": {
    "item": {
      "type": "object",
      "properties": {
        "sku": {"type": "string", "minLength": 1},
        "qty": {"type": "integer", "minimum": 1},
        "price": {"type": "number", "minimum": 0, "exclusiveMaximum": 10000}
      },
      "required": ["sku", "qty", "price"]
    },
    "person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
  }
}`

func TestSchemaValidate(t *testing.T) {
	s, err := CompileSchema([]byte(orderSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"valid", `{"id":"ord_ab12cd","status":"paid","currency":"EUR","note":null,"items":[{"sku":"a","qty":2,"price":9.5}],"customer":{"name":"Ann"}}`, nil},
		{"valid in a code fence", "```json\n{\"id\":\"ord_ab12cd\",\"status\":\"open\",\"items\":[{\"sku\":\"a\",\"qty\":1,\"price\":0}]}\n```", nil},
		{"nested violations", `{"id":"ord_ab12cd","status":"paid","items":[{"sku":"a","qty":1,"price":1},{"sku":"","qty":1.5,"price":-1}]}`,
			[]string{`/items/1/sku: must be at least 1 characters long; got 0`, `/items/1/qty: must be integer; got number`, `/items/1/price: must be >= 0`}},
		{"top level", `{"id":"order-1","status":"lost","currency":"USD","extra":1,"items":[]}`,
			[]string{`/id: must match pattern "^ord_[0-9a-z]{6}$"`, `/status: must be one of "open", "paid", "shipped"`, `/currency: must be equal to "EUR"`, `/extra: additional property not allowed`, `/items: must have at least 1 items; got 0`}},
		{"missing required", `{"status":"open"}`, []string{`/: missing required property "id"`, `/: missing required property "items"`}},
		{"wrong root type", `[1,2]`, []string{`/: must be object; got array`}},
		{"oneOf none", `{"id":"ord_ab12cd","status":"open","items":[{"sku":"a","qty":1,"price":1}],"customer":"A"}`, []string{`/customer: must match exactly one schema in oneOf; matched 0`}},
		{"code points not bytes", `{"id":"ord_ab12cd","status":"open","items":[{"sku":"a","qty":1,"price":1}],"note":"ééééééééééééééééééé"}`, nil},
		{"exclusive max", `{"id":"ord_ab12cd","status":"open","items":[{"sku":"a","qty":1,"price":10000}]}`, []string{`/items/0/price: must be < 10000`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ValidateText(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if _, err := s.ValidateText(`{"id": "ord_ab12cd", `); !errors.Is(err, ErrNotJSON) {
		t.Errorf("truncated JSON: err = %v; want ErrNotJSON", err)
	}
}

func TestSchemaKeywords(t *testing.T) {
	tests := []struct {
		schema, doc string
		want        []string
	}{
		{`{"type":"array","uniqueItems":true}`, `[1,{"a":1,"b":2},{"b":2,"a":1}]`, []string{`/: items 1 and 2 are equal (uniqueItems)`}},
		{`{"type":"number","multipleOf":0.5}`, `1.25`, []string{`/: must be a multiple of 0.5`}},
		{`{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `true`, []string{`/: must match at least one schema in anyOf`}},
		{`{"allOf":[{"minimum":2},{"maximum":1}]}`, `3`, []string{`/: must be <= 1`}},
		{`{"not":{"type":"null"}}`, `null`, []string{`/: must not match the schema in not`}},
		{`{"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`, `["a",1,2]`, []string{`/2: not allowed`}},
		{`{"properties":{"a/b":{"type":"string"}}}`, `{"a/b":1}`, []string{`/a~1b: must be string; got number`}},
		{`{"$defs":{"list":{"type":["null","object"],"properties":{"next":{"$ref":"#/$defs/list"}}}},"$ref":"#/$defs/list"}`, `{"next":{"next":{"next":5}}}`, []string{`/next/next/next: must be null or object; got number`}},
		{`{"type":"object","additionalProperties":{"type":"integer"},"maxProperties":2}`, `{"a":1,"b":"x","c":3}`, []string{`/: must have at most 2 properties`, `/b: must be integer; got string`}},
		{`{"const":{"a":[1,2.0]}}`, `{"a":[1,2]}`, nil},
	}
	for _, tc := range tests {
		s, err := CompileSchema([]byte(tc.schema))
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		if got := s.Validate([]byte(tc.doc)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s on %s:\n got  %q\nwant %q", tc.schema, tc.doc, got, tc.want)
		}
	}
}

func TestCompileSchemaErrors(t *testing.T) {
	tests := []struct{ schema, want string }{
		{`{"type":"text"}`, `/type: must be one of null, boolean, object, array, number, integer, string; got "text"`},
		{`{"properties":{"a":{"minimum":"0"}}}`, `/properties/a/minimum: must be a number; got string`},
		{`{"pattern":"(["}`, "/pattern: error parsing regexp: missing closing ]: `[`"},
		{`{"$ref":"#/$defs/missing"}`, `$ref "#/$defs/missing": no such definition (supported: #, #/$defs/<name>, #/definitions/<name>)`},
		{`{"patternProperties":{}}`, `/patternProperties: keyword not supported by outputguard's JSON Schema subset`},
		{`{"items":[1]}`, `/items: must be an object or a boolean; got array`},
		{`{"minItems":-1}`, `/minItems: must be a non-negative integer; got -1`},
		{`{"anyOf":[]}`, `/anyOf: must be a non-empty array of schemas`},
		{`[]`, `/: must be an object or a boolean; got array`},
	}
	for _, tc := range tests {
		_, err := CompileSchema([]byte(tc.schema))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error = %v\nwant %s", tc.schema, err, tc.want)
		}
	}
}

func TestSchemaSelfRefTerminates(t *testing.T) {
	s, err := CompileSchema([]byte(`{"$ref":"#"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Validate([]byte(`1`)); len(got) != 1 {
		t.Errorf("self-referencing schema: %q; want one depth error", got)
	}
}

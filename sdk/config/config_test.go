package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type testCfg struct {
	Common
	Threshold float64
	Action    string
	Limit     int64
	Deny      []string
	Verbose   bool
	Window    time.Duration
	Nested    string
}

func parseTest(o Obj) testCfg {
	c := testCfg{
		Common:    ReadCommon(o),
		Threshold: o.Float("threshold", 0.8, 0, 1),
		Action:    o.Enum("action", "block", "block", "redact", "annotate"),
		Limit:     o.Int("limit", 100, 1, 1000),
		Deny:      o.StringList("deny"),
		Verbose:   o.Bool("verbose", false),
		Window:    o.Duration("window", time.Minute, time.Second, 24*time.Hour),
	}
	if n, ok := o.Object("nested"); ok {
		c.Nested = n.String("name", "")
	}
	return c
}

var defaults = testCfg{
	Common:    Common{Mode: ModeEnforce, OnError: OnErrorDeny, MaxBodyBytes: 1 << 20},
	Threshold: 0.8, Action: "block", Limit: 100, Window: time.Minute,
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    testCfg
		wantErr string
	}{
		{name: "empty", json: "", want: defaults},
		{name: "whitespace", json: " \n\t", want: defaults},
		{name: "null", json: "null", want: defaults},
		{name: "empty object", json: "{}", want: defaults},
		{name: "all set", json: `{"mode":"monitor","on_error":"allow","max_body_bytes":2048,"consumer_header":"X-Consumer-ID",
			"threshold":0.5,"action":"redact","limit":1e2,"deny":["a","b"],"verbose":true,"window":"30s","nested":{"name":"n"}}`,
			want: testCfg{Common: Common{Mode: ModeMonitor, OnError: OnErrorAllow, MaxBodyBytes: 2048, ConsumerHeader: "x-consumer-id"},
				Threshold: 0.5, Action: "redact", Limit: 100, Deny: []string{"a", "b"}, Verbose: true, Window: 30 * time.Second, Nested: "n"}},
		{name: "null values mean default", json: `{"mode":null,"threshold":null,"deny":null,"nested":null}`, want: defaults},
		{name: "integral float accepted", json: `{"limit":10.0}`, want: func() testCfg { c := defaults; c.Limit = 10; return c }()},
		{name: "empty list", json: `{"deny":[]}`, want: func() testCfg { c := defaults; c.Deny = []string{}; return c }()},
		{name: "invalid json", json: `{"mode": "enforce",}`, wantErr: "config: must be valid JSON; got invalid JSON at line 1, column 20"},
		{name: "invalid json multiline", json: "{\n  \"a\": 1\n  \"b\": 2\n}", wantErr: "config: must be valid JSON; got invalid JSON at line 3, column 3"},
		{name: "invalid json after blank lines", json: "\n\n  {\"a\": tru}", wantErr: "config: must be valid JSON; got invalid JSON at line 3, column 9"},
		{name: "trailing garbage", json: `{} x`, wantErr: "config: must be valid JSON; got invalid JSON at line 1, column 4"},
		{name: "not an object", json: `[1,2]`, wantErr: "config: must be a JSON object; got [1,2]"},
		{name: "string top level", json: `"enforce"`, wantErr: `config: must be a JSON object; got "enforce"`},
		{name: "bad enum", json: `{"action":"hash"}`, wantErr: `action: must be one of block, redact, annotate; got "hash"`},
		{name: "enum wrong type", json: `{"mode":1}`, wantErr: `mode: must be one of enforce, monitor; got 1`},
		{name: "float as string", json: `{"threshold":"high"}`, wantErr: `threshold: must be a number between 0 and 1; got "high"`},
		{name: "float out of range", json: `{"threshold":1.5}`, wantErr: `threshold: must be a number between 0 and 1; got 1.5`},
		{name: "int as string", json: `{"limit":"10"}`, wantErr: `limit: must be an integer between 1 and 1000; got "10"`},
		{name: "int fraction", json: `{"limit":10.5}`, wantErr: `limit: must be an integer between 1 and 1000; got 10.5`},
		{name: "int too big", json: `{"limit":1e30}`, wantErr: `limit: must be an integer between 1 and 1000; got 1e30`},
		{name: "int below min", json: `{"limit":0}`, wantErr: `limit: must be an integer between 1 and 1000; got 0`},
		{name: "max body", json: `{"max_body_bytes":"1MB"}`, wantErr: `max_body_bytes: must be an integer between 1 and 67108864; got "1MB"`},
		{name: "bool as string", json: `{"verbose":"yes"}`, wantErr: `verbose: must be true or false; got "yes"`},
		{name: "bool as number", json: `{"verbose":1}`, wantErr: `verbose: must be true or false; got 1`},
		{name: "duration", json: `{"window":30}`, wantErr: `window: must be a duration such as "30s" between 1s and 24h0m0s; got 30`},
		{name: "duration range", json: `{"window":"48h"}`, wantErr: `window: must be a duration such as "30s" between 1s and 24h0m0s; got "48h"`},
		{name: "list not array", json: `{"deny":"a"}`, wantErr: `deny: must be an array of strings; got "a"`},
		{name: "list element", json: `{"deny":["a",7,"b",{"x":1}]}`, wantErr: "deny[1]: must be a string; got 7\ndeny[3]: must be a string; got {\"x\":1}"},
		{name: "object wrong type", json: `{"nested":[1]}`, wantErr: `nested: must be an object; got [1]`},
		{name: "unknown key", json: `{"modee":"monitor"}`, wantErr: `modee: unknown key`},
		{name: "unknown nested key", json: `{"nested":{"name":"a","nmae":"b"}}`, wantErr: `nested.nmae: unknown key`},
		{name: "duplicate key", json: `{"mode":"monitor","mode":"enforce"}`, wantErr: `mode: duplicate key`},
		{name: "consumer header", json: `{"consumer_header":"x consumer"}`, wantErr: `consumer_header: must be an HTTP header name such as "x-consumer-id"; got "x consumer"`},
		{name: "long string cut", json: `{"action":"` + strings.Repeat("é", 30) + `"}`, wantErr: `action: must be one of block, redact, annotate; got "` + strings.Repeat("é", 20) + `..."`},
		{name: "many errors sorted", json: `{"verbose":"x","action":"hash","zz":1,"limit":-1}`,
			wantErr: "action: must be one of block, redact, annotate; got \"hash\"\nlimit: must be an integer between 1 and 1000; got -1\nverbose: must be true or false; got \"x\"\nzz: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Parse([]byte(tc.json))
			var got testCfg
			if err == nil {
				got = parseTest(o)
				err = o.Err()
			}
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error %q, got none (config %+v)", tc.wantErr, got)
				}
				if err.Error() != tc.wantErr {
					t.Fatalf("error\n got: %s\nwant: %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("config\n got: %+v\nwant: %+v", got, tc.want)
			}
		})
	}
}

func TestErrorsAs(t *testing.T) {
	o, _ := Parse([]byte(`{"rules":[1,2,3,4,5,6,7,8,9,10,11]}`))
	o.Array("rules")
	err := o.Err()
	var ce *Errors
	if !errors.As(err, &ce) {
		t.Fatalf("Err() = %T, want *Errors", err)
	}
	if len(ce.Issues) != 11 {
		t.Fatalf("got %d issues, want 11", len(ce.Issues))
	}
	// numeric order: rules[2] before rules[10]
	if ce.Issues[2].Path != "rules[2]" || ce.Issues[10].Path != "rules[10]" {
		t.Fatalf("issues not in numeric path order: %v", ce.Issues)
	}
	if ce.Issues[0].String() != "rules[0]: must be an object; got 1" {
		t.Fatalf("issue text %q", ce.Issues[0])
	}
}

func TestErrorfAndRegexp(t *testing.T) {
	o, _ := Parse([]byte(`{"min":5,"max":2,"pattern":"a(b","ok":"^x+$"}`))
	mn := o.Int("min", 0, 0, 10)
	mx := o.Int("max", 0, 0, 10)
	if mn > mx {
		o.Errorf("min", "must not exceed max (%d); got %d", mx, mn)
	}
	if re := o.Regexp("pattern"); re != nil {
		t.Fatal("invalid regexp compiled")
	}
	re := o.Regexp("ok")
	if re == nil || !re.MatchString("xxx") {
		t.Fatal("valid regexp not compiled")
	}
	want := "min: must not exceed max (2); got 5\npattern: must be a valid regular expression (missing closing ): `a(b`); got \"a(b\""
	if err := o.Err(); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestZeroObj(t *testing.T) {
	var o Obj
	if o.String("a", "d") != "d" || o.Int("a", 3, 0, 5) != 3 || o.Bool("a", true) != true || o.Err() != nil {
		t.Fatal("zero Obj must give defaults and no error")
	}
	if _, ok := o.Object("x"); ok {
		t.Fatal("zero Obj has no objects")
	}
	if m := ReadMatch(o); !m.Empty() {
		t.Fatal("zero Obj match must be empty")
	}
}

func TestKeysMapShape(t *testing.T) {
	o, _ := Parse([]byte(`{"limits":{"alice":100,"bob":"x"}}`))
	lim, _ := o.Object("limits")
	got := map[string]int64{}
	for _, k := range lim.Keys() {
		got[k] = lim.Int(k, 0, 1, 1000)
	}
	if got["alice"] != 100 {
		t.Fatalf("alice = %d", got["alice"])
	}
	if err := o.Err(); err == nil || err.Error() != `limits.bob: must be an integer between 1 and 1000; got "x"` {
		t.Fatalf("err = %v", err)
	}
}

func TestEnumListAndStringMap(t *testing.T) {
	o, _ := Parse([]byte(`{"detectors":["email","ssn","phone",3],"labels":{"team":"red","tier":3},"ok":["a"],"m":{"a":"b"}}`))
	got := o.EnumList("detectors", "email", "phone")
	if len(got) != 2 || got[0] != "email" || got[1] != "phone" {
		t.Fatalf("EnumList = %v", got)
	}
	m := o.StringMap("labels")
	if m["team"] != "red" || len(m) != 1 {
		t.Fatalf("StringMap = %v", m)
	}
	if v := o.EnumList("ok", "a"); len(v) != 1 {
		t.Fatal(v)
	}
	if v := o.StringMap("m"); v["a"] != "b" {
		t.Fatal(v)
	}
	want := "detectors[1]: must be one of email, phone; got \"ssn\"\ndetectors[3]: must be one of email, phone; got 3\nlabels.tier: must be a string; got 3"
	if err := o.Err(); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	o2, _ := Parse([]byte(`{"detectors":"email","labels":[1]}`))
	o2.EnumList("detectors", "email")
	o2.StringMap("labels")
	want2 := "detectors: must be an array of email; got \"email\"\nlabels: must be an object of strings; got [1]"
	if err := o2.Err(); err == nil || err.Error() != want2 {
		t.Fatalf("got %v\nwant %s", err, want2)
	}
}

func TestLargeObjectDuplicates(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"m":{`)
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"k5":1,"k70":2}}`)
	o, _ := Parse([]byte(b.String()))
	m, _ := o.Object("m")
	for _, k := range m.Keys() {
		m.Int(k, 0, 0, 1000)
	}
	if err := o.Err(); err == nil || err.Error() != "m.k5: duplicate key\nm.k70: duplicate key" {
		t.Fatalf("err = %v", err)
	}
	if len(m.Keys()) != 100 {
		t.Fatalf("%d keys", len(m.Keys()))
	}
}

func TestCommonPassOnError(t *testing.T) {
	for _, tc := range []struct {
		mode                  Mode
		onError               OnError
		enforce, open, passes bool
	}{
		{ModeEnforce, OnErrorDeny, true, false, false},
		{ModeEnforce, OnErrorAllow, true, true, true},
		{ModeMonitor, OnErrorDeny, false, false, true}, // monitor mode never blocks, not even on errors
		{ModeMonitor, OnErrorAllow, false, true, true},
	} {
		c := Common{Mode: tc.mode, OnError: tc.onError}
		if c.Enforce() != tc.enforce || c.FailOpen() != tc.open || c.PassOnError() != tc.passes {
			t.Errorf("%s/%s: Enforce %v FailOpen %v PassOnError %v", tc.mode, tc.onError, c.Enforce(), c.FailOpen(), c.PassOnError())
		}
	}
}

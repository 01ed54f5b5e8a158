package budget

import (
	"strings"
	"testing"
)

func TestReserveCommandEscapes(t *testing.T) {
	cmd := string(ReserveCommand([]ClusterCounter{{Key: "tb:b|a/b c%|minute|1", Limit: 10, Amount: 3, TTL: 0}}))
	if !strings.HasPrefix(cmd, "EVAL/") {
		t.Fatalf("command %q", cmd)
	}
	parts := strings.Split(cmd, "/")
	// EVAL, script, numkeys, key, amount, limit, ttl: a '/' inside the script or key must not split it.
	if len(parts) != 7 {
		t.Fatalf("%d path components in %q", len(parts), cmd)
	}
	if parts[2] != "1" || parts[3] != "tb:b|a%2Fb%20c%25|minute|1" || parts[4] != "3" || parts[5] != "10" || parts[6] != "1" {
		t.Fatalf("components %q", parts[2:])
	}
}

func TestParseReserveReply(t *testing.T) {
	cases := []struct {
		body    string
		n       int
		ok      bool
		denied  int
		used    []int64
		wantErr bool
	}{
		{`{"EVAL":[0,60,70]}`, 2, true, -1, []int64{60, 70}, false},
		{`{"EVAL":[2,140]}`, 2, false, 1, []int64{0, 140}, false},
		{`{"EVAL":[3,1]}`, 2, false, -1, nil, true},
		{`{"EVAL":[0,60]}`, 2, false, -1, nil, true},
		{`{"EVAL":[false,"ERR unknown command"]}`, 1, false, -1, nil, true},
		{`<html>`, 1, false, -1, nil, true},
		{``, 1, false, -1, nil, true},
	}
	for _, c := range cases {
		ok, denied, used, err := ParseReserveReply([]byte(c.body), c.n)
		if (err != nil) != c.wantErr || ok != c.ok || denied != c.denied {
			t.Errorf("%s: ok=%v denied=%d err=%v", c.body, ok, denied, err)
			continue
		}
		for i := range c.used {
			if used[i] != c.used[i] {
				t.Errorf("%s: used %v, want %v", c.body, used, c.used)
			}
		}
	}
}

func TestPending(t *testing.T) {
	var p Pending
	p.Add("b", -5)
	p.Add("a", 3)
	p.Add("b", -7)
	p.Add("c", 4)
	p.Add("c", -4) // nets to zero: nothing to send
	keys, deltas := p.Drain(1)
	if len(keys) != 1 || keys[0] != "a" || deltas[0] != 3 || p.Len() != 1 {
		t.Fatalf("drain 1: %v %v len=%d", keys, deltas, p.Len())
	}
	keys, deltas = p.Drain(10)
	if len(keys) != 1 || keys[0] != "b" || deltas[0] != -12 {
		t.Fatalf("drain: %v %v", keys, deltas)
	}
	p.Restore(keys, deltas)
	p.Add("b", 2)
	if keys, deltas = p.Drain(10); deltas[0] != -10 {
		t.Fatalf("restore: %v %v", keys, deltas)
	}
}

func TestKeysAndHashing(t *testing.T) {
	h := HashConsumer("salt", "sk-live-123")
	if len(h) != 24 || strings.Contains(h, "sk-live") || h == HashConsumer("other", "sk-live-123") {
		t.Fatalf("hash %q", h)
	}
	k := CounterKey("tb:", "per key", []string{h, "gpt|4o/evil", ""}, Day)
	if k != "tb:per_key|"+h+"|gpt_4o_evil|-|day" {
		t.Fatalf("key %q", k)
	}
	long := CounterKey("tb:", "b", []string{strings.Repeat("x", 100)}, Minute)
	if len(long) > 60 || !strings.Contains(long, "|h:") {
		t.Fatalf("long part not hashed: %q", long)
	}
	if ClusterKey(k, 20412) != k+"|20412" {
		t.Fatal("cluster key")
	}
	// JWT payload {"sub":"user-1","org":{"id":42}} (unsigned; only the payload is read).
	jwt := "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJvcmciOnsiaWQiOjQyfX0.sig"
	if v, ok := JWTClaim(jwt, "sub"); !ok || v != "user-1" {
		t.Fatalf("sub = %q %v", v, ok)
	}
	if v, ok := JWTClaim(jwt, "org.id"); !ok || v != "42" {
		t.Fatalf("org.id = %q %v", v, ok)
	}
	for _, bad := range []string{"", "abc", "a.b", "a.!!!.c", "x.eyJzdWIiOjF9", "x.bm90IGpzb24.y"} {
		if v, ok := JWTClaim(bad, "sub"); ok {
			t.Errorf("JWTClaim(%q) = %q", bad, v)
		}
	}
}

func TestPriceAndAmount(t *testing.T) {
	pt := PriceTable{
		{Model: "*", Price: Price{Input: 1, Output: 2}},
		{Model: "gpt-4o*", Price: Price{Input: 2.5, CachedInput: 1.25, Output: 10}},
		{Model: "gpt-4o-mini*", Price: Price{Input: 0.15, Output: 0.6}},
		{Model: "o3", Price: Price{Input: 2, Output: 8, Reasoning: 8}},
	}
	p, ok := pt.Lookup("gpt-4o-mini-2024-07-18")
	if !ok || p.Input != 0.15 {
		t.Fatalf("longest prefix: %+v", p)
	}
	if p, _ = pt.Lookup("claude-x"); p.Input != 1 {
		t.Fatalf("catch-all: %+v", p)
	}
	if _, ok := (PriceTable{{Model: "a"}}).Lookup("b"); ok {
		t.Fatal("no match expected")
	}
	p, _ = pt.Lookup("gpt-4o")
	// 1000 input of which 400 cached, 500 output: 600×2.5 + 400×1.25 + 500×10 = 1500+500+5000 µ$.
	tk := Tokens{Input: 1000, Cached: 400, Output: 500}
	if c := Amount(MetricCost, tk, p); c != 7000 {
		t.Fatalf("cost %d", c)
	}
	if Amount(MetricTotal, tk, p) != 1500 || Amount(MetricInput, tk, p) != 1000 || Amount(MetricOutput, tk, p) != 500 {
		t.Fatal("token amounts")
	}
	// Reasoning defaults to the output price; cached defaults to the input price.
	if c := (Price{Input: 1, Output: 4}).CostMicros(Tokens{Input: 10, Cached: 10, Output: 10, Reasoning: 5}); c != 50 {
		t.Fatalf("defaults: %d", c)
	}
	if r := OutputRoom(MetricTotal, 1000, 300, p); r != 700 {
		t.Fatalf("room total %d", r)
	}
	if r := OutputRoom(MetricCost, 7500, 1000, p); r != 500 {
		t.Fatalf("room cost %d", r)
	}
	if r := OutputRoom(MetricInput, 10, 5, p); r != -1 {
		t.Fatalf("room input %d", r)
	}
}

func TestWindows(t *testing.T) {
	now := mustTime("2026-11-22T04:05:30Z")
	id, end := Minute.Window(now)
	if end-now.Unix() != 30 || id != now.Unix()/60 {
		t.Fatalf("minute %d %d", id, end)
	}
	_, end = Day.Window(now)
	if end != mustTime("2026-11-23T00:00:00Z").Unix() {
		t.Fatalf("day end %d", end)
	}
	id, end = Month.Window(mustTime("2026-12-31T23:59:59Z"))
	if id != 2026*12+11 || end != mustTime("2027-01-01T00:00:00Z").Unix() {
		t.Fatalf("month %d %d", id, end)
	}
	if FormatReset(360) != "6m0s" || FormatReset(1) != "1s" || FormatReset(-3) != "0s" {
		t.Fatal("FormatReset")
	}
}

func FuzzParseReserveReply(f *testing.F) {
	f.Add([]byte(`{"EVAL":[0,60,70]}`), 2)
	f.Add([]byte(`{"EVAL":[2,140]}`), 2)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = n & 15
		ok, denied, used, err := ParseReserveReply(body, n)
		if err == nil && (len(used) != n || (ok && denied != -1) || (!ok && (denied < 0 || denied >= n))) {
			t.Fatalf("inconsistent: ok=%v denied=%d used=%v", ok, denied, used)
		}
	})
}

package pii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/secretscore"
)

// TestSecretClasses covers this round's classes: published example keys, more vendor formats, make-style
// assignments, a PEM armour line after a key name, and vendor-prefixed placeholders left to the scorer.
func TestSecretClasses(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want []string
	}{
		// a Google API key published in Firebase's Android SDK is public; another one is still a key
		{"AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs", nil},
		{"key AIzaSyBx7Kq2Lm9Np4Rt6Vw8Yz1Ab3Cd5Ef7Gh9 ok", []string{"GCP_API_KEY=AIzaSyBx7Kq2Lm9Np4Rt6Vw8Yz1Ab3Cd5Ef7Gh9"}},
		// vendor structure: Tavily, Supabase, the A3T family of AWS key ids
		{"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", []string{"API_KEY=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"}},
		{"sbp_7558c5a93d6f38dd038df5cc2a7c3d4d7b6bc76d", []string{"API_KEY=sbp_7558c5a93d6f38dd038df5cc2a7c3d4d7b6bc76d"}},
		{"A3T1DJ4IS97DLLTH2SZ3", []string{"AWS_ACCESS_KEY=A3T1DJ4IS97DLLTH2SZ3"}},
		// make's ?= and the BNF-style :::= assign like =
		{`SNYK_TOKEN ?= "b7Kq2Lm9-Np4R-t6Vw-8Yz1-Ab3Cd5Ef7Gh9"`, []string{"GENERIC_SECRET=b7Kq2Lm9-Np4R-t6Vw-8Yz1-Ab3Cd5Ef7Gh9"}},
		{`SONAR.LOGIN :::= "5524bf449ca45fcace54698371466398321f3a82"`, []string{"GENERIC_SECRET=5524bf449ca45fcace54698371466398321f3a82"}},
		// a PEM armour line assigned to a key name is the private-key detector's, not a generic value
		{"PRIVATE_KEY = \"-----BEGIN RSA PRIVATE KEY-----\\n\"", []string{"PRIVATE_KEY=-----BEGIN RSA PRIVATE KEY-----\\n\""}},
		// a Hugging Face token of the right length whose body is a run of x: a placeholder, not reported
		{"hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", nil},
		// a vendor's token in an assignment is reported by the vendor's rule, with its type
		{`{"key":"AKIAIOSFODNN7EXAMPLE"}`, []string{"AWS_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE"}},
		// Azure's 2024 key layout: 52 random characters, JQQJ9, AZ at 76 (DevOps PAT: 84; storage key: ==)
		{"t 6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eqU", []string{"AZURE_KEY=6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eqU"}},
		{"6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eq", nil}, // one short
		// the last argument of a credential constructor is its password (the user name is not)
		{`c = new NetworkCredential("builder", "Wq8!vLp2zR");`, []string{"GENERIC_SECRET=Wq8!vLp2zR"}},
		{`auth=HTTPBasicAuth("alice", "Wq8!vLp2zR"))`, []string{"GENERIC_SECRET=Wq8!vLp2zR"}},
		{`print("alice", "Wq8!vLp2zR")`, nil},
		// prose: a quoted ordinary word after "password is" is not enough on its own
		{`the password is "required"`, nil},
	}
	for _, c := range cases {
		var got []string
		for _, m := range s.ScanString(c.text, nil) {
			got = append(got, fmt.Sprintf("%s=%s", m.Name(), c.text[m.Start:m.End]))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
	}
}

// TestScorerGate: the gate keeps a random key after a credential name and drops a name-like value; with
// Collect set every gated candidate is handed over and none is reported.
func TestScorerGate(t *testing.T) {
	s := New(All(), nil)
	if ms := s.ScanString(`api_key = "q7Wm2Rk9ZtLp4xV8nB3c"`, nil); len(ms) != 1 || ms[0].Type != GenericSecret {
		t.Errorf("random value after api_key: %v", ms)
	}
	if ms := s.ScanString(`schemaKey = 'DOC_Vector_5_32'`, nil); len(ms) != 0 {
		t.Errorf("word identifier after a key name: %v", ms)
	}
	// the assignment's candidate is rejected, so the keyword detector offers the same value next
	var kinds []int
	secretscore.Collect = func(f *[secretscore.NFeat]float32, start, end int) {
		for k := secretscore.FKindAssignPassword; k <= secretscore.FKindVendor; k++ {
			if f[k] == 1 {
				kinds = append(kinds, k)
			}
		}
		if start != 11 || end != 31 {
			t.Errorf("candidate span %d-%d", start, end)
		}
	}
	defer func() { secretscore.Collect = nil }()
	if ms := s.ScanString(`api_key = "q7Wm2Rk9ZtLp4xV8nB3c"`, nil); len(ms) != 0 || fmt.Sprint(kinds) != fmt.Sprint([]int{secretscore.FKindAssignToken, secretscore.FKindKeyword}) {
		t.Errorf("with Collect: candidate kinds %v, findings %v", kinds, ms)
	}
}

// TestVendorPlaceholderCandidates: a body of the vendor's length and alphabet that its checks reject is a
// candidate of kind vendor for the scorer (whether it is reported is the scorer's call).
func TestVendorPlaceholderCandidates(t *testing.T) {
	s := New(All(), nil)
	for _, c := range []string{"AP6xxxxxxxxxx", "AKIAZZZZZZZZZZZZZZZZ", "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
		vendor := 0
		secretscore.Collect = func(f *[secretscore.NFeat]float32, start, end int) {
			if f[secretscore.FKindVendor] == 1 && start == 0 && end == len(c) {
				vendor++
			}
		}
		s.ScanString(c, nil)
		secretscore.Collect = nil
		if vendor != 1 {
			t.Errorf("%q: %d vendor candidates", c, vendor)
		}
	}
}

// TestSecretFeatures checks a few features by hand.
func TestSecretFeatures(t *testing.T) {
	text := []byte(`checksum = "0123456789abcdef0123456789abcdef"`)
	vs := 12
	f := secretFeatures(text, vs, len(text)-1, ckAssignToken, true, text[:8], true)
	for k, want := range map[int]float32{
		secretscore.FKindAssignToken: 1, secretscore.FQuoted: 1, secretscore.FHexOnly: 1, secretscore.FHashWord: 1,
		secretscore.FDigit: 1, secretscore.FUpper: 0, secretscore.FLong: 1, secretscore.FRuleAccept: 1, secretscore.FAlone: 0,
	} {
		if f[k] != want {
			t.Errorf("%s = %v, want %v", secretscore.Names[k], f[k], want)
		}
	}
	if f[secretscore.FSequential] < 0.5 {
		t.Errorf("sequential share %v of 0123456789abcdef...", f[secretscore.FSequential])
	}
}

// BenchmarkScanSecrets scans every record of secrets.dev.jsonl (credential-dense code and config lines, where
// the scorer's candidates are): the cost of the gate in the worst case.
func BenchmarkScanSecrets(b *testing.B) {
	data, err := os.ReadFile(hostsim.Dataset(b, "secrets.dev.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var texts [][]byte
	total := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r struct {
			Text string `json:"text"`
		}
		if len(line) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &r); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, []byte(r.Text))
		total += len(r.Text)
	}
	s := New(All(), nil)
	var ms []Match
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			ms = s.Scan(t, ms[:0])
		}
	}
}

// TestLazyGateIsExact: deciding on the value's own features when the rest cannot change the verdict gives the
// verdict of the full feature vector, for every candidate of the secrets dev records.
func TestLazyGateIsExact(t *testing.T) {
	data, err := os.ReadFile(hostsim.Dataset(t, "secrets.dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(All(), nil)
	n, early := 0, 0
	secretscore.Collect = func(f *[secretscore.NFeat]float32, start, end int) {
		n++
		th := secretscore.ThresholdFor(f, secretscore.ThresholdRule, secretscore.ThresholdOther)
		full := secretscore.Score(f) >= th
		var cheap [secretscore.NFeat]float32
		for k := range f {
			if !secretscore.Lazy[k] {
				cheap[k] = f[k]
			}
		}
		if done, ok := secretscore.Decided(secretscore.Score(&cheap), th); done {
			early++
			if ok != full {
				t.Errorf("candidate %v: lazy %v, full %v", f, ok, full)
			}
		}
	}
	defer func() { secretscore.Collect = nil }()
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r struct {
			Text string `json:"text"`
		}
		if len(line) == 0 || json.Unmarshal(line, &r) != nil {
			continue
		}
		s.ScanString(r.Text, nil)
	}
	t.Logf("%d candidates, %d decided before the lazy features", n, early)
}

// FuzzSecretCandidates: the secret detectors and their gate never panic, and report ordered spans inside the
// text (seeds: this round's classes).
func FuzzSecretCandidates(f *testing.F) {
	for _, seed := range []string{`new NetworkCredential("u", "Wq8!vLp2zR");`, "new DirectoryEntry(\"a\",\n \"b\",\n \"c1d2e3f4\")",
		"6RtqHqPc66Y6DYbkydbrrFJTYnRoA7r40ts7LWS2SkINSFsRABxhJQQJ99BFACAAAAALGcqjAAASAZDO3eqU==", `K ?= "v1x2y3z4w5"`,
		"X :::= 'a'", "AP6xxxxxxxxxx", `{"key":"AKIAIOSFODNN7EXAMPLE"}`, `the password is "centipede"`, "HTTPBasicAuth(\"a\", \"",
		"PRIVATE_KEY = \"-----BEGIN", "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"} {
		f.Add(seed)
	}
	s := New(All(), nil)
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, m := range s.ScanString(text, nil) {
			if m.Start < last || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("bad match %+v (last %d) in %q", m, last, text)
			}
			last = m.End
		}
	})
}

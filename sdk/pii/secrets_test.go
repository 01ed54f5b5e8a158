package pii

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestSecretStructure covers the structural and contextual secret checks: vendor formats with exact lengths,
// checksums and decodable parts, quoted/environment literals, comparisons, curl credentials, crypt hashes,
// and the placeholder shapes that must stay unreported.
func TestSecretStructure(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want []string
	}{
		// GitHub token whose CRC32 checks out; exact length 36
		{"token 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 ok", []string{"GITHUB_TOKEN=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"}},
		{"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x9", []string{"HIGH_ENTROPY_SECRET=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x9"}}, // wrong length: not a GitHub token, still random
		{"glptt-Need5_T00-be-exactly-40-chars--ELse_failing", nil},
		{"glptt-0123456789abcdef0123456789abcdef01234567", []string{"GITLAB_TOKEN=glptt-0123456789abcdef0123456789abcdef01234567"}},
		// Discord: the first part is base64 of a numeric id
		{"bot NDEyMzQ1Njc4OTAxMjM0NTY3.Eeeby3.abP3E2Zs8IQ9Y7aJZqhB6baeCN6", []string{"API_KEY=NDEyMzQ1Njc4OTAxMjM0NTY3.Eeeby3.abP3E2Zs8IQ9Y7aJZqhB6baeCN6"}},
		{"MTAyOTQ4MTN5OTU5MTDwMEcxNg0.GSwJyi.sbaw8msOR3Wi6vPUzeIWy_P0vJbB0UuRVjH8l8", nil},
		// JWT: header must decode to a JSON header; an unsigned header.payload still counts
		{"jwt eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ end", []string{"JWT=eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ"}},
		{"eyJmb28iOiJiYXIiLCJ4IjoxfQ.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.c2lnbmF0dXJlc2lnbmF0dXJl", nil},
		{"key A3-ASWWYB-798JRYLJVD4-23DC2-86TVM-H43EB", []string{"API_KEY=A3-ASWWYB-798JRYLJVD4-23DC2-86TVM-H43EB"}},
		// literals after a password key: quoted, KEY=value, comparisons, curl --user
		{`pwd = '` + "`" + `9fKd#2xQ'`, []string{"GENERIC_SECRET=`9fKd#2xQ"}},
		{"DB_PASSWORD=bluecanary\n", []string{"GENERIC_SECRET=bluecanary"}},
		{"password = bluecanary_x", nil}, // unquoted lower-case identifier: a reference
		{`if creds.Secret != "open-sesame" {`, []string{"GENERIC_SECRET=open-sesame"}},
		{`if password == "" {`, nil},
		{"curl --user kevin:'Zr8pLq2Wn5' https://x", []string{"GENERIC_SECRET=Zr8pLq2Wn5"}},
		{`"AdminPassword": "thisismypassword"`, []string{"GENERIC_SECRET=thisismypassword"}},
		{`"password": "my_password"`, nil},
		{`password = "\" + pass + \""`, nil},
		{`<a href="/x?token=&quot;q7Wm2Rk9ZtLp&quot;">`, []string{"GENERIC_SECRET=q7Wm2Rk9ZtLp"}},
		{`SONAR.LOGIN ::= "5524bf449ca45fcace54698371466398321f3a82"`, []string{"GENERIC_SECRET=5524bf449ca45fcace54698371466398321f3a82"}},
		{"export BUNDLE_GEMS__EXAMPLE__COM=\"ab12cd:ef34gh\"", []string{"GENERIC_SECRET=ab12cd:ef34gh"}},
		// password hashes
		{"root:$6$Vxq1Jm0e$0kJ3yE9vYqQm6T1uVbA7sZr2WcLx5NdP8fGh4jKl/oMiN.ZyXwVuTsRqPoNmLkJiHgFeDcBa98765:19000:0", []string{"GENERIC_SECRET=$6$Vxq1Jm0e$0kJ3yE9vYqQm6T1uVbA7sZr2WcLx5NdP8fGh4jKl/oMiN.ZyXwVuTsRqPoNmLkJiHgFeDcBa98765"}},
		{"costs $5$ or $6$ per month", nil},
		{`-password "Prl23Db#@"`, []string{"GENERIC_SECRET=Prl23Db#@"}},
		{`url = "smtps://me@example.com:FnD83JZs@smtp.example.com:465"`, []string{"EMAIL=me@example.com", "URL_CREDENTIALS=FnD83JZs"}},
		{"npm_token=743b294a-cd03-11ec-9d64-0242ac120002", nil}, // version-1 UUID: time and node, not random
		{"SECRET_KEY = 'app-insecure-_du9e^cm!%(^+=gr@cu@v9-v7ulhbk2s3!w&39w4'", []string{"GENERIC_SECRET=app-insecure-_du9e^cm!%(^+=gr@cu@v9-v7ulhbk2s3!w&39w4"}},
		{"api_key = sk-<your key here>", nil},
		{"id: 123456789012-abcdefghijklmnopqrstuv0123456789.apps.googleusercontent.com", []string{"API_KEY=123456789012-abcdefghijklmnopqrstuv0123456789.apps.googleusercontent.com"}},
		{"sid 00D5g000004XyZq!AQ4AQJqVb7xYtZ3kPq9wLm2nR5sT8uV1wX4yZ7aB0cD3eF6gH9iJ2kL5mN8oP1qR4sT7uV0wX3yZ6aB9cD2eF5gH8iJ1kL4", []string{"API_KEY=00D5g000004XyZq!AQ4AQJqVb7xYtZ3kPq9wLm2nR5sT8uV1wX4yZ7aB0cD3eF6gH9iJ2kL5mN8oP1qR4sT7uV0wX3yZ6aB9cD2eF5gH8iJ1kL4"}},
		// unknown vendor, "identifiable prefix + random body"
		{"use acme_live_7hq2lw9ztpx4rk8nv3bm6jc1ys5fd0gu2 now", []string{"API_KEY=acme_live_7hq2lw9ztpx4rk8nv3bm6jc1ys5fd0gu2"}},
		{"Invoice ID: in_0KVnBvo2ZNzxqgUA4dPhPB3i", nil}, // an object id of the same design, shorter
		{"integrity sha512-7Hq2Lw9ZtPx4Rk8Nv3Bm6Jc1Ys5Fd0Gu2aa", nil},
		{"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29x", nil},
		{"ABSKQmVkcm9ja0FQSUtleS1EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE", nil},
		{"aws AKIAIOSFODNN7EXAMPLE", []string{"AWS_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE"}}, // AWS's documentation key: harmless to mask
		{"url = https://x.example/a?b%3D1%26token%3Dq7Wm2Rk9ZtLp4x%26v%3D3", []string{"GENERIC_SECRET=q7Wm2Rk9ZtLp4x"}},
		{"ConvertTo-SecureString -String -Force dsjUE#$gds8s", []string{"GENERIC_SECRET=dsjUE#$gds8s"}},
		{`"params": ["10-6LZBVhNq8zze0rzXJptfSWDBoskWuThnQb3fUVw4sVNgJ7GKT3ITVIo"]`, []string{"API_KEY=10-6LZBVhNq8zze0rzXJptfSWDBoskWuThnQb3fUVw4sVNgJ7GKT3ITVIo"}},
		{"released on 2024-05-17 with 1,234 downloads", nil},
		// generated example strings are not high-entropy secrets
		{"X9y8Z7a6B5c4D3e2F1g0H9i8J7k6L5m4N3o2P1q0R9s8T7u6", nil},
		{"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", nil},
		// a token glued to a preceding word by '.' or '@' is part of a larger structure
		{"USK@u2vn3Lh6Kte2-TgBSNKorbsKkuAt34ckoLmgx0ndXO0,AQACAAE", nil},
	}
	for _, c := range cases {
		ms := s.ScanString(c.text, nil)
		var got []string
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%s=%s", m.Name(), c.text[m.Start:m.End]))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
	}
}

func TestSequential(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"abcdefghij", true}, {"0123456789", true}, {"d4c3b2a1f6e5h8g7", true}, {"A1B2C3D4E5F6", true},
		{"Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3g", false}, {"u2vn3Lh6Kte2TgBSNKorbsKkuAt34ckoLmgx0ndXO0", false},
	} {
		if got := sequential([]byte(c.s)); got != c.want {
			t.Errorf("sequential(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func FuzzStructureChecks(f *testing.F) {
	f.Add([]byte("NDEyMzQ1Njc4OTAxMjM0NTY3"))
	f.Add([]byte("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"))
	f.Add([]byte("$2b$12$GhvMmNVjRW29ulnudl.LbuAnUtN/LRfe1Js"))
	f.Fuzz(func(t *testing.T, b []byte) {
		b64Digits(b)
		jwtHeader(b)
		sequential(b)
		onePasswordBody(b)
		if len(b) == 36 {
			githubChecksum(b)
		}
		if len(b) > 0 && b[0] == '$' {
			if e := cryptHash(b, 0); e > len(b) {
				t.Fatalf("end %d beyond %d", e, len(b))
			}
		}
	})
}

func TestEntropyFastPath(t *testing.T) {
	slow := func(s []byte) float64 {
		var counts [256]int
		for _, c := range s {
			counts[c]++
		}
		h := 0.0
		for _, k := range counts {
			if k > 0 {
				p := float64(k) / float64(len(s))
				h -= p * math.Log2(p)
			}
		}
		return h
	}
	for _, s := range []string{"a", "ab", "aaaaaaab", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL", strings.Repeat("xyz", 85)} {
		if got, want := Entropy([]byte(s)), slow([]byte(s)); math.Abs(got-want) > 1e-9 {
			t.Errorf("Entropy(%q) = %v, want %v", s, got, want)
		}
	}
}

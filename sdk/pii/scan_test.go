package pii

import (
	"strings"
	"testing"
)

func names(ms []Match, text string) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name()+"="+text[m.Start:m.End])
	}
	return out
}

func TestScanTable(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want []string
	}{
		{"mail jane.doe+x@mail.example.co.uk.", []string{"EMAIL=jane.doe+x@mail.example.co.uk"}},
		{"not an email: a@b, @home, x@y.z1", nil},
		// an address in a URL's path or query is the address alone: the URL keeps its host and path
		{"![x](https://x.example/a.png?e=jane.doe@example.com&u=bob@example.org)", []string{"EMAIL=jane.doe@example.com", "EMAIL=bob@example.org"}},
		{"GET /users/jane@example.com/profile#id=ann@example.net", []string{"EMAIL=jane@example.com", "EMAIL=ann@example.net"}},
		{"call +44 20 7946 0958 now", []string{"PHONE=+44 20 7946 0958"}},
		{"call (415) 555-0132 or 415.555.0133", []string{"PHONE=(415) 555-0132", "PHONE=415.555.0133"}},
		{"Fax: 345-899-3560x4587", []string{"PHONE=345-899-3560x4587"}},
		{"tel +33 1 23 45 67 89", []string{"PHONE=+33 1 23 45 67 89"}},
		{"Mobile: 99 577450", []string{"PHONE=99 577450"}},
		{"in 2024-01-15 we sold 1234567 units for 12.50", nil},
		{"my password is NsIdksKJ4dj and the token 7cc938e45e63e9014f88f811be240ba0395c02dd ok", []string{"GENERIC_SECRET=NsIdksKJ4dj", "GENERIC_SECRET=7cc938e45e63e9014f88f811be240ba0395c02dd"}},
		{"the password is Incorrect and the Secret Santa list", nil},
		{"write 700-1000 words; codes 72-69-71-68 and 1 234 567 EUR, apt. 338 32", nil},
		{"card 4111-1111-1111-1111 and 4111 1111 1111 1112", []string{"CREDIT_CARD=4111-1111-1111-1111"}},
		{"amex 378282246310005", []string{"CREDIT_CARD=378282246310005"}},
		{"IBAN GB82 WEST 1234 5698 7654 32 ok", []string{"IBAN=GB82 WEST 1234 5698 7654 32"}},
		{"IBAN GB82WEST12345698765433 bad", nil},
		{"ssn 078-05-1122", []string{"US_SSN=078-05-1122"}},
		{"ssn 000-12-3456 666-12-3456 900-12-3456", nil},
		{"host 192.168.1.10/24 and 256.1.1.1 and 1.2.3.4.5", []string{"IP_ADDRESS=192.168.1.10/24"}},
		{"v6 2001:db8::8a2e:370:7334 and fe80::1%eth0", []string{"IP_ADDRESS=2001:db8::8a2e:370:7334", "IP_ADDRESS=fe80::1%eth0"}},
		{"time 10:30:45 and std::vector", nil},
		{"mac 00:1A:2B:3C:4D:5E", []string{"MAC_ADDRESS=00:1A:2B:3C:4D:5E"}},
		{"db postgres://admin:hunter2x@db.local/app", []string{"URL_CREDENTIALS=hunter2x"}},
		{"eth 0x52908400098527886E0F7030069857D2E4169EE7", []string{"CRYPTO=0x52908400098527886E0F7030069857D2E4169EE7"}},
		{"btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 and bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", []string{"CRYPTO=1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "CRYPTO=bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}},
		{"nino AB 12 34 56 C", []string{"UK_NINO=AB 12 34 56 C"}},
		{"dni 12345678Z nie X1234567L", []string{"ES_NIF=12345678Z", "ES_NIF=X1234567L"}},
		{"cf RSSMRA85T10A562S", []string{"IT_FISCAL_CODE=RSSMRA85T10A562S"}},
		{"aadhaar 2345 6789 0124", []string{"IN_AADHAAR=2345 6789 0124"}},
		{"aws AKIAIOSFODNN7EXAMPLE", []string{"AWS_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE"}},
		{"aws_secret_access_key = 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", []string{"AWS_SECRET_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Hb3LpQw"}},
		{"gh ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz", []string{"GITHUB_TOKEN=ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz"}},
		{"gl glpat-Xy3kP9qLm2Vn8Rt5Zw1a", []string{"GITLAB_TOKEN=glpat-Xy3kP9qLm2Vn8Rt5Zw1a"}},
		{"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfAA", []string{"ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfAA"}},
		{"sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234", []string{"OPENAI_API_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234"}},
		{"stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", []string{"STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", []string{"SLACK_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", []string{"JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}},
		{"password = \"Tr0ub4dor&3\"", []string{"GENERIC_SECRET=Tr0ub4dor&3"}},
		{"password = ${DB_PASSWORD} and token: <your-token>", nil},
		{"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", []string{"PRIVATE_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"}},
		{"the quick brown fox jumps over the lazy dog 42 times in 2023", nil},
		{"pnr 19910924-2397 and SIN 130 692 544 and NRIC S1234567D", []string{"SE_PERSONNUMMER=19910924-2397", "CA_SIN=130 692 544", "SG_NRIC_FIN=S1234567D"}},
		{"itin 911-53-1234 rrn 960121-1021413", []string{"US_ITIN=911-53-1234", "KR_RRN=960121-1021413"}},
	}
	for _, c := range cases {
		got := names(s.ScanString(c.text, nil), c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
	}
}

func TestCustomEntities(t *testing.T) {
	s := New(0, []Custom{{Name: "PROJECT", Words: []string{"Bluebird", "Red Falcon"}}})
	text := "Project BLUEBIRD and red falcon, not bluebirds"
	got := names(s.ScanString(text, nil), text)
	want := []string{"PROJECT=BLUEBIRD", "PROJECT=red falcon"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}

func TestValidators(t *testing.T) {
	if !Luhn([]byte("4111111111111111")) || Luhn([]byte("4111111111111112")) {
		t.Error("luhn")
	}
	if !IBANValid([]byte("DE89370400440532013000")) || IBANValid([]byte("DE89370400440532013001")) {
		t.Error("iban")
	}
	if !AadhaarValid([]byte("234567890124")) || AadhaarValid([]byte("234567890123")) {
		t.Error("aadhaar")
	}
	if !NIFValid([]byte("12345678Z")) || NIFValid([]byte("12345678A")) {
		t.Error("nif")
	}
	if !NINOValid([]byte("AB123456C")) || NINOValid([]byte("GB123456C")) {
		t.Error("nino")
	}
	if !FiscalCodeValid([]byte("RSSMRA85T10A562S")) || FiscalCodeValid([]byte("RSSMRA85T10A562T")) {
		t.Error("codice fiscale")
	}
	if !PESELValid([]byte("44051401359")) || PESELValid([]byte("44051401358")) {
		t.Error("pesel")
	}
	if !HETUValid([]byte("131052-308T")) || HETUValid([]byte("131052-308U")) {
		t.Error("hetu")
	}
	if !Base58CheckValid([]byte("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")) || Base58CheckValid([]byte("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3")) {
		t.Error("base58check")
	}
	if !Bech32Valid([]byte("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")) || Bech32Valid([]byte("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx")) {
		t.Error("bech32")
	}
	if !SSNValid(78, 5, 1122) || SSNValid(666, 1, 1) || SSNValid(1, 0, 1) {
		t.Error("ssn")
	}
	if !NRICValid([]byte("S1234567D")) || NRICValid([]byte("S1234567A")) {
		t.Error("nric")
	}
	if CASINValid([]byte("046454286")) || !CASINValid([]byte("130692544")) || CASINValid([]byte("130692545")) {
		t.Error("sin")
	}
	if !ITINValid(911, 53) || ITINValid(911, 89) {
		t.Error("itin")
	}
}

// FuzzScan: no panic, matches in order, in bounds, non-overlapping; and scanning is independent of what
// follows a boundary far away (prefix stability for matches that end well before the cut).
func FuzzScan(f *testing.F) {
	for _, seed := range []string{"a@b.co +1 415 555 0132", "IBAN DE89 3704 0044 0532 0130 00", "::1 fe80::", "-----BEGIN PRIVATE KEY-----\nabc", "password=\"x\"", "eyJhbGciOiJIUzI1NiJ9.eyJ.x", "0x", "(0)", "+", "1.2.3.4/99",
		"$6$ab$cdefghijklmnopqrstuvwxyz012345", "curl --user a:'Bc1defgh'", "token=&quot;q7Wm2Rk9Zt&quot;", `Secret != "open-sesame"`,
		`pwd = \"x1yz\"`, "A3-ASWWYB-798JRYLJVD4-23DC2-86TVM-H43EB", "acme_live_7hq2lw9ztpx4rk8nv3bm6jc1ys5fd0gu2", "X ::= \"v\"",
		"smtps://a@b.c:pw@h", "00D5g000004XyZq!AQ4"} {
		f.Add(seed)
	}
	s := New(All(), []Custom{{Name: "W", Words: []string{"word"}}})
	f.Fuzz(func(t *testing.T, text string) {
		ms := s.ScanString(text, nil)
		last := 0
		for _, m := range ms {
			if m.Start < last || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("bad match %+v (last %d) in %q", m, last, text)
			}
			last = m.End
		}
	})
}

// FuzzValidators: validators never panic on any input.
func FuzzValidators(f *testing.F) {
	f.Add([]byte("4111111111111111"))
	f.Add([]byte("DE89370400440532013000"))
	f.Add([]byte("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Luhn(b)
		IBANValid(b)
		Verhoeff(b)
		AadhaarValid(b)
		PESELValid(b)
		NIFValid(b)
		NINOValid(b)
		FiscalCodeValid(b)
		HETUValid(b)
		Base58CheckValid(b)
		Bech32Valid(b)
		Entropy(b)
		NRICValid(b)
		if isDigits(b) {
			SEPersonnummerValid(b)
			CASINValid(b)
			KRRRNValid(b)
			THTNINValid(b)
			ZAIDValid(b)
		}
		if len(b) >= 2 {
			IBANLength(b[0], b[1])
		}
	})
}

// sparse is prose with a few entities (about one per 2 KB), the common case on LLM traffic.
func sparseText() []byte {
	para := "The quarterly review covered revenue, churn and the hiring plan for the next two quarters. " +
		"Engineering shipped the new onboarding flow; support tickets dropped by 12% after the release. " +
		"Please summarise the discussion, list the open questions and suggest three next steps for the team. "
	var b strings.Builder
	for b.Len() < 64<<10 {
		for i := 0; i < 6; i++ {
			b.WriteString(para)
		}
		b.WriteString("Contact jane.doe@example.com or +1 415-555-0132. ")
	}
	return []byte(b.String())
}

func BenchmarkScanSparse(b *testing.B) {
	s := New(All(), nil)
	text := sparseText()
	var ms []Match
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms = s.Scan(text, ms[:0])
	}
}

func BenchmarkScanDense(b *testing.B) {
	s := New(All(), nil)
	text := []byte(strings.Repeat("mail a.b@example.com card 4111 1111 1111 1111 ip 10.0.0.1 call +44 20 7946 0958 key AKIAIOSFODNN7EXAMPLE. ", 200))
	var ms []Match
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms = s.Scan(text, ms[:0])
	}
}

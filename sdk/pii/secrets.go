package pii

import (
	"hash/crc32"
	"sort"
)

// charset bits of secret bodies
const (
	csAlnum = 1 << iota
	csUnder
	csDash
	csDot
	csB64 // + / =
	csTilde
)

var charTab [256]uint8

type secretRule struct {
	prefix   string
	typ      Type
	cs       uint8
	min, max int               // body length bounds; max 0 means MaxEntityLen
	check    func([]byte) bool // optional check of the body
}

// ruleEntry is a rule with the first (up to) 4 bytes of its prefix as a little-endian word and their mask.
type ruleEntry struct {
	secretRule
	p4, m4 uint32
}

var (
	rulesByFirst [256][]ruleEntry
	stems        = map[string]bool{}
	stemLens     [256]uint32 // bit k set: a stem of k+1 bytes starts with this byte
)

// isStem reports whether w (a lower-case word plus the following byte) is a vendor prefix stem; the length
// bitmap keeps the map lookup off the common path.
func isStem(w []byte) bool {
	l := len(w)
	if l > 32 || stemLens[w[0]]&(1<<(l-1)) == 0 {
		return false
	}
	return stems[string(w)]
}

func init() {
	for c := 0; c < 256; c++ {
		if isAlnum(byte(c)) {
			charTab[c] = csAlnum
		}
	}
	charTab['_'] = csUnder
	charTab['-'] = csDash
	charTab['.'] = csDot
	charTab['+'] = csB64
	charTab['/'] = csB64
	charTab['='] = csB64
	charTab['~'] = csTilde

	an := uint8(csAlnum)
	anu := uint8(csAlnum | csUnder)
	and := uint8(csAlnum | csUnder | csDash)
	andd := uint8(csAlnum | csUnder | csDash | csDot)
	upperDigits := func(b []byte) bool {
		for _, c := range b {
			if !isUpper(c) && !isDigit(c) {
				return false
			}
		}
		return true
	}
	lowerHex := func(b []byte) bool {
		for _, c := range b {
			if !isDigit(c) && !(c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	mixed := func(b []byte) bool { return classes(b) >= 2 }
	rules := []secretRule{
		// AWS access key ids
		{"AKIA", AWSAccessKey, an, 16, 16, upperDigits}, {"ASIA", AWSAccessKey, an, 16, 16, upperDigits},
		{"ABIA", AWSAccessKey, an, 16, 16, upperDigits}, {"ACCA", AWSAccessKey, an, 16, 16, upperDigits},
		{"AGPA", AWSAccessKey, an, 16, 16, upperDigits}, {"AIDA", AWSAccessKey, an, 16, 16, upperDigits},
		{"AROA", AWSAccessKey, an, 16, 16, upperDigits}, {"AIPA", AWSAccessKey, an, 16, 16, upperDigits},
		{"ANPA", AWSAccessKey, an, 16, 16, upperDigits}, {"ANVA", AWSAccessKey, an, 16, 16, upperDigits},
		{"APKA", AWSAccessKey, an, 16, 16, upperDigits},
		{"AIza", GCPAPIKey, and, 35, 35, googleKeyBody},
		{"ghp_", GitHubToken, an, 36, 36, nil}, {"gho_", GitHubToken, an, 36, 36, nil},
		{"ghu_", GitHubToken, an, 36, 36, nil}, {"ghs_", GitHubToken, an, 36, 36, nil},
		{"ghr_", GitHubToken, an, 36, 36, nil}, {"ghr_", GitHubToken, an, 76, 76, nil}, {"github_pat_", GitHubToken, anu, 22, 255, nil},
		{"glpat-", GitLabToken, andd, 20, 0, nil}, {"gldt-", GitLabToken, and, 20, 0, nil},
		{"glrt-", GitLabToken, and, 20, 0, nil}, {"glptt-", GitLabToken, an, 40, 40, lowerHex},
		{"glcbt-", GitLabToken, and, 20, 0, nil}, {"glsoat-", GitLabToken, and, 20, 0, nil},
		{"glft-", GitLabToken, and, 20, 0, nil}, {"glimt-", GitLabToken, and, 25, 0, nil},
		{"glagent-", GitLabToken, and, 50, 0, nil}, {"gloas-", GitLabToken, and, 64, 64, nil},
		{"GR1348941", GitLabToken, and, 20, 0, nil},
		{"xoxb-", SlackToken, and, 20, 0, slackBody}, {"xoxp-", SlackToken, and, 20, 0, slackBody},
		{"xoxa-", SlackToken, and, 20, 0, slackBody}, {"xoxo-", SlackToken, and, 20, 0, slackBody}, {"xoxr-", SlackToken, and, 20, 0, slackBody},
		{"xoxs-", SlackToken, and, 20, 0, slackBody}, {"xoxe-", SlackToken, and, 20, 0, slackBody},
		{"xoxe.xoxp-", SlackToken, and, 20, 0, slackBody}, {"xapp-", SlackToken, and, 20, 0, slackBody},
		{"https://hooks.slack.com/", SlackToken, anu | csB64, 20, 0, nil},
		{"sk_live_", StripeKey, an, 16, 0, nil}, {"sk_test_", StripeKey, an, 16, 0, nil},
		{"rk_live_", StripeKey, an, 16, 0, nil}, {"rk_test_", StripeKey, an, 16, 0, nil},
		{"whsec_", StripeKey, an, 24, 0, nil},
		{"sk-ant-", AnthropicKey, and, 32, 0, anthropicBody},
		{"sk-proj-", OpenAIKey, and, 20, 0, nil}, {"sk-svcacct-", OpenAIKey, and, 20, 0, nil},
		{"sk-admin-", OpenAIKey, and, 20, 0, nil}, {"sk-None-", OpenAIKey, and, 20, 0, nil},
		{"sk-", OpenAIKey, an, 32, 0, mixed},
		{"SK", TwilioKey, an, 32, 32, hexOneCase}, {"AC", TwilioKey, an, 32, 32, hexOneCase},
		{"SG.", SendGridKey, andd, 66, 66, sendgridBody},
		{"hf_", APIKey, an, 30, 40, mixed}, {"npm_", APIKey, an, 36, 36, nil},
		{"pypi-AgEIcHlwaS5vcmc", APIKey, and, 100, 0, nil},
		{"dop_v1_", APIKey, an, 64, 64, lowerHex}, {"doo_v1_", APIKey, an, 64, 64, lowerHex},
		{"dor_v1_", APIKey, an, 64, 64, lowerHex},
		{"shpat_", APIKey, an, 32, 32, nil}, {"shpca_", APIKey, an, 32, 32, nil},
		{"shppa_", APIKey, an, 32, 32, nil}, {"shpss_", APIKey, an, 32, 32, nil},
		{"glc_", APIKey, and | csB64, 32, 0, nil}, {"glsa_", APIKey, anu, 32, 0, nil},
		{"dapi", APIKey, an, 32, 34, lowerHexDash},
		{"AKCp", APIKey, an, 60, 0, nil},
		{"ATATT3", APIKey, and | csB64, 100, 0, nil}, {"ATCTT3", APIKey, and | csB64, 100, 0, nil},
		{"xkeysib-", APIKey, and, 64, 0, nil}, {"xsmtpsib-", APIKey, and, 64, 0, nil},
		{"sq0atp-", APIKey, and, 22, 0, nil}, {"sq0csp-", APIKey, and, 40, 0, nil},
		{"EAAA", APIKey, and, 60, 0, mixed}, {"EAACEdEose0cBA", APIKey, an, 20, 0, nil},
		{"ya29.", APIKey, andd, 30, 0, nil},
		{"AGE-SECRET-KEY-1", APIKey, an, 58, 58, upperDigits},
		{"pul-", APIKey, an, 40, 40, lowerHex}, {"lin_api_", APIKey, an, 40, 40, nil},
		{"PMAK-", APIKey, and, 59, 59, nil}, {"rubygems_", APIKey, an, 48, 48, lowerHex},
		{"dckr_pat_", APIKey, and, 26, 0, nil}, {"figd_", APIKey, and, 40, 0, nil},
		{"NRAK-", APIKey, an, 27, 27, nil}, {"sntrys_", APIKey, and | csB64, 50, 0, nil},
		{"ntn_", APIKey, an, 40, 50, nil}, {"hvs.", APIKey, and, 24, 0, nil}, {"hvb.", APIKey, and, 24, 0, nil},
		{"dp.pt.", APIKey, an, 40, 0, nil}, {"aio_", APIKey, an, 28, 28, nil},
		{"key-", APIKey, an, 32, 32, lowerHex}, {"tskey-", APIKey, and, 30, 0, nil},
		{"sgp_", APIKey, anu, 40, 70, sourcegraphBody}, {"squ_", APIKey, an, 40, 40, nil}, {"sqp_", APIKey, an, 40, 40, nil},
		{"sqa_", APIKey, an, 40, 40, nil}, {"GOCSPX-", APIKey, and, 28, 28, nil}, {"llx-", APIKey, and, 40, 0, nil},
		{"vcp_", APIKey, an, 40, 0, nil}, {"vci_", APIKey, an, 40, 0, nil}, {"vca_", APIKey, an, 40, 0, nil},
		{"vcr_", APIKey, an, 40, 0, nil}, {"vck_", APIKey, an, 40, 0, nil}, {"dckr_oat_", APIKey, and, 30, 0, nil},
		{"SWMKEY-1-", APIKey, an, 40, 0, nil}, {"ATBB", APIKey, an, 28, 40, nil},
		{"bedrock-api-key-", APIKey, and | csB64, 30, 0, nil}, {"ABSK", APIKey, an | csB64, 100, 0, nil},
		{"akab-", APIKey, and, 30, 0, nil}, {"s-s4t2af-", APIKey, an, 64, 64, nil}, {"s-s4t2ud-", APIKey, an, 64, 64, nil}, {"glsa_", APIKey, anu, 30, 0, nil},
		{"gsk_", APIKey, an, 48, 60, nil}, {"xai-", APIKey, an, 60, 90, nil}, {"pplx-", APIKey, an, 40, 60, nil},
		{"r8_", APIKey, an, 37, 40, nil}, {"fw_", APIKey, an, 20, 40, mixed},
		{"SWMTKN-1-", APIKey, and, 50, 0, nil}, {"ops_ey", APIKey, and | csB64, 200, 0, nil},
		{"ghv_", GitHubToken, an, 36, 255, nil}, {"v1.0-", APIKey, and, 100, 0, nil},
		{"t-", APIKey, and, 60, 0, nil}, {"vercel_blob_rw_", APIKey, anu, 30, 0, nil},
		{"cfut_", APIKey, an, 30, 0, nil}, {"lip_", APIKey, an, 40, 0, nil},
		{"pat", APIKey, and | csDot, 65, 80, patAirtable},
		{"nvapi-", APIKey, and, 60, 0, nil}, {"sk-or-v1-", APIKey, an, 64, 64, nil},
		{"oauth2_", APIKey, and, 30, 0, nil}, {"phx_", APIKey, an, 40, 0, nil}, {"phc_", APIKey, an, 40, 0, nil},
		{"rnd_", APIKey, an, 30, 0, nil},
		// Tavily, Supabase, Sentry user tokens; AWS access key ids of the A3T family
		{"tvly-", APIKey, an, 32, 32, mixed}, {"tvly-dev-", APIKey, an, 32, 32, mixed},
		{"sbp_", APIKey, an, 40, 40, lowerHex}, {"sbp_v0_", APIKey, an, 40, 40, lowerHex},
		{"sntryu_", APIKey, an, 64, 64, lowerHex}, {"A3T", AWSAccessKey, an, 17, 17, upperDigits},
		// Salesforce connected-app consumer key; 1Password account secret key (A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX)
		{"3MVG", APIKey, andd, 60, 0, mixed}, {"A3-", APIKey, and, 30, 40, onePasswordBody},
		// further vendor formats (public rule sets of gitleaks, noseyparker, CredSweeper describe them)
		{"api_org_", APIKey, an, 34, 34, mixed}, // Hugging Face organisation token
		{"dp.st.", APIKey, andd, 40, 0, mixed}, {"dp.sa.", APIKey, an, 40, 0, mixed},
		{"dp.scim.", APIKey, an, 40, 0, mixed}, {"dp.audit.", APIKey, an, 40, 0, mixed}, // Doppler
		{"dp.ct.", APIKey, an, 40, 0, mixed},
		{"http://hooks.slack.com/", SlackToken, anu | csB64, 20, 0, nil},
		{"oy2", APIKey, an, 43, 43, lowerAlnum},                                          // NuGet API key
		{"NRJS-", APIKey, an, 19, 19, lowerHex}, {"NRBR-", APIKey, an, 19, 19, lowerHex}, // New Relic
		{"NRII-", APIKey, and, 20, 40, nil}, {"NRAA-", APIKey, an, 27, 27, nil},
		{"EAAB", APIKey, and, 60, 0, mixed}, {"EAAC", APIKey, and, 60, 0, mixed}, // Facebook access tokens
		{"EAAD", APIKey, and, 60, 0, mixed}, {"EAAG", APIKey, and, 60, 0, mixed},
		{"EAAJ", APIKey, and, 60, 0, mixed}, {"EAAM", APIKey, and, 60, 0, mixed},
		{"eyJrIjoi", APIKey, and | csB64, 40, 0, nil},                 // Grafana API key: base64 of {"k":"...
		{"LS0tLS1CRUdJTi", PrivateKey, an | csB64, 20, 0, pemB64Body}, // base64 of "-----BEGIN"
		{ntlmPrefix, APIKey, an | csB64, 20, 0, nil},                  // base64 of "NTLMSSP\0" (an NTLM message)
		{"dt0c01.", APIKey, andd, 80, 100, nil},                       // Dynatrace
		{"HRKU-", APIKey, and, 36, 60, nil},                           // Heroku
		{"PMAT-", APIKey, an, 26, 26, nil},                            // Postman
		{"CLOJARS_", APIKey, an, 60, 60, lowerHex},
		{"dnkey-", APIKey, and, 50, 0, nil},                                                // Defined Networking
		{"SUA", APIKey, an, 55, 55, upperDigits}, {"SUU", APIKey, an, 55, 55, upperDigits}, // NATS nkey seeds
		{"glffct-", GitLabToken, and, 20, 0, nil},
		{"s.CAES", APIKey, and, 50, 0, nil},          // HashiCorp Vault service token (protobuf body)
		{"AKC", APIKey, an, 10, 80, artifactoryBody}, // JFrog Artifactory API key / encrypted password
		{"AP0", APIKey, an, 10, 80, artifactoryBody}, {"AP1", APIKey, an, 10, 80, artifactoryBody},
		{"AP2", APIKey, an, 10, 80, artifactoryBody}, {"AP3", APIKey, an, 10, 80, artifactoryBody},
		{"AP4", APIKey, an, 10, 80, artifactoryBody}, {"AP5", APIKey, an, 10, 80, artifactoryBody},
		{"AP6", APIKey, an, 10, 80, artifactoryBody}, {"AP7", APIKey, an, 10, 80, artifactoryBody},
		{"AP8", APIKey, an, 10, 80, artifactoryBody}, {"AP9", APIKey, an, 10, 80, artifactoryBody},
		{"APA", APIKey, an, 10, 80, artifactoryBody}, {"APB", APIKey, an, 10, 80, artifactoryBody},
		{"APC", APIKey, an, 10, 80, artifactoryBody}, {"APD", APIKey, an, 10, 80, artifactoryBody},
		{"APE", APIKey, an, 10, 80, artifactoryBody}, {"APF", APIKey, an, 10, 80, artifactoryBody},
	}
	for _, r := range rules {
		if r.max == 0 {
			r.max = MaxEntityLen
		}
		re := ruleEntry{secretRule: r}
		for k := 0; k < 4 && k < len(r.prefix); k++ {
			re.p4 |= uint32(r.prefix[k]) << (8 * k)
			re.m4 |= 0xFF << (8 * k)
		}
		rulesByFirst[r.prefix[0]] = append(rulesByFirst[r.prefix[0]], re)
	}
	// stems: a rule prefix up to its first character that is not a lower-case letter ("sk-", "glpat-", "hvs.").
	for _, r := range rules {
		for k := 0; k < len(r.prefix); k++ {
			if !isLower(r.prefix[k]) {
				if k > 0 && !wordTab[r.prefix[k]] {
					stems[r.prefix[:k+1]] = true
					stemLens[r.prefix[0]] |= 1 << k
				}
				break
			}
		}
	}
	// Longer prefixes first so "sk-ant-" wins over "sk-".
	for c := range rulesByFirst {
		rs := rulesByFirst[c]
		sort.SliceStable(rs, func(a, b int) bool { return len(rs[a].prefix) > len(rs[b].prefix) })
	}
}

func lowerHexDash(b []byte) bool {
	for k, c := range b {
		if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c == '-' && k >= 32) {
			return false
		}
	}
	return true
}

// patAirtable: patXXXXXXXXXXXXXX.<64 hex>
func patAirtable(b []byte) bool {
	for k, c := range b {
		if c == '.' {
			return k >= 10 && len(b)-k-1 == 64
		}
	}
	return false
}

// classes counts character classes (lower, upper, digit, other) present in b.
func classes(b []byte) int {
	var lo, up, di, ot int
	for _, c := range b {
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		default:
			ot = 1
		}
	}
	return lo + up + di + ot
}

func hasPrefixAt(text []byte, i int, p string) bool {
	return i+len(p) <= len(text) && string(text[i:i+len(p)]) == p
}

// prefixSecret tries the vendor-prefixed credentials at i.
func (s *Scanner) prefixSecret(text []byte, i int) (Match, bool) {
	rs := rulesByFirst[text[i]]
	var failed *ruleEntry
	failedEnd := 0
	n := len(text)
	// the next 4 bytes as one word: most rules are rejected with one compare, without a string compare call
	var w uint32
	for k := 0; k < 4 && i+k < n; k++ {
		w |= uint32(text[i+k]) << (8 * k)
	}
	for k := range rs {
		r := &rs[k]
		if w&r.m4 != r.p4 || !s.enabled.Has(r.typ) || !hasPrefixAt(text, i, r.prefix) {
			continue
		}
		b := i + len(r.prefix)
		e := b
		for e < n && charTab[text[e]]&r.cs != 0 && e-b <= r.max {
			e++
		}
		// trailing dots/dashes/equals belong to the sentence, not the token (except base64 padding)
		for e > b && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		l := e - b
		if l < r.max && e+1 < n && (text[e] == ' ' || text[e] == '\n') && charTab[text[e+1]]&r.cs != 0 {
			// a key with a blank inserted ("sk-proj-abc12 3def..."): the body joined over up to two blanks
			if je, ok := joinedSecret(text, b, e, r); ok {
				return Match{Type: r.typ, Start: i, End: je}, true
			}
		}
		if l < r.min || l > r.max || (e < n && wordTab[text[e]]) {
			continue
		}
		if secretBody(text[b:e], r) {
			return Match{Type: r.typ, Start: i, End: e}, true
		}
		if failed == nil && r.prefix != ntlmPrefix {
			failed, failedEnd = r, e
		}
	}
	if (text[i] == 'M' || text[i] == 'N' || text[i] == 'O') && s.enabled.Has(APIKey) {
		if e := parseDiscord(text, i); e > 0 {
			return Match{Type: APIKey, Start: i, End: e}, true
		}
	}
	if text[i] == 'e' && s.enabled.Has(JWT) {
		if e := parseJWT(text, i); e > 0 {
			return Match{Type: JWT, Start: i, End: e}, true
		}
	}
	// a body of the vendor's length and alphabet that its checks reject (AKIAZZZZZZZZZZZZZZZZ,
	// AP6xxxxxxxxxx, sk-ant-...abc123xyzAA): a placeholder or an edited key, weighed by the scorer
	if failed != nil && gateSecret(text, i, failedEnd, ckVendor, false, assignedKeyBefore(text, i), false) {
		return Match{Type: failed.typ, Start: i, End: failedEnd}, true
	}
	return Match{}, false
}

// secretBody applies rule r's checks to a body of the right length.
func secretBody(body []byte, r *ruleEntry) bool {
	l := len(body)
	if r.typ == GitHubToken && l == 36 && githubChecksum(body) {
		return true // a real token: its CRC32 checks out
	}
	if l >= 16 && r.prefix != ntlmPrefix && lowEntropy(body) {
		return false // ghp_xxxx..., glc_1111...: documentation placeholders (an NTLM message is binary: runs of A are its zeros)
	}
	if l >= 60 && !allHexAnyCase(body) && sequential(body) { // (hex digits step by one often by chance)
		return false // sk-ant-api03-abc123xyz-456def789ghij-klmnop...: a long generated example
	}
	return r.check == nil || r.check(body)
}

// joinedSecret tries rule r on the body text[b:e] continued over up to two single blanks by tokens of the
// rule's charset. A continuation must hold a letter and a digit (a key fragment, not a word) unless the body
// is still shorter than the rule's minimum. It returns the end of the joined key.
func joinedSecret(text []byte, b, e int, r *ruleEntry) (int, bool) {
	var buf [MaxEntityLen]byte
	n := len(text)
	k := copy(buf[:], text[b:e])
	end := e
	for gaps := 0; gaps < 2 && end+1 < n && (text[end] == ' ' || text[end] == '\n') && charTab[text[end+1]]&r.cs != 0; gaps++ {
		c := end + 1
		letters, digits := 0, 0
		for c < n && charTab[text[c]]&r.cs != 0 && c-end <= r.max {
			if isDigit(text[c]) {
				digits++
			} else if isAlpha(text[c]) {
				letters++
			}
			c++
		}
		for c > end+1 && (text[c-1] == '.' || text[c-1] == '-') {
			c--
		}
		if k >= r.min && (letters == 0 || digits == 0 || c-end-1 < 4) {
			break
		}
		if k+c-end-1 > r.max || k+c-end-1 > len(buf) {
			break
		}
		k += copy(buf[k:], text[end+1:c])
		end = c
		if k >= r.min && (end >= n || !wordTab[text[end]]) && secretBody(buf[:k], r) {
			// longer joins are tried only while they still fit the rule
			next := end
			if next+1 < n && (text[next] == ' ' || text[next] == '\n') && gaps == 0 {
				if je, ok := joinedSecretMore(text, buf[:k], next, r); ok {
					return je, true
				}
			}
			return end, true
		}
	}
	return 0, false
}

// joinedSecretMore extends an already valid joined body over one more blank when the longer body is valid too.
func joinedSecretMore(text []byte, body []byte, end int, r *ruleEntry) (int, bool) {
	n := len(text)
	c := end + 1
	letters, digits := 0, 0
	for c < n && charTab[text[c]]&r.cs != 0 && c-end <= r.max {
		if isDigit(text[c]) {
			digits++
		} else if isAlpha(text[c]) {
			letters++
		}
		c++
	}
	if letters == 0 || digits == 0 || c-end-1 < 4 || len(body)+c-end-1 > r.max || (c < n && wordTab[text[c]]) {
		return 0, false
	}
	var buf [MaxEntityLen]byte
	k := copy(buf[:], body)
	if k+c-end-1 > len(buf) {
		return 0, false
	}
	k += copy(buf[k:], text[end+1:c])
	if secretBody(buf[:k], r) {
		return c, true
	}
	return 0, false
}

// lowEntropy flags bodies like xxxxxxxx, 11111111 or EXAMPLEEXAMPLE... (placeholders in documentation).
func lowEntropy(b []byte) bool {
	run := 1
	for k := 1; k < len(b); k++ {
		if b[k] == b[k-1] {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	if Entropy(b) < 2.5 {
		return true
	}
	// a short pattern repeated: EXAMPLEEXAMPLEEXAMPLE..., abc123abc123abc123
	// (at least 70% of the bytes equal the byte p before: stop at the first mismatch over 30%)
	for p := 2; p <= 12 && 3*p <= len(b); p++ {
		limit := (len(b) - p) * 3
		miss := 0
		for k := p; k < len(b) && miss*10 <= limit; k++ {
			if b[k] != b[k-p] {
				miss++
			}
		}
		if miss*10 <= limit {
			return true
		}
	}
	return false
}

// slackBody: xox?-[version-]<ids>-<secret>: numeric ids of 6 digits or more (a single-digit version
// segment aside) and a final secret segment that is not a number.
func slackBody(b []byte) bool {
	d := 0
	for _, c := range b {
		if isDigit(c) {
			d++
		}
	}
	if d < 8 {
		return false
	}
	start, last := 0, []byte(nil)
	for k := 0; k <= len(b); k++ {
		if k < len(b) && b[k] != '-' {
			continue
		}
		seg := b[start:k]
		start = k + 1
		if k < len(b) && isDigits(seg) && len(seg) > 1 && len(seg) < 6 {
			return false // xoxp-1234-1234-1234-...: example ids
		}
		last = seg
	}
	return len(last) > 0 && !isDigits(last)
}

// parseDiscord: a Discord bot token, base64(user id).timestamp.hmac.
func parseDiscord(text []byte, i int) int {
	n := len(text)
	j := i
	var segs [3]int
	for part := 0; part < 3; part++ {
		k := j
		for k < n && b64url(text[k]) && k-j < 100 {
			k++
		}
		segs[part] = k - j
		j = k
		if part < 2 {
			if j >= n || text[j] != '.' {
				return 0
			}
			j++
		}
	}
	if segs[0] < 23 || segs[0] > 28 || segs[1] != 6 || segs[2] < 27 || segs[2] > 40 || !endsToken(text, j) {
		return 0
	}
	// the first part is the base64 of the bot's numeric user id (a snowflake)
	if !b64Digits(text[i : i+segs[0]]) {
		return 0
	}
	return j
}

func b64url(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// parseJWT: eyJ<header>.<payload>.<signature>
func parseJWT(text []byte, i int) int {
	if !hasPrefixAt(text, i, "eyJ") {
		return 0
	}
	n := len(text)
	j := i
	var segs [3]int
	for part := 0; part < 3; part++ {
		k := j
		for k < n && b64url(text[k]) && k-i < 8192 {
			k++
		}
		segs[part] = k - j
		j = k
		if part < 2 {
			if j >= n || text[j] != '.' {
				// header.payload without a signature (alg "none" or a truncated token): still carries claims
				if part == 1 && segs[0] >= 10 && segs[1] >= 16 && endsToken(text, j) && jwtHeader(text[i:i+segs[0]]) {
					return j
				}
				return 0
			}
			j++
		}
	}
	if segs[0] < 10 || segs[1] < 8 {
		return 0
	}
	if j < n && (text[j] == '=' || text[j] == '.') {
		return 0
	}
	if !jwtHeader(text[i : i+segs[0]]) {
		return 0
	}
	return j
}

// ---------------------------------------------------------------------------------------------------------
// letters

func (s *Scanner) letterToken(text []byte, i int) (Match, bool) {
	c := text[i]
	n := len(text)
	if len(rulesByFirst[c]) > 0 || c == 'e' || c == 'M' || c == 'N' || c == 'O' {
		if m, ok := s.prefixSecret(text, i); ok {
			return m, true
		}
	}
	if isUpper(c) {
		if i+1 < n && isUpper(text[i+1]) {
			if s.enabled.Has(IBAN) && i+3 < n && isDigit(text[i+2]) && isDigit(text[i+3]) {
				if e := parseIBAN(text, i); e > 0 {
					return Match{Type: IBAN, Start: i, End: e}, true
				}
			}
			if s.enabled.Has(UKNINO) {
				if e := parseNINO(text, i); e > 0 {
					return Match{Type: UKNINO, Start: i, End: e}, true
				}
			}
		}
		if s.enabled.Has(ESNIF) && (c == 'X' || c == 'Y' || c == 'Z') && i+9 <= n {
			var buf [9]byte
			buf[0] = c
			j := i + 1
			k := 1
			for k < 8 && j < n && isDigit(text[j]) {
				buf[k] = text[j]
				k++
				j++
			}
			if k == 8 && j < n && text[j] == '-' {
				j++
			}
			if k == 8 && j < n && isUpper(text[j]) && endsToken(text, j+1) {
				buf[8] = text[j]
				if NIFValid(buf[:]) {
					return Match{Type: ESNIF, Start: i, End: j + 1}, true
				}
			}
		}
		if s.enabled.Has(SGNRICFIN) && (c == 'S' || c == 'T' || c == 'F' || c == 'G') && i+9 <= n && endsToken(text, i+9) && NRICValid(text[i:i+9]) {
			return Match{Type: SGNRICFIN, Start: i, End: i + 9}, true
		}
		if s.enabled.Has(ITFiscalCode) {
			if e := skipWord(text, i); e-i == 16 && FiscalCodeValid(text[i:e]) {
				return Match{Type: ITFiscalCode, Start: i, End: e}, true
			}
		}
	}
	if s.enabled.Has(Crypto) && c == 'b' && hasPrefixAt(text, i, "bc1") {
		e := skipWord(text, i)
		if e-i >= 14 && e-i <= 90 && Bech32Valid(text[i:e]) {
			return Match{Type: Crypto, Start: i, End: e}, true
		}
	}
	if isHex(c) && (s.enabled.Has(MACAddress) || s.enabled.Has(IPAddress)) {
		if m, ok := s.hexNet(text, i); ok {
			return m, true
		}
	}
	if m, ok := s.moreSecrets(text, i); ok {
		return m, true
	}
	if m, ok := s.highEntropy(text, i); ok {
		return m, true
	}
	if m, ok := s.prefixedToken(text, i); ok {
		return m, true
	}
	if m, ok := s.keywordValue(text, i); ok {
		return m, true
	}
	// Azure AD client secret: xxx8Q~ followed by 31-34 characters.
	if s.enabled.Has(AzureKey) && i+6 < n && isDigit(text[i+3]) && text[i+4] == 'Q' && text[i+5] == '~' {
		e := i
		for e < n && (charTab[text[e]]&(csAlnum|csUnder|csDash|csDot|csTilde) != 0) {
			e++
		}
		if l := e - i; l >= 37 && l <= 40 && !isExamplePlaceholder(text[i+6:e]) {
			return Match{Type: AzureKey, Start: i, End: e}, true
		}
	}
	return Match{}, false
}

// parseIBAN reads an IBAN written contiguously or in groups of four separated by single spaces.
func parseIBAN(text []byte, i int) int {
	l := IBANLength(text[i], text[i+1])
	if l == 0 {
		return 0
	}
	var buf [34]byte
	n := len(text)
	k := 0
	j := i
	spaced := false
	for j < n && k < l {
		c := text[j]
		if isDigit(c) || isUpper(c) {
			buf[k] = c
			k++
			j++
			continue
		}
		if c == ' ' && k%4 == 0 && (k == 4 || spaced) && j+1 < n && (isDigit(text[j+1]) || isUpper(text[j+1])) {
			spaced = true
			j++
			continue
		}
		break
	}
	if k != l || !endsToken(text, j) || !IBANValid(buf[:l]) {
		return 0
	}
	return j
}

func parseNINO(text []byte, i int) int {
	var buf [9]byte
	n := len(text)
	j := i
	k := 0
	for k < 9 && j < n {
		c := text[j]
		if c == ' ' && (k == 2 || k == 4 || k == 6 || k == 8) && j+1 < n && isAlnum(text[j+1]) {
			j++
			continue
		}
		if !isAlnum(c) {
			break
		}
		buf[k] = c
		k++
		j++
	}
	if k != 9 || !endsToken(text, j) || !NINOValid(buf[:]) {
		return 0
	}
	return j
}

// ---------------------------------------------------------------------------------------------------------
// key = value assignments

const (
	keyNone = iota
	keyPassword
	keyToken
)

var (
	passwordKeys = []string{"password", "passwd", "passphrase", "pwd", "contraseña", "contrasena", "passwort", "mot_de_passe"}
	tokenKeys    = []string{"secret", "token", "apikey", "api_key", "api-key", "access_key", "accesskey", "auth_key",
		"authkey", "private_key", "privatekey", "credential", "authorization", "signing_key", "encryption_key",
		"master_key", "client_key", "service_key", "account_key", "accountkey", "sharedaccesskey", "app_key",
		"appkey", "license_key", "session_key", "webhook"}
)

// foldSet is a list of lower-case words indexed by first byte, for containsSetFold.
type foldSet struct {
	byFirst [256][]string
}

func newFoldSet(words []string) *foldSet {
	f := &foldSet{}
	for _, w := range words {
		f.byFirst[w[0]] = append(f.byFirst[w[0]], w)
	}
	return f
}

// containsSetFold is containsAnyFold(b, words) for a word list indexed once: each byte of b is lower-cased
// once and only the words starting with it are compared (instead of every word at every position).
func containsSetFold(b []byte, f *foldSet) bool {
	for k, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		for _, w := range f.byFirst[c] {
			if k+len(w) > len(b) {
				continue
			}
			ok := true
			for q := 1; q < len(w); q++ {
				if lower(b[k+q]) != w[q] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

var (
	passwordKeySet     = newFoldSet(passwordKeys)
	tokenKeySet        = newFoldSet(tokenKeys)
	placeholderSet     = newFoldSet(placeholderWords)
	weakPlaceholderSet = newFoldSet(weakPlaceholderWords)
)

// containsAnyFold reports whether the ASCII-lower-cased b contains any of words (given in lower case). The
// first byte of a word is compared inline before the rest (no call per word and position).
func containsAnyFold(b []byte, words []string) bool {
	for _, w := range words {
		if len(w) == 0 {
			return true
		}
		w0 := w[0]
		for k := 0; k+len(w) <= len(b); k++ {
			c := b[k]
			if c >= 'A' && c <= 'Z' {
				c += 32
			}
			if c != w0 {
				continue
			}
			ok := true
			for q := 1; q < len(w); q++ {
				if lower(b[k+q]) != w[q] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func hasSuffixFold(b []byte, suf string) bool {
	if len(b) < len(suf) {
		return false
	}
	b = b[len(b)-len(suf):]
	for q := 0; q < len(suf); q++ {
		if lower(b[q]) != suf[q] {
			return false
		}
	}
	return true
}

func classifyKey(key []byte) int {
	if len(key) == 2 {
		return keyPassword // "pw"
	}
	// public keys and tokens, and identifiers or names of credentials (credentialId, secret_name,
	// token_url), hold no secret
	if namesNoSecret(key) || containsAnyFold(key, []string{"csrf"}) {
		return keyNone
	}
	if containsAnyFold(key, []string{"sonar"}) || hasSuffixFold(key, "_session") {
		return keyToken // sonar.login, _gitlab_session
	}
	if containsSetFold(key, passwordKeySet) || hasSuffixFold(key, "pass") || hasSuffixFold(key, "_pw") {
		return keyPassword
	}
	if containsSetFold(key, tokenKeySet) || hasSuffixFold(key, "key") || hasSuffixFold(key, "_pat") ||
		hasSuffixFold(key, ".login") || hasSuffixFold(key, "_login") {
		return keyToken
	}
	// Bundler credentials: BUNDLE_GEMS__EXAMPLE__COM=user:password
	if hasPrefixFold(key, "bundle_") && containsAnyFold(key, []string{"__"}) {
		return keyPassword
	}
	return keyNone
}

func (s *Scanner) assignment(text []byte, p, lastEnd int) (Match, bool) {
	en := s.enabled
	if !en.Has(GenericSecret) && !en.Has(AWSSecretKey) && !en.Has(AzureKey) && !en.Has(GCPServiceAccount) {
		return Match{}, false
	}
	n := len(text)
	if text[p] == '=' && p+1 < n && text[p+1] == '=' {
		return Match{}, false // the second '=' of "==" triggers
	}
	if text[p] == ':' && p+1 < n && (text[p+1] == '=' || text[p+1] == ':') {
		return Match{}, false // the '=' of ":=" / "::=" triggers
	}
	k := p
	if text[p] == '=' && p >= 2 && text[p-1] == '=' && (text[p-2] == '!' || text[p-2] == '=') {
		k-- // JavaScript's !== and ===: the key is read as before != and ==
	}
	compare := false
	if text[p] == '=' && k > 0 && (text[k-1] == ':' || text[k-1] == '!' || text[k-1] == '<' || text[k-1] == '>' || text[k-1] == '=' || text[k-1] == '?') {
		switch text[k-1] {
		case ':', '?':
			// := ::= :::= (Go, BNF, GNU make) and ?= (make's conditional assignment)
			k--
			for c := 0; c < 2 && k > 0 && text[k-1] == ':'; c++ {
				k--
			}
		case '!', '=':
			// secret == "literal", creds.Secret != "open-sesame": the literal is the secret
			compare = true
			k--
		default:
			return Match{}, false
		}
	}
	for k > lastEnd && (text[k-1] == ' ' || text[k-1] == '\t') {
		k--
	}
	if k > lastEnd && (text[k-1] == '"' || text[k-1] == '\'' || text[k-1] == '`' || text[k-1] == ']') {
		k--
	}
	ke := k
	for k > lastEnd && ke-k < 64 && (wordTab[text[k-1]] || text[k-1] == '-' || text[k-1] == '.' || text[k-1] >= 0x80) {
		k--
	}
	key := text[k:ke]
	curlUser := text[p] == ':' && curlUserBefore(text[:k])
	// new NetworkCredential("user", "pw"), HTTPBasicAuth('u', 'pw'): the last argument is a password
	credCall := text[p] == ',' && credentialCallBefore(text, k)
	if len(key) < 3 && !(len(key) == 2 && lower(key[0]) == 'p' && lower(key[1]) == 'w') && !curlUser && !credCall {
		return Match{}, false
	}
	kind := classifyKey(key)
	if kind == keyNone && curlUser {
		kind = keyPassword // curl --user name:password, -u "name:password", -u ":password"
	}
	if kind == keyNone && credCall {
		kind = keyPassword
	} else {
		credCall = false
	}
	if kind == keyNone {
		return Match{}, false
	}
	// a literal is a value written in quotes, or after an environment-style KEY=value
	envStyle := text[p] == '=' && isEnvName(key) && p == ke && (k == 0 || text[k-1] == '\n' || text[k-1] == ' ' || text[k-1] == '\t')
	// credentialsId = '<uuid>', client_id: identifiers name a secret, they are not one.
	if (hasSuffixFold(key, "id") || hasSuffixFold(key, "ids")) && !containsAnyFold(key, []string{"private_key_id"}) && isUUID(text[skipValueStart(text, p):]) {
		return Match{}, false
	}
	// a time-based (version 1) UUID is an identifier (time and node), never a random credential
	if v := text[skipValueStart(text, p):]; isUUID(v) && v[14] == '1' {
		return Match{}, false
	}
	j := p + 1
	if text[p] == '=' && j < n && text[j] == '>' {
		j++
	}
	for j < n && (text[j] == ' ' || text[j] == '\t' || credCall && (text[j] == '\n' || text[j] == '\r')) {
		j++
	}
	var q byte
	if j < n && (text[j] == '"' || text[j] == '\'' || text[j] == '`') {
		q = text[j]
		j++
	} else if hasPrefixAt(text, j, "&quot;") {
		q = '&' // HTML-escaped quotes
		j += 6
	} else if j+1 < n && text[j] == '\\' && (text[j+1] == '"' || text[j+1] == '\'') {
		q = '\\' // escaped quotes inside a string: \"value\"
		j += 2
	}
	if compare {
		if q == 0 {
			return Match{}, false
		}
		kind = keyPassword // a value compared with a literal is checked like a password
	}
	for _, scheme := range []string{"Bearer ", "bearer ", "Basic ", "basic ", "token ", "Token "} {
		if hasPrefixAt(text, j, scheme) {
			j += len(scheme)
			break
		}
	}
	if text[p] == ',' && q == 0 {
		return Match{}, false // an argument pair needs a quoted value
	}
	vs := j
	for j < n && j-vs <= MaxEntityLen {
		c := text[j]
		if c == '\n' || c == '\r' || (q != 0 && c == q) {
			break
		}
		if q != 0 {
			// inside quotes everything up to the closing quote belongs to the value, except blanks: no
			// built-in entity spans "word + blank", the boundary the streaming masker relies on
			if c == ' ' || c == '\t' {
				break
			}
			j++
			continue
		}
		if c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '`' {
			break
		}
		if q == 0 && (c == ',' || c == ';' || c == ')' || c == '}' || c == '&' || c == '<' || c == '>') {
			break
		}
		j++
	}
	// a trailing '.' ends the sentence
	for j > vs && q == 0 && text[j-1] == '.' {
		j--
	}
	for j > vs && q != 0 && text[j-1] == '\\' {
		j-- // "value\" inside an escaped string
	}
	val := text[vs:j]
	if credCall && !lastArgument(text, j, q) {
		return Match{}, false // the user name (or a path) of a credential constructor, not its password
	}
	literal := q != 0 || envStyle
	if j-vs > MaxEntityLen || len(val) < 4 || val[0] == ',' || val[len(val)-1] == ':' || publicByDesign(val) || syntacticPlaceholder(val) || isReference(val, literal) {
		return Match{}, false // a label inside a string ("Password:"), a public value, a template or a reference
	}
	if vendorLookalike(val) {
		if m, ok := s.prefixSecret(text, vs); ok && m.End == j {
			return Match{}, false // a vendor's token: its own rule reports it, with its type
		}
	}
	// the hand-written verdict: a vendor's format its own rule rejected (xoxp-1234567890) or a name
	// (schemaKey = 'DOC_Vector_5_32') is not a secret; the scorer weighs it with the other features
	rule := valueLooksSecret(kind, val, literal) && !vendorLookalike(val) && !(kind == keyToken && wordIdentifier(val))
	if !rule && !literal {
		return Match{}, false
	}
	ck := ckAssignToken
	if kind == keyPassword {
		ck = ckAssignPassword
	}
	if !gateSecret(text, vs, j, ck, literal, key, rule) {
		return Match{}, false
	}
	t := GenericSecret
	switch {
	case containsAnyFold(key, []string{"aws"}) && containsAnyFold(key, []string{"secret"}) && len(val) == 40:
		t = AWSSecretKey
	case containsAnyFold(key, []string{"private_key_id"}):
		t = GCPServiceAccount
	case containsAnyFold(key, []string{"accountkey", "sharedaccesskey"}):
		t = AzureKey
	}
	if !en.Has(t) {
		if !en.Has(GenericSecret) {
			return Match{}, false
		}
		t = GenericSecret
	}
	return Match{Type: t, Start: vs, End: j}, true
}

var placeholderWords = []string{"changeme", "change_me", "example", "null", "none", "true",
	"false", "undefined", "your", "redacted", "placeholder", "dummy", "sample", "xxxx", "****", "....",
	"${", "{{", "%s", "process.env", "os.environ", "getenv", "env[", "config.", "settings.", "$(", "[redacted",
	"todo", "insert", "replace", "enter_", "my_", "here", "fake", "qwerty"}

var weakPlaceholderWords = []string{"password", "secret"}

// isPlaceholderValue reports values that are obviously not real credentials.
func isPlaceholderValue(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	switch v[0] {
	case '$', '{', '<', '%', '[', '(', '@', '#', '*':
		return true
	}
	if allSame(v) || containsSetFold(v, placeholderSet) {
		return true
	}
	if hasAngleHole(v) {
		return true // sk-<your key here>, Bearer <token>
	}
	if isUUID(v) && v[14] == '1' {
		return true // a time-based (version 1) UUID is an identifier (time and node), not a random credential
	}
	if structuredName(v) {
		return true
	}
	// "password", "my_secret", "secret-key", "password123": the key's own name as its value; a longer word
	// that merely contains it ("thisismypassword") is a (weak) password
	if containsSetFold(v, weakPlaceholderSet) && (len(v) <= 12 || containsByte(v, '_') || containsByte(v, '-') || containsByte(v, '.')) {
		return true
	}
	return false
}

// structuredName reports values that name something rather than hold a secret: a URL, an absolute path, an
// AWS ARN, a file name (name.ext with a common extension), a versioned artifact (jjwt-jackson-0.11.2,
// SalesResults-1.2) or a host with a port.
func structuredName(v []byte) bool {
	if containsSeq(v, "://") || hasPrefixFold(v, "arn:") || v[0] == '/' && pathChars(v) {
		return true
	}
	if dot := lastIndexByte(v, '.'); dot > 0 && dot < len(v)-1 {
		if fileExt(v[dot+1:]) {
			return true
		}
	}
	// -<digits>(.<digits>)+ at the end: a version
	k := len(v)
	dots := 0
	for k > 0 && (isDigit(v[k-1]) || v[k-1] == '.') {
		if v[k-1] == '.' {
			dots++
		}
		k--
	}
	if k > 1 && k < len(v) && v[k-1] == '-' && dots > 0 && v[len(v)-1] != '.' && isAlpha(v[0]) {
		return true
	}
	// host:port
	if c := lastIndexByte(v, ':'); c > 0 && c < len(v)-1 && isDigits(v[c+1:]) && containsByte(v[:c], '.') {
		return true
	}
	return false
}

// pathChars: only letters, digits and / _ . - @ (an absolute path, not a regex literal holding a value).
func pathChars(v []byte) bool {
	for _, c := range v {
		if !isAlnum(c) && c != '/' && c != '_' && c != '.' && c != '-' && c != '@' {
			return false
		}
	}
	return true
}

func lastIndexByte(b []byte, c byte) int {
	for k := len(b) - 1; k >= 0; k-- {
		if b[k] == c {
			return k
		}
	}
	return -1
}

// isReference reports a value that refers to another (self.token, config.api_key, os.getenv("X"), a call, a
// constant name such as ACCESS_TOKEN, a concatenation) rather than holding one.
func isReference(v []byte, literal bool) bool {
	ident := true
	for _, c := range v {
		if !(isLower(c) || c == '_' || c == '.' || isDigit(c)) {
			ident = false
			break
		}
	}
	if ident && !literal && (containsByte(v, '.') || containsByte(v, '_')) && classes(v) <= 2 && !hasDigitRun(v, 4) {
		return true
	}
	return (!literal && containsByte(v, '(')) || isConstName(v) || containsSeq(v, " + ") || v[0] == '"' || v[0] == '\\'
}

func valueLooksSecret(kind int, v []byte, literal bool) bool {
	// (no sequential-run test here: after a credential key the context is strong, and masking a fake
	// "1234567890abcdef" costs less than missing a real value)
	if isPlaceholderValue(v) || isReference(v, literal) {
		return false
	}
	switch kind {
	case keyPassword:
		if len(v) < 6 {
			return false
		}
		// a quoted or KEY=value literal is a password even when it is one word ("whiteduke")
		return classes(v) >= 2 || len(v) >= 12 || literal
	default:
		if len(v) < 10 {
			return false
		}
		return classes(v) >= 2 && Entropy(v) >= 3.0
	}
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func hasDigitRun(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if isDigit(c) {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// ---------------------------------------------------------------------------------------------------------
// custom entities

func (s *Scanner) scanCustom(text []byte, dst []Match, first int) []Match {
	builtin := len(dst)
	for ci := range s.custom {
		c := &s.custom[ci]
		if c.Pattern != nil {
			for _, loc := range c.Pattern.FindAllIndex(text, -1) {
				if loc[1] > loc[0] {
					dst = appendIfFree(dst, first, builtin, Match{Start: loc[0], End: loc[1], Custom: c.Name, Secret: c.Secret})
				}
			}
		}
		for _, w := range c.Words {
			if w == "" {
				continue
			}
			for k := 0; k+len(w) <= len(text); k++ {
				if lower(text[k]) != w[0] || (k > 0 && wordTab[text[k-1]]) {
					continue
				}
				ok := true
				for q := 1; q < len(w); q++ {
					if lower(text[k+q]) != w[q] {
						ok = false
						break
					}
				}
				if ok && endsToken(text, k+len(w)) {
					dst = appendIfFree(dst, first, builtin, Match{Start: k, End: k + len(w), Custom: c.Name, Secret: c.Secret})
					k += len(w) - 1
				}
			}
		}
	}
	if len(dst) > builtin {
		ms := dst[first:]
		sort.SliceStable(ms, func(a, b int) bool { return ms[a].Start < ms[b].Start })
		// drop overlaps among custom matches (first wins)
		out := dst[:first]
		last := -1
		for _, m := range ms {
			if m.Start >= last {
				out = append(out, m)
				last = m.End
			}
		}
		dst = out
	}
	return dst
}

func appendIfFree(dst []Match, first, builtin int, m Match) []Match {
	for _, o := range dst[first:builtin] {
		if m.Start < o.End && o.Start < m.End {
			return dst
		}
	}
	return append(dst, m)
}

// highEntropy reports a standalone token of 32-200 characters that mixes upper case, lower case and digits with
// high Shannon entropy (an unknown vendor's API key). Identifiers (no digits), hex hashes (one letter case) and
// long base64 blobs (over 200 characters, e.g. images) do not qualify.
func (s *Scanner) highEntropy(text []byte, i int) (Match, bool) {
	if !s.enabled.Has(HighEntropySecret) || skipWord(text, i)-i < 10 {
		return Match{}, false
	}
	// glued to a preceding token (a.b.<x>, USK@<x>): part of a larger structure, not a key by itself
	glued := i >= 2 && (isAlnum(text[i-2]) || text[i-2] == '.' || text[i-2] == '}') && (text[i-1] == '.' || text[i-1] == '@' || text[i-1] == '~')
	if glued {
		return Match{}, false
	}
	n := len(text)
	e := i
	for e < n && e-i <= 200 && charTab[text[e]]&(csAlnum|csUnder|csDash|csB64) != 0 && text[e] != '/' {
		e++
	}
	for e > i && (text[e-1] == '-' || text[e-1] == '_') {
		e--
	}
	if text[e-1] == '=' && i >= 2 && text[i-1] == '/' && isAlnum(text[i-2]) {
		return Match{}, false // the padded tail of a base64 blob
	}
	l := e - i
	if l < 32 || l > 200 || (e < n && (wordTab[text[e]] || text[e] == '/' || text[e] == '.' && e+1 < n && isAlnum(text[e+1]))) {
		return Match{}, false
	}
	lo, up, di, _ := classCounts(text[i:e])
	if lo < 2 || up < 2 || di < 2 || Entropy(text[i:e]) < 4.2 {
		return Match{}, false
	}
	if s.notAKey(text, i, e) || !gateSecret(text, i, e, ckEntropy, false, assignedKeyBefore(text, i), !sequential(text[i:e]) && !lowEntropy(text[i:e])) {
		return Match{}, false
	}
	return Match{Type: HighEntropySecret, Start: i, End: e}, true
}

// skipValueStart returns the offset of the value after the assignment operator at p (spaces and a quote
// skipped).
func skipValueStart(text []byte, p int) int {
	j := p + 1
	for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '"' || text[j] == '\'' || text[j] == '>') {
		j++
	}
	return j
}

// isUUID: v starts with 8-4-4-4-12 hex digits.
func isUUID(v []byte) bool {
	if len(v) < 36 {
		return false
	}
	v = v[:36]
	for k, c := range v {
		switch k {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// isConstName: upper-case letters and underscores only (an environment variable or constant name).
func isConstName(v []byte) bool {
	for _, c := range v {
		if !isUpper(c) && c != '_' {
			return false
		}
	}
	return true
}

var valueKeywords = []string{"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "api key", "api_key", "securestring"}

// keywordValue reports a password-like token written after a keyword in prose or on a command line:
// "password is NsIdksKJdj", "password 7cc938e45e63...", "-password Prl23Db#@x". The token must mix character
// classes, have some entropy and follow the keyword with only blanks, quotes, ':' '=' or the word "is" between.
func (s *Scanner) keywordValue(text []byte, i int) (Match, bool) {
	if !s.enabled.Has(GenericSecret) {
		return Match{}, false
	}
	n := len(text)
	// URL-encoded query (token%3Dvalue%26...): the value follows "%3D" and ends at the next escape
	encoded := i > 0 && text[i-1] == '%' && i+2 < n && text[i] == '3' && (text[i+1] == 'D' || text[i+1] == 'd')
	if encoded {
		i += 2
	}
	e := i
	for e < n && e-i <= 64 {
		c := text[e]
		if c <= ' ' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == ',' || c == ';' || (encoded && c == '%') {
			break
		}
		e++
	}
	for e > i && (text[e-1] == '.' || text[e-1] == ')') {
		e--
	}
	v := text[i:e]
	if len(v) < 4 || len(v) > 64 {
		return Match{}, false
	}
	// The keyword to the left is checked first: it fails for almost every candidate in code, logs and JSON,
	// and is much cheaper than the value checks below (all conditions must hold, none has side effects).
	// walk left over the gap to the keyword
	j := i
	if encoded {
		j = i - 3
	}
	for j > 0 && i-j < 24 && (text[j-1] == ' ' || text[j-1] == '"' || text[j-1] == '\'' || text[j-1] == ':' || text[j-1] == '=' || text[j-1] == '\\') {
		j--
	}
	// command-line switches between the keyword and the value: ConvertTo-SecureString -String -Force <pw>
	for flags := 0; flags < 3 && j > 0 && isAlpha(text[j-1]); flags++ {
		f := j - 1
		for f > 0 && isAlpha(text[f-1]) && j-f < 16 {
			f--
		}
		if f < 2 || text[f-1] != '-' || text[f-2] != ' ' || isValueKeyword(text[f:j]) {
			break // -Password 'x': the flag is the keyword itself
		}
		j = f - 1
		for j > 0 && text[j-1] == ' ' {
			j--
		}
	}
	if j >= 3 && lower(text[j-1]) == 's' && lower(text[j-2]) == 'i' && text[j-3] == ' ' {
		j -= 3
		for j > 0 && text[j-1] == ' ' {
			j--
		}
	}
	if j == i {
		return Match{}, false
	}
	ws := j
	for ws > 0 && j-ws < 32 && (isAlpha(text[ws-1]) || text[ws-1] == '_' || text[ws-1] == ' ' && j-ws < 8) {
		ws--
	}
	word := text[ws:j]
	found := false
	for _, k := range valueKeywords {
		if hasSuffixFold(word, k) {
			found = true
			break
		}
	}
	if !found || namesNoSecret(word) {
		return Match{}, false
	}
	// a quoted value ("the password is 'centipede'") is weighed by the scorer; an unquoted one must look
	// like a token, not a word of the sentence
	quoted := i > 0 && (text[i-1] == '"' || text[i-1] == '\'') && e < n && text[e] == text[i-1]
	up, lo, di := false, false, false
	for _, c := range v {
		up = up || isUpper(c)
		lo = lo || isLower(c)
		di = di || isDigit(c)
	}
	rule := len(v) >= 6 && !(len(v) < 8 && !isPasswordWord(word) || classes(v) < 2 || isPlaceholderValue(v) || Entropy(v) < 2.5) && (di || up && lo)
	if !rule && (!quoted || syntacticPlaceholder(v)) {
		return Match{}, false
	}
	if !gateSecret(text, i, e, ckKeyword, quoted, word, rule) {
		return Match{}, false
	}
	return Match{Type: GenericSecret, Start: i, End: e}, true
}

// ---------------------------------------------------------------------------------------------------------
// structure checks and placeholder shapes

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// githubChecksum reports whether the 36-character body of a ghp_/gho_/ghu_/ghs_/ghr_ token ends with the
// base62 CRC32 of its first 30 characters (GitHub's token format since 2021).
func githubChecksum(body []byte) bool {
	if len(body) != 36 {
		return false
	}
	c := crc32.ChecksumIEEE(body[:30])
	for k := 35; k >= 30; k-- {
		if body[k] != base62[c%62] {
			return false
		}
		c /= 62
	}
	return true
}

var b64Val [256]int8

func init() {
	for c := range b64Val {
		b64Val[c] = -1
	}
	for k, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") {
		b64Val[c] = int8(k)
	}
	b64Val['+'], b64Val['-'] = 62, 62
	b64Val['/'], b64Val['_'] = 63, 63
}

// b64Decode decodes unpadded standard or URL-safe base64 into dst (at most len(dst) bytes) and returns the
// number of bytes written, or -1 when src is not base64 or does not fit.
func b64Decode(dst, src []byte) int {
	var acc uint32
	bits, n := 0, 0
	for _, c := range src {
		v := b64Val[c]
		if v < 0 {
			return -1
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			if n >= len(dst) {
				return -1
			}
			dst[n] = byte(acc >> uint(bits))
			n++
		}
	}
	return n
}

// b64Digits: src is the base64 of 17-20 decimal digits (a Discord snowflake id).
func b64Digits(src []byte) bool {
	var buf [24]byte
	n := b64Decode(buf[:], src)
	if n < 17 || n > 20 {
		return false
	}
	return isDigits(buf[:n])
}

// jwtHeader: the first JWT part decodes to a JSON object naming "alg" or "typ".
func jwtHeader(src []byte) bool {
	var buf [512]byte
	if len(src) > 680 {
		src = src[:680]
	}
	n := b64Decode(buf[:], src)
	for n > 0 && (buf[n-1] == ' ' || buf[n-1] == '\n' || buf[n-1] == '\r') {
		n--
	}
	if n < 7 || buf[0] != '{' || buf[n-1] != '}' {
		return false // not a whole JSON object (a truncated or edited header)
	}
	h := buf[:n]
	for k := 0; k+5 <= n; k++ {
		if h[k] == '"' && (string(h[k+1:k+5]) == "alg\"" || string(h[k+1:k+5]) == "typ\"" || string(h[k+1:k+5]) == "kid\"") {
			return true
		}
	}
	return false
}

// onePasswordBody: the rest of a 1Password secret key after "A3-": groups of 6, 6, 5, 5, 5, 5 upper-case
// alphanumerics (6, 11, 5, 5, 5 in the older layout).
func onePasswordBody(b []byte) bool {
	return groupsOf(b, []int{6, 11, 5, 5, 5}) || groupsOf(b, []int{6, 6, 5, 5, 5, 5})
}

func groupsOf(b []byte, want []int) bool {
	g, l := 0, 0
	for _, c := range b {
		if c == '-' {
			if g >= len(want) || l != want[g] {
				return false
			}
			g++
			l = 0
			continue
		}
		if !isUpper(c) && !isDigit(c) {
			return false
		}
		l++
	}
	return g == len(want)-1 && l == want[g]
}

// sequential flags generated example strings: runs of consecutive characters ("abcdef", "123456",
// "ABCDEFGHIJK"), also interleaved ("X9y8Z7a6", "d4c3b2a1"). Random keys have about 6 % of such steps.
func sequential(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	steps, n := seqSteps(b)
	return n > 0 && steps*100 >= n*45
}

// seqSteps counts the alphanumerics of b after the first (n) and those one step from the character before
// them or, interleaved, from the alphanumeric two before (steps).
func seqSteps(b []byte) (steps, n int) {
	for k := 1; k < len(b); k++ {
		if !isAlnum(b[k]) {
			continue
		}
		n++
		d1 := int(lower(b[k])) - int(lower(b[k-1]))
		seq := d1 == 1 || d1 == -1
		if !seq && k >= 2 {
			d2 := int(lower(b[k])) - int(lower(b[k-2]))
			seq = (d2 == 1 || d2 == -1) && isAlnum(b[k-2])
		}
		if seq {
			steps++
		}
	}
	return steps, n
}

func hasPrefixFold(b []byte, pre string) bool {
	if len(b) < len(pre) {
		return false
	}
	for q := 0; q < len(pre); q++ {
		if lower(b[q]) != pre[q] {
			return false
		}
	}
	return true
}

// isEnvName: an environment-variable name (upper case, digits, '_'; starts with a letter).
func isEnvName(k []byte) bool {
	if len(k) == 0 || !isUpper(k[0]) {
		return false
	}
	for _, c := range k {
		if !isUpper(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func containsSeq(b []byte, w string) bool {
	for k := 0; k+len(w) <= len(b); k++ {
		if string(b[k:k+len(w)]) == w {
			return true
		}
	}
	return false
}

// cryptHash reports a password hash in modular crypt format at text[i] ('$'): $1$, $2a$/$2b$/$2y$ (bcrypt),
// $5$, $6$ (sha-crypt), $7$ (scrypt), $8$/$9$ (Cisco), $y$ (yescrypt), $argon2i(d)$, $krb5asrep$,
// $krb5tgs$. Offline-crackable, so masked like a secret.
func cryptHash(text []byte, i int) int {
	n := len(text)
	j := i + 1
	for j < n && j-i < 12 && (isAlnum(text[j]) || text[j] == '-') {
		j++
	}
	if j >= n || text[j] != '$' {
		return 0
	}
	id := string(text[i+1 : j])
	switch id {
	case "1", "2a", "2b", "2y", "5", "6", "7", "8", "9", "y", "gy", "argon2i", "argon2id", "argon2d", "krb5asrep", "krb5tgs", "pbkdf2-sha256", "pbkdf2-sha512":
	default:
		return 0
	}
	e := j
	dollars := 0
	for e < n && e-i < MaxEntityLen && (charTab[text[e]]&(csAlnum|csDot|csB64|csUnder|csDash) != 0 || text[e] == '$' || text[e] == ',') {
		if text[e] == '$' {
			dollars++
		}
		e++
	}
	if dollars < 2 || e-j < 20 {
		return 0
	}
	var lo, up, di int
	for _, c := range text[j:e] {
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		}
	}
	if lo+up+di < 2 {
		return 0
	}
	return e
}

// hasAngleHole: v contains a "<name>" template hole (letters, digits, '_', '-', ' ' between the brackets).
func hasAngleHole(v []byte) bool {
	for k := 0; k < len(v); k++ {
		if v[k] != '<' {
			continue
		}
		for j := k + 1; j < len(v) && j-k <= 40; j++ {
			c := v[j]
			if c == '>' {
				if j > k+1 {
					return true
				}
				break
			}
			if !isAlnum(c) && c != '_' && c != '-' && c != ' ' {
				break
			}
		}
	}
	return false
}

// googleClientID: <digits>-<32 lower-case alphanumerics>.apps.googleusercontent.com (an OAuth client id).
func googleClientID(text []byte, i int) int {
	n := len(text)
	j := i
	for j < n && isDigit(text[j]) {
		j++
	}
	if j-i < 6 || j-i > 14 || j >= n || text[j] != '-' {
		return 0
	}
	j++
	k := j
	for k < n && (isLower(text[k]) || isDigit(text[k])) {
		k++
	}
	if k-j != 32 || !hasPrefixAt(text, k, ".apps.googleusercontent.com") {
		return 0
	}
	return k + len(".apps.googleusercontent.com")
}

// salesforceSession: a Salesforce session id / access token, 00D + 12 or 15 alphanumerics (the org id), '!',
// then 80 or more token characters.
func salesforceSession(text []byte, i int) int {
	if !hasPrefixAt(text, i, "00D") {
		return 0
	}
	n := len(text)
	j := i + 3
	for j < n && isAlnum(text[j]) {
		j++
	}
	if l := j - i - 3; (l != 12 && l != 15) || j >= n || text[j] != '!' {
		return 0
	}
	j++
	k := j
	for k < n && (isAlnum(text[k]) || text[k] == '.' || text[k] == '_') && k-j < MaxEntityLen-20 {
		k++
	}
	for k > j && text[k-1] == '.' {
		k--
	}
	if k-j < 80 || !endsToken(text, k) || classes(text[j:k]) < 3 {
		return 0
	}
	return k
}

// prefixedToken reports an unknown vendor's key in the now common "identifiable prefix + random body"
// design (GitHub's ghp_, then most vendors): 2-12 lower-case letters/digits, optionally a second short
// segment (v1_, live_, api03-), '_' or '-', then 30-128 letters and digits that look random (at least two
// character classes including a digit, entropy >= 3.5 bits/char, not a generated example). Hash notations
// (sha256-..., md5_...) are not keys, and neither are shorter object ids of the same design (Stripe's
// in_/cus_/ch_ + 24).
func (s *Scanner) prefixedToken(text []byte, i int) (Match, bool) {
	if !s.enabled.Has(APIKey) || !(isLower(text[i]) || isDigit(text[i])) {
		return Match{}, false
	}
	if i > 0 && (wordTab[text[i-1]] || text[i-1] == '-' || text[i-1] == '.' || text[i-1] == '/') {
		return Match{}, false // inside a longer name (bedrock-api-key-...)
	}
	n := len(text)
	j := i
	for seg := 0; seg < 2; seg++ {
		k := j
		for k < n && (isLower(text[k]) || isDigit(text[k])) && k-j <= 12 {
			k++
		}
		if k-j < 2 || k-j > 12 || k >= n || (text[k] != '_' && text[k] != '-') {
			if seg == 0 {
				return Match{}, false
			}
			break
		}
		j = k + 1
		// a second segment only when the body does not start right here
		b := j
		for b < n && isAlnum(text[b]) {
			b++
		}
		if b-j >= 30 {
			break
		}
	}
	pre := text[i:j]
	for _, h := range []string{"sha", "md5", "crc", "blake", "xxh", "uuid", "guid", "commit", "hash", "rev", "build", "id-", "id_", "data", "base64", "hex"} {
		if hasPrefixFold(pre, h) {
			return Match{}, false
		}
	}
	e := j
	for e < n && isAlnum(text[e]) && e-j <= 128 {
		e++
	}
	l := e - j
	if l < 30 || l > 128 || (e < n && (wordTab[text[e]] || text[e] == '-' || text[e] == '+' || text[e] == '/' || text[e] == '=' || text[e] == '.' && e+1 < n && isAlnum(text[e+1]))) {
		return Match{}, false
	}
	body := text[j:e]
	lo, up, di, other := classCounts(body)
	di += other
	if di < 2 || lo+up < 4 || Entropy(body) < 3.5 || s.notAKey(text, i, e) || !gateSecret(text, i, e, ckPrefixed, false, assignedKeyBefore(text, i), !sequential(body) && !lowEntropy(body)) {
		return Match{}, false
	}
	return Match{Type: APIKey, Start: i, End: e}, true
}

// classCounts counts the lower-case letters, upper-case letters, digits and other bytes of b (the character
// classes a random key mixes and a word or a placeholder does not).
func classCounts(b []byte) (lo, up, di, other int) {
	for _, c := range b {
		switch {
		case isLower(c):
			lo++
		case isUpper(c):
			up++
		case isDigit(c):
			di++
		default:
			other++
		}
	}
	return lo, up, di, other
}

// credentialCalls are constructors and helpers whose last string argument is a password.
var credentialCalls = []string{"Credential", "Credentials", "DirectoryEntry", "PasswordAuthentication", "BasicAuth",
	"UsernamePasswordCredentials", "UsernamePasswordAuthenticationToken", "PasswordCredential", "SqlCredential"}

// credentialCallBefore reports whether text[k] lies inside the argument list of a credential constructor
// (NetworkCredential(, DirectoryEntry(, HTTPBasicAuth(, ...) opened at most 200 bytes before.
func credentialCallBefore(text []byte, k int) bool {
	for o := k - 1; o >= 0 && k-o <= 200; o-- {
		switch text[o] {
		case ')', ';', '{', '}':
			return false
		case '(':
			e := o
			b := e
			for b > 0 && isAlpha(text[b-1]) {
				b--
			}
			name := text[b:e]
			for _, c := range credentialCalls {
				if len(name) >= len(c) && string(name[len(name)-len(c):]) == c {
					return true
				}
			}
			return false
		}
	}
	return false
}

// lastArgument: the quoted value ending at j (quote q) is followed by the call's closing parenthesis.
func lastArgument(text []byte, j int, q byte) bool {
	if q == 0 || q == '&' || q == '\\' || j >= len(text) || text[j] != q {
		return false
	}
	j++
	for j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t' || text[j] == '\r') {
		j++
	}
	return j < len(text) && text[j] == ')'
}

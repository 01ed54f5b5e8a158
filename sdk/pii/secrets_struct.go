package pii

// Provider-specific structure checks for secret bodies, and detectors for credential formats that have no
// fixed prefix at the token start (a numeric app id, a hex body with a region suffix, a host name).

// lowerAlnum: lower-case letters and digits only (NuGet keys).
func lowerAlnum(b []byte) bool {
	for _, c := range b {
		if !isLower(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

// hexOneCase: hex digits in one letter case (Twilio SIDs are written in either).
func hexOneCase(b []byte) bool {
	lo, up := false, false
	for _, c := range b {
		switch {
		case isDigit(c):
		case c >= 'a' && c <= 'f':
			lo = true
		case c >= 'A' && c <= 'F':
			up = true
		default:
			return false
		}
	}
	return !(lo && up)
}

func allHexAnyCase(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// googleKeyBody: every Google API key starts AIzaSy (the fixed leading bytes of its binary form); the
// example keys published in Firebase's Android SDK are public by design.
func googleKeyBody(b []byte) bool { return b[0] == 'S' && b[1] == 'y' && !publishedGoogleKey(b) }

// publishedGoogleKeys are the bodies (after "AIza") of the Google API keys published as examples in
// firebase/firebase-android-sdk (Apache-2.0), as listed in the allowlist of gitleaks' gcp-api-key rule
// (gitleaks/gitleaks cmd/generate/config/rules/gcp.go, MIT): public values, not secrets.
var publishedGoogleKeys = []string{
	"Syabcdefghijklmnopqrstuvwxyz1234567", "SyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs", "SyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
	"SyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU", "SyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0", "SyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
	"SyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4", "SyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY", "SyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
	"SyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ", "SyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g", "SyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
	"SyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw", "SyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE", "SyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
}

func publishedGoogleKey(b []byte) bool {
	for _, k := range publishedGoogleKeys {
		if string(b) == k {
			return true
		}
	}
	return false
}

// sendgridBody: SG.<22 id characters>.<43 secret characters>.
func sendgridBody(b []byte) bool {
	if len(b) != 66 || b[22] != '.' {
		return false
	}
	for k, c := range b {
		if k != 22 && !b64url(c) {
			return false
		}
	}
	return true
}

// sourcegraphBody: sgp_ + 40 hex, sgp_<16 hex>_<40 hex> or sgp_local_<40 hex>.
func sourcegraphBody(b []byte) bool {
	switch {
	case len(b) == 40:
		return allHexAnyCase(b)
	case len(b) == 57 && b[16] == '_':
		return allHexAnyCase(b[:16]) && allHexAnyCase(b[17:])
	case len(b) == 46 && string(b[:6]) == "local_":
		return allHexAnyCase(b[6:])
	case len(b) >= 60 && len(b) <= 70:
		return allHexAnyCase(b) // Segment's public API token shares the prefix: sgp_ + 64 hex
	}
	return false
}

// artifactoryBody: the rest of a JFrog Artifactory API key (AKC...) or encrypted password (AP[0-9A-F]...):
// random letters and digits, not a word in capitals (APACHE...), not a placeholder run (AP6xxxxxxxxxx).
func artifactoryBody(b []byte) bool {
	lo, up, di, other := classCounts(b)
	di += other
	return di > 0 && lo+up > 0 && !(lo == 0 && di < 2) && !lowEntropy(b) && !sequential(b) && Entropy(b) >= 3.0
}

// isExamplePlaceholder reports a body that spells a documentation example: a run of one character
// (xxxxxxxx, 00000000), a generated sequence (abc123xyz, a1b2c3d4) or a repeated short pattern.
func isExamplePlaceholder(b []byte) bool {
	return lowEntropy(b) || sequential(b)
}

// moreSecrets tries the credential formats that have no fixed prefix at the token start. Each detector is
// called only when the bytes at its fixed offsets fit (a call per candidate token is costly in wasm).
func (s *Scanner) moreSecrets(text []byte, i int) (Match, bool) {
	if !s.enabled.Has(APIKey) {
		return Match{}, false
	}
	n := len(text)
	e := 0
	switch c := text[i]; {
	case isDigit(c) && i+16 < n && (text[i+15] == '|' || text[i+16] == '|'):
		e = facebookAppToken(text, i)
	case c == 'h':
		e = webhookURL(text, i)
	case c == 'a' && i+24 < n && text[i+12] == '$':
		e = braintreeToken(text, i)
	}
	if e == 0 && i+84 <= n && text[i+52] == 'J' && text[i+53] == 'Q' && text[i+76] == 'A' && text[i+77] == 'Z' && s.enabled.Has(AzureKey) {
		if e = azureJQQJ(text, i); e > 0 {
			return Match{Type: AzureKey, Start: i, End: e}, true
		}
	}
	if e == 0 && i+36 <= n && isAlnum(text[i]) {
		switch {
		case text[i+32] == '-' && text[i+33] == 'u':
			e = mailchimpKey(text, i)
		case i+40 <= n && text[i+36] == 'N' && text[i+39] == 'L':
			e = newRelicLicense(text, i)
		case text[i+14] == '.' && text[i+15] == 'a':
			e = terraformToken(text, i)
		}
	}
	if e > 0 {
		return Match{Type: APIKey, Start: i, End: e}, true
	}
	return Match{}, false
}

// facebookAppToken: <15-16 digit app id>|<27 characters> (an app access token, id and secret in one).
func facebookAppToken(text []byte, i int) int {
	n := len(text)
	j := i
	for j < n && isDigit(text[j]) {
		j++
	}
	if j-i < 15 || j-i > 16 || j+28 > n || text[j] != '|' {
		return 0
	}
	k := j + 1
	for k < n && b64url(text[k]) {
		k++
	}
	if k-j-1 != 27 || !endsToken(text, k) || classes(text[j+1:k]) < 2 || isExamplePlaceholder(text[j+1:k]) {
		return 0
	}
	return k
}

// mailchimpKey: 32 lower-case hex digits, "-us" and the data-centre number.
func mailchimpKey(text []byte, i int) int {
	n := len(text)
	if i+36 > n || !isHex(text[i]) {
		return 0
	}
	for k := i; k < i+32; k++ {
		if !isDigit(text[k]) && !(text[k] >= 'a' && text[k] <= 'f') {
			return 0
		}
	}
	if string(text[i+32:i+35]) != "-us" || !isDigit(text[i+35]) {
		return 0
	}
	e := i + 36
	if e < n && isDigit(text[e]) {
		e++
	}
	if !endsToken(text, e) || isExamplePlaceholder(text[i:i+32]) {
		return 0
	}
	return e
}

// newRelicLicense: a New Relic ingest licence key, 36 lower-case letters and digits ending NRAL.
func newRelicLicense(text []byte, i int) int {
	n := len(text)
	if i+40 > n || string(text[i+36:i+40]) != "NRAL" || !endsToken(text, i+40) {
		return 0
	}
	body := text[i : i+36]
	if !lowerAlnum(body) || isExamplePlaceholder(body) {
		return 0
	}
	return i + 40
}

// terraformToken: a Terraform Cloud / Enterprise API token, <14 characters>.atlasv1.<60-70 characters>.
func terraformToken(text []byte, i int) int {
	n := len(text)
	j := i
	for j < n && isAlnum(text[j]) {
		j++
	}
	if j-i != 14 || !hasPrefixAt(text, j, ".atlasv1.") {
		return 0
	}
	k := j + 9
	for k < n && b64url(text[k]) {
		k++
	}
	if l := k - j - 9; l < 60 || l > 70 || !endsToken(text, k) {
		return 0
	}
	return k
}

// braintreeToken: access_token$production$<16>$<32 hex> (PayPal Braintree).
func braintreeToken(text []byte, i int) int {
	const p = "access_token$production$"
	if !hasPrefixAt(text, i, p) {
		return 0
	}
	n := len(text)
	j := i + len(p)
	k := j
	for k < n && isAlnum(text[k]) {
		k++
	}
	if k-j != 16 || k >= n || text[k] != '$' {
		return 0
	}
	e := k + 1
	for e < n && isHex(text[e]) {
		e++
	}
	if e-k-1 != 32 || !endsToken(text, e) {
		return 0
	}
	return e
}

// webhookURL: an incoming-webhook URL whose path is the credential (Discord, Microsoft Teams).
func webhookURL(text []byte, i int) int {
	if text[i] != 'h' || !hasPrefixAt(text, i, "http") {
		return 0
	}
	n := len(text)
	j := i + 4
	if j < n && text[j] == 's' {
		j++
	}
	if !hasPrefixAt(text, j, "://") {
		return 0
	}
	j += 3
	host := j
	for j < n && (isAlnum(text[j]) || text[j] == '.' || text[j] == '-') {
		j++
	}
	h := text[host:j]
	var marker string
	switch {
	case string(h) == "discord.com" || string(h) == "discordapp.com" || string(h) == "ptb.discord.com" || string(h) == "canary.discord.com":
		marker = "/api/webhooks/"
	case string(h) == "outlook.office.com" || string(h) == "outlook.office365.com":
		marker = "/webhook/"
	case hasSuffixFold(h, ".webhook.office.com"):
		marker = "/webhookb2/"
	default:
		return 0
	}
	if !hasPrefixAt(text, j, marker) {
		return 0
	}
	e := j + len(marker)
	for e < n && (isAlnum(text[e]) || text[e] == '-' || text[e] == '_' || text[e] == '/' || text[e] == '@') {
		e++
	}
	if e-j-len(marker) < 40 {
		return 0
	}
	return e
}

// vendorLookalike reports a token at v that starts with a known vendor prefix (4 bytes or more, or a
// prefix ending in '_', '-' or '.') but was not accepted by that vendor's rule: a truncated, misspelt or
// example value (xoxp-1234567890, sgp_local_<non-hex>, AIzay...). The generic detectors must not report
// it either. A body longer than the vendor's maximum is another token that happens to share the prefix
// and is left to them.
func vendorLookalike(v []byte) bool {
	if len(v) < 4 {
		return false
	}
	rs := rulesByFirst[v[0]]
	for k := range rs {
		p := rs[k].prefix
		if len(p) < 3 || len(p) > len(v) || string(v[:len(p)]) != p || len(v)-len(p) > rs[k].max {
			continue
		}
		if len(p) >= 4 || !isAlnum(p[len(p)-1]) {
			return true
		}
	}
	return false
}

// publicByDesign reports tokens that are public by design or hold no credential: Stripe publishable keys,
// Fernet ciphertexts (gAAAAA...: encrypted data, not a key) and a lone JWT header (no claims, no signature).
func publicByDesign(v []byte) bool {
	if hasPrefixAt(v, 0, "pk_live_") || hasPrefixAt(v, 0, "pk_test_") || hasPrefixAt(v, 0, "gAAAAA") {
		return true
	}
	if hasPrefixAt(v, 0, "eyJ") && len(v) <= 680 {
		var buf [512]byte
		if n := b64Decode(buf[:], v); n > 2 && buf[n-1] == '}' {
			return true // base64 of a whole JSON object: a JWT header or payload on its own
		}
	}
	return false
}

// assignedKeyBefore returns the name assigned the value that starts at i ("public_key = \"<v>\"",
// AUTH0_CLIENT_ID=<v>, clientId: '<v>'), or nil.
func assignedKeyBefore(text []byte, i int) []byte {
	j := i
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'' || text[j-1] == '`') {
		j--
	}
	for j > 0 && i-j < 8 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j == 0 || (text[j-1] != '=' && text[j-1] != ':') {
		return nil
	}
	j--
	for j > 0 && i-j < 12 && (text[j-1] == ' ' || text[j-1] == '\t' || text[j-1] == '"' || text[j-1] == '\'') {
		j--
	}
	ke := j
	for j > 0 && ke-j < 64 && (wordTab[text[j-1]] || text[j-1] == '-' || text[j-1] == '.') {
		j--
	}
	if j == ke {
		return nil
	}
	return text[j:ke]
}

// namesNoSecret: a key that names a public value or an identifier (public_key, client_id, user_name).
func namesNoSecret(key []byte) bool {
	return containsAnyFold(key, []string{"public"}) || hasSuffixFold(key, "id") && !hasSuffixFold(key, "uid") ||
		hasSuffixFold(key, "name") || hasSuffixFold(key, "url") || hasSuffixFold(key, "label")
}

// inPublicBlock reports whether i lies inside a PEM block that holds public material (a PGP public key
// block, a public key or a certificate): the nearest "-----BEGIN " before i (within 8 KiB) names one and no
// "-----END " comes between.
func inPublicBlock(text []byte, i int) bool {
	lo := i - 8192
	if lo < 0 {
		lo = 0
	}
	for k := i - 11; k >= lo; k-- {
		if text[k] != '-' || !hasPrefixAt(text, k, "-----") {
			continue
		}
		if hasPrefixAt(text, k, "-----END ") {
			return false
		}
		if hasPrefixAt(text, k, "-----BEGIN ") {
			r := text[k+11:]
			return hasPrefixAt(r, 0, "PGP PUBLIC") || hasPrefixAt(r, 0, "PUBLIC KEY") || hasPrefixAt(r, 0, "CERTIFICATE") ||
				hasPrefixAt(r, 0, "RSA PUBLIC") || hasPrefixAt(r, 0, "SSH2 PUBLIC")
		}
	}
	return false
}

// wordIdentifier reports a value made of words joined by '_', '-' or '.' (not_long_enough,
// jetbrains.mps.v8_elimination, DOC_Vector_5_32): a name, not a random token.
func wordIdentifier(v []byte) bool {
	segs, letters := 0, 0
	start := 0
	for k := 0; k <= len(v); k++ {
		if k < len(v) && v[k] != '_' && v[k] != '-' && v[k] != '.' {
			continue
		}
		seg := v[start:k]
		start = k + 1
		if len(seg) == 0 {
			continue
		}
		segs++
		di := 0
		for _, c := range seg {
			if isDigit(c) {
				di++
			} else if !isAlpha(c) {
				return false
			}
		}
		if di > 2 || len(seg) > 14 || di > 0 && di < len(seg) && len(seg)-di < 2 && di > 1 {
			return false
		}
		letters += len(seg) - di
		if len(seg)-di > 0 && !pronounceable(seg) {
			return false
		}
	}
	return segs >= 2 && letters*2 >= len(v)
}

// pronounceable: a word-like run of letters (vowels among them, no long consonant cluster).
func pronounceable(seg []byte) bool {
	vowels, run, maxRun, letters := 0, 0, 0, 0
	for _, c := range seg {
		if !isAlpha(c) {
			run = 0
			continue
		}
		letters++
		switch lower(c) {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			vowels++
			run = 0
		default:
			run++
			if run > maxRun {
				maxRun = run
			}
		}
	}
	if letters <= 3 {
		return true
	}
	return vowels*5 >= letters && maxRun <= 4
}

// anthropicBody: Anthropic keys end in "AA".
func anthropicBody(b []byte) bool { return len(b) >= 2 && b[len(b)-1] == 'A' && b[len(b)-2] == 'A' }

// notAKey applies the context checks shared by the generic token detectors to text[i:e]: a vendor
// look-alike, a value public by design, a value assigned to a public or identifier name, or a line of a
// public key block.
func (s *Scanner) notAKey(text []byte, i, e int) bool {
	v := text[i:e]
	if vendorLookalike(v) || publicByDesign(v) {
		return true
	}
	for k := 0; k < len(v)-2; k++ {
		if v[k] == '=' {
			return true // name=value glued together (version=9a03...), not one base64 token: padding ends one
		}
	}
	if k := assignedKeyBefore(text, i); k != nil && namesNoSecret(k) {
		return true
	}
	if len(v) >= 80 && hasPrefixAt(v, 52, "JQQJ9") {
		return true // an Azure key's layout its rule rejected (the wrong length): an edited or truncated example
	}
	// the tail of a vendor token that its rule rejected (pypi-<too short>, SG.<id>..<secret>)
	ws := i
	for ws > 0 && i-ws < 24 && (isAlnum(text[ws-1]) || text[ws-1] == '-' || text[ws-1] == '_' || text[ws-1] == '.') {
		ws--
	}
	if ws < i && vendorLookalike(text[ws:e]) {
		return true
	}
	return inPublicBlock(text, i)
}

// pemB64Body: base64 of a PEM private key ("-----BEGIN " then a label naming a PRIVATE KEY); the base64 of
// a public key or certificate is not a secret.
func pemB64Body(b []byte) bool {
	// the rule prefix LS0tLS1CRUdJTi is 14 characters (10 decoded bytes + 4 bits): decode it again with the
	// body, 4 characters at a time from the start of the token
	var src [14 + 56]byte
	k := copy(src[:], "LS0tLS1CRUdJTi")
	k += copy(src[k:], b)
	k -= k % 4
	var buf [64]byte
	n := b64Decode(buf[:], src[:k])
	if n < 20 {
		return false
	}
	return containsSeq(buf[:n], "PRIVATE")
}

// isValueKeyword: w ends with one of the keywords keywordValue reads a value after.
func isValueKeyword(w []byte) bool {
	for _, k := range valueKeywords {
		if hasSuffixFold(w, k) {
			return true
		}
	}
	return false
}

// isPasswordWord: w ends with a password keyword (a password may be as short as 6 characters).
func isPasswordWord(w []byte) bool {
	return hasSuffixFold(w, "password") || hasSuffixFold(w, "passwd") || hasSuffixFold(w, "pwd") || hasSuffixFold(w, "passphrase")
}

// curlUserBefore: b ends with a curl user switch (--user, --user=, -u), optionally followed by a quote.
func curlUserBefore(b []byte) bool {
	if len(b) > 0 && (b[len(b)-1] == '"' || b[len(b)-1] == '\'') {
		b = b[:len(b)-1]
	}
	return hasSuffixFold(b, "--user ") || hasSuffixFold(b, "--user=") || hasSuffixFold(b, " -u ")
}

// ntlmPrefix is base64 of "NTLMSSP\x00", the signature of an NTLM authentication message.
const ntlmPrefix = "TlRMTVNTUAA"

// azureJQQJ: the 2024 formats of Azure keys, 52 random characters, the signature "JQQJ9", and "AZ" at offset
// 76: a DevOps personal access token (84 letters and digits, "AZDO" + 4) or a storage account key (the same
// body continued to a base64 "==" end).
func azureJQQJ(text []byte, i int) int {
	n := len(text)
	if !hasPrefixAt(text, i+52, "JQQJ9") {
		return 0
	}
	for k := i; k < i+84; k++ {
		if !isAlnum(text[k]) {
			return 0
		}
	}
	e := i + 84
	if e < n && isAlnum(text[e]) {
		for e < n && e-i < 88 && (isAlnum(text[e]) || text[e] == '+' || text[e] == '/') {
			e++
		}
		if !hasPrefixAt(text, e, "==") {
			return 0
		}
		e += 2
	}
	if !endsToken(text, e) || isExamplePlaceholder(text[i:i+52]) {
		return 0
	}
	return e
}

package piimask

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

// TestWasmSecretProviderFormats runs the built filter on credentials of formats added with the provider
// structure checks (Mailchimp, a Facebook app token, NuGet, a Discord webhook URL; random bodies) and on
// look-alikes that must pass untouched (a truncated Slack token, a Stripe publishable key, a JWT header on
// its own). The first group passed unmasked through the previous build.
func TestWasmSecretProviderFormats(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	secrets := []string{
		"895747542690d408428ed48b7fdbda3b-us14",
		"1947892778243285|GV6HJYq-EEyUqj37Xa2fCs_4Gu0",
		"oy2qwmx7ip5nccwvlsmk9hoke198c2vf7aith0tre47xca",
		"https://discord.com/api/webhooks/191422291082980756/_0i4JRWpAPWj91Md5X09hkGBasPMA3LbAloqiXBOucuxghD3w0k-togSgwl2N1MFHK1K",
	}
	lookalikes := []string{"xoxp-1234567890", "pk_live_KeskSE9mQFaMTpeDXheUMeyH", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"}
	text := "mailchimp " + secrets[0] + ", app token " + secrets[1] + "; nuget push x.nupkg " + secrets[2] +
		" and post to " + secrets[3] + " . Docs show token1 " + lookalikes[0] + ", publishable " + lookalikes[1] +
		" and header " + lookalikes[2] + " ."
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + text + `"}]}`
	res := h.Do(jsonReq("/v1/chat/completions", body), hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{}`)})
	if res.Upstream == nil {
		t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
	}
	up := string(res.Upstream.Body)
	for _, v := range secrets {
		if strings.Contains(up, v) {
			t.Errorf("upstream still has the credential %q: %s", v, up)
		}
	}
	if n := strings.Count(up, "[API_KEY]"); n != len(secrets) {
		t.Errorf("want %d [API_KEY] redactions, got %d: %s", len(secrets), n, up)
	}
	for _, v := range lookalikes {
		if !strings.Contains(up, v) {
			t.Errorf("look-alike %q was masked: %s", v, up)
		}
	}
}

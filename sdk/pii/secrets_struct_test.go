package pii

import (
	"fmt"
	"testing"
)

// TestSecretProviderFormats: each provider format is reported when the value has the provider's structure
// (the bodies are random, generated for this test), and its look-alike (wrong structure, a placeholder, a
// public value, a truncated or misspelt prefix) is not. Fails on the build before these rules: the first
// group went unreported, the second was reported.
func TestSecretProviderFormats(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want []string
	}{
		// caught: formats without a rule before
		{"MAILCHIMP_API='895747542690d408428ed48b7fdbda3b-us14'", []string{"API_KEY=895747542690d408428ed48b7fdbda3b-us14"}},
		{"key 895747542690d408428ed48b7fdbda3b-us1", []string{"API_KEY=895747542690d408428ed48b7fdbda3b-us1"}}, // at the end of the text
		{"facebook 1947892778243285|GV6HJYq-EEyUqj37Xa2fCs_4Gu0", []string{"API_KEY=1947892778243285|GV6HJYq-EEyUqj37Xa2fCs_4Gu0"}},
		{"nuget push x.nupkg oy2qwmx7ip5nccwvlsmk9hoke198c2vf7aith0tre47xca -Source nuget.org", []string{"API_KEY=oy2qwmx7ip5nccwvlsmk9hoke198c2vf7aith0tre47xca"}},
		{"HF org 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", []string{"API_KEY=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"}},
		{"DOPPLER_TOKEN dp.st.dev.nPwBcuzDfeWcM6aPXtmCEJyvdsHB8ij3dhx0knttMys", []string{"API_KEY=dp.st.dev.nPwBcuzDfeWcM6aPXtmCEJyvdsHB8ij3dhx0knttMys"}},
		{"grafana eyJrIjoiY3dpZ3hGQ0w0TEJjd0lzaTlaZHVrNTRJVmk1YTVwNjMiLCJuIjoiY2kiLCJpZCI6N30", []string{"API_KEY=eyJrIjoiY3dpZ3hGQ0w0TEJjd0lzaTlaZHVrNTRJVmk1YTVwNjMiLCJuIjoiY2kiLCJpZCI6N30"}},
		{"dt0c01.JF4XEWQNDPP72MZD9DHI8X8Z.TJ8TQFXDBKAG7RFV1KSCHGTZY4YRJJ2TA7B8QRVOPX0K40QJ383MY4MBC46LIGAI", []string{"API_KEY=dt0c01.JF4XEWQNDPP72MZD9DHI8X8Z.TJ8TQFXDBKAG7RFV1KSCHGTZY4YRJJ2TA7B8QRVOPX0K40QJ383MY4MBC46LIGAI"}},
		{"tf45FKHU1dnTV6.atlasv1.PSBb9IbX3Rjt1NjPdUGB7WqoFbMgpuHGaKC5W6vPoMdHSBp6GVagx6j7D0w1iRwUoQs", []string{"API_KEY=tf45FKHU1dnTV6.atlasv1.PSBb9IbX3Rjt1NjPdUGB7WqoFbMgpuHGaKC5W6vPoMdHSBp6GVagx6j7D0w1iRwUoQs"}},
		{"hook https://discord.com/api/webhooks/191422291082980756/_0i4JRWpAPWj91Md5X09hkGBasPMA3LbAloqiXBOucuxghD3w0k-togSgwl2N1MFHK1K", []string{"API_KEY=https://discord.com/api/webhooks/191422291082980756/_0i4JRWpAPWj91Md5X09hkGBasPMA3LbAloqiXBOucuxghD3w0k-togSgwl2N1MFHK1K"}},
		{"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND", []string{"PRIVATE_KEY=LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND"}},
		{"sid SK5CD799E03EE7580E6804DA7E0C8341AE", []string{"TWILIO_KEY=SK5CD799E03EE7580E6804DA7E0C8341AE"}},
		{"license: beehxfl53a36bv9wf00fnvjhjeys5s0m5mg8NRAL", []string{"API_KEY=beehxfl53a36bv9wf00fnvjhjeys5s0m5mg8NRAL"}},
		{"AIzaSyJBmkugpGtCNmn_4nf1r9D9QUpa-lmI5b1", []string{"GCP_API_KEY=AIzaSyJBmkugpGtCNmn_4nf1r9D9QUpa-lmI5b1"}},
		{"sgp_4047b4dd0bbab63455d1d3fd64c0ccadc927c51e", []string{"API_KEY=sgp_4047b4dd0bbab63455d1d3fd64c0ccadc927c51e"}},
		{"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", []string{"SENDGRID_API_KEY=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"}},
		{"Authorization: NTLM TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAAAAABwAAAADgAOAHAAAACfOhFCd8EIXe4hY5BLpxw2", []string{"API_KEY=TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAAAAABwAAAADgAOAHAAAACfOhFCd8EIXe4hY5BLpxw2"}},
		{"key A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB", []string{"API_KEY=A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB"}}, // 1Password's current layout
		// passwords in code and on command lines
		{`curl -X PUT -u "admin:Qm7vT2xq" https://api.internal`, []string{"GENERIC_SECRET=Qm7vT2xq"}},
		{`curl -u ":d2LkV78zLx!t" https://localhost:9200`, []string{"GENERIC_SECRET=d2LkV78zLx!t"}},
		{`if (password !== "PaS5w0rD2#"){`, []string{"GENERIC_SECRET=PaS5w0rD2#"}},
		{`if (password === "") {`, nil},
		{"-Domain 'localhost' -Password 'Sjdn43ss@!'", []string{"GENERIC_SECRET=Sjdn43ss@!"}},
		// look-alikes: the provider's own structure says no
		{"AIzayJBmkugpGtCNmn_4nf1r9D9QUpa-lmI5b1x", nil},                                // Google keys start AIzaSy
		{"SG.4n5sfydE3f_I2fSy6Zu4A3..YhYZCy2Aeec5YZq6l_-5kbh-wEod1A79e1fzJ_tstcw", nil}, // SendGrid: <22>.<43>
		{"sgp_local_d45b6G86aBb0F2Cee943902dbaDBCFCFDD1dA089", nil},                     // Sourcegraph: hex body
		{`"token1": "xoxp-1234567890"`, nil},                                            // Slack: truncated
		{`"token3": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"`, nil},       // Slack: example ids
		{`"token4": "xoxp-572370529330-573807301142-572331691188-####################"`, nil},
		{"pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sx", nil},                                                                              // truncated
		{"client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", nil},                                                                                                     // placeholder body
		{"LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUlJQklqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FROEE=", nil},                                                                           // a public key
		{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", nil}, // JWT header cut short
		{"sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA", nil},                                               // a generated example
		{"CLOJARS_056348c712d9ab678ef014cd459e23ab3f01f0122567de37889abc9ab456", []string{"API_KEY=CLOJARS_056348c712d9ab678ef014cd459e23ab3f01f0122567de37889abc9ab456"}},
		// public by design or naming no secret
		{"pk_live_KeskSE9mQFaMTpeDXheUMeyH", nil}, // Stripe publishable key
		{`public_key = "SlmK6dUbyNnU4CRZvjCOMOXl4i1pLH8YSTYKSeGUBGZ"`, nil},
		{`publicToken = "SlmK6dUbyNnU4CRZvjCOMOXl4i1pLH8YSTYKSeGUBGZ"`, nil},
		{`export AUTH0_CLIENT_ID="kdposwY5M1z1HOsaaV6mW8q6eJUUpigA"`, nil},
		{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", nil}, // a JWT header alone
		{`{"alg":"HS256","typ":"JWT"}.{"name":"Jon"}.kdposwY5M1z1HOsaaV6mW8q6eJUUpigA3zC0suJqeSB`, nil},
		{"q=gAAAAABdHkoqb9ZaJ3q4dlzEvTgG9WYwKcD9Aw7OUXeFicO-5M5IdNDjHBpKw7KBK3nCVqtuga4yzUaFEpJn8BqA1LzZprIJBw==", nil}, // Fernet ciphertext
		{"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBFOrMNcBCAC+gLI4s3bUkobS5NpOQbWfjWXbqC0Ixpc5bZYDOvsmfstmswna\n", nil},
		{"MantleAPI_version=9a038989604e8da62ecddbe2094b16ce1b778be1", nil},
		{`schemaKey = 'DOC_Vector_5_32'`, nil},
		{`fake-softlayer-key= "not_long_enough"`, nil},
		{`passwordLabel:"Password:",rememberMeLabel:"Remember me:"`, nil},
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

// Package benchtext generates the texts piimask's scan benchmarks run on, natively and inside wasm, so that
// both sides measure the same bytes.
package benchtext

import "strings"

const para = "The quarterly review covered revenue, churn and the hiring plan for the next two quarters. " +
	"Engineering shipped the new onboarding flow; support tickets dropped by 12% after the release. " +
	"Please summarise the discussion, list the open questions and suggest three next steps for the team. "

// Sparse is about n bytes of prose with one e-mail address and one phone number per ~2 KB (the common case
// on LLM traffic).
func Sparse(n int) []byte {
	var b strings.Builder
	for b.Len() < n {
		for i := 0; i < 6; i++ {
			b.WriteString(para)
		}
		b.WriteString("Contact jane.doe@example.com or +1 415-555-0132. ")
	}
	return []byte(b.String())
}

// Dense is about n bytes where every sentence holds an e-mail address, a card number, an IP address, a phone
// number and an AWS key id.
func Dense(n int) []byte {
	const s = "mail a.b@example.com card 4111 1111 1111 1111 ip 10.0.0.1 call +44 20 7946 0958 key AKIAIOSFODNN7EXAMPLE. "
	return []byte(strings.Repeat(s, n/len(s)+1))
}

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

// prose is an ordinary model answer: the word "at", bracketed words, a dash between words, numbers in a list
// and at line ends, prices; no value written differently (nothing for the canonical view to find).
const prose = "We met at the office at 9 am and looked at the numbers \u2014 revenue grew 12% in Q3.\n" +
	"The plan [draft] has 3 steps:\n1. Review the data at scale (see section 2)\n2. Replace [NAME] with the owner\n" +
	"3. Ship it at the end of the sprint; the budget is $8000 / 2 = $4000 per team.\n" +
	"Let me know at your convenience \u2013 I am available at any time after 14:30.\n"

// Prose is about n bytes of ordinary prose (a model answer, see prose) with one e-mail address and one phone
// number per ~2 KB: the sparse case with the words and signs that may begin a value written differently.
func Prose(n int) []byte {
	var b strings.Builder
	for b.Len() < n {
		for i := 0; i < 5; i++ {
			b.WriteString(prose)
		}
		b.WriteString("Contact jane.doe@example.com or +1 415-555-0132.\n")
	}
	return []byte(b.String())
}

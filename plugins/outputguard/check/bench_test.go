package check

import (
	"strings"
	"testing"
)

func benignCorpus(b *testing.B) string {
	var sb strings.Builder
	for _, r := range loadOutputDev(b) {
		if r.Kind == "benign-output" {
			sb.WriteString(r.Text)
			sb.WriteString("\n\n")
		}
	}
	return sb.String()
}

func benchChecker(b *testing.B) *Checker {
	return allChecks(b, func(c *Config) { c.Exfil.AllowedDomains = []string{"*.acme.com", "acme.com"} })
}

// BenchmarkScanBenign: all checks (with canaries, a system prompt and phrases) over the dev benign outputs.
func BenchmarkScanBenign(b *testing.B) {
	k := benchChecker(b)
	text := benignCorpus(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.Scan(text)
	}
}

// BenchmarkScanDense: text dense in triggers (links, tags, keys, code spans).
func BenchmarkScanDense(b *testing.B) {
	k := benchChecker(b)
	text := strings.Repeat(strings.Join(streamCorpus, "\n")+"\n", 50)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.Scan(text)
	}
}

// BenchmarkStreamBenign: the benign corpus pushed in 16-byte pieces (token-sized SSE deltas are 4-20 bytes).
func BenchmarkStreamBenign(b *testing.B) {
	k := benchChecker(b)
	text := benignCorpus(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := k.NewStream(func(Finding) bool { return true })
		for p, j := 0, 0; p < len(text); p, j = p+16, j+1 {
			st.Push(j, text[p:min(p+16, len(text))])
		}
		st.Close()
	}
}

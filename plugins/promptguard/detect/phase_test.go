package detect

import (
	"slices"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/llm"
)

// benignText is about n bytes of the wasm request benchmark's benign paragraph (no attack).
func benignText(n int) string {
	const para = "Could you help me plan a three-day trip to Lisbon in May? I like museums, seafood and long walks, " +
		"and I would rather avoid tourist traps. Please include a rough budget in euros and tips for public transport. "
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(para)
	}
	return b.String()[:n]
}

// extractStages mirrors extract, cut after stage k: 1 canonicalise and decode (add), 2 hidden text and
// deciphering, 3 squash phrases, 4 tokens (n-grams, grammar, word phrases), 5 decoded phrases, raw markers,
// adversarial suffix and data imperatives, 6 (all) flags and dense features. TestExtractStagesMirror keeps it
// equal to extract.
func (d *Detector) extractStages(text string, data bool, counts *[NumSignals]uint16, k int) *Features {
	c := &d.c
	c.reset()
	c.add(text, 0)
	if k < 2 {
		return nil
	}
	c.addHidden()
	c.decipher(text)
	if k < 3 {
		return nil
	}
	l := d.lex

	// Phrases in the top-level text. (The squash phrases are ASCII: in text with other scripts only its ASCII
	// runs can hold them. The wide phrases each have a non-ASCII byte: only the bytes around those can.)
	if c.nonASCII {
		d.hits = scanASCIIRuns(l.squash, c.squash[:c.mainSq], minSquashLen, d.hits[:0])
	} else {
		d.hits = l.squash.scan(c.squash[:c.mainSq], d.hits[:0])
	}
	for _, id := range d.hits {
		d.squashHit(counts, id, false)
	}
	if c.nonASCII {
		d.hits = scanNearNonASCII(l.wide, c.squash, l.wideMax, d.hits[:0])
		for _, id := range d.hits {
			bump(counts, l.wideCat[id])
		}
	}
	// The tokens (the top-level text and decoded payloads): hashed n-grams, the
	// override/extraction grammar and the word-bounded phrases.
	// (The canonicaliser indexed the tokens and ran the word-phrase automaton while writing them.)
	if k < 4 {
		return nil
	}
	f := &d.feats
	var g grammar
	minLen := int32(1)
	if data {
		minLen = 2
	}
	f.Hashed = hashTokens(f.Hashed[:0], c.words, c.toks, &g, minLen)
	c.wordPhrases()
	for _, id := range c.wdHits {
		bump(counts, l.wordsCat[id])
	}
	for ov := g.override; ov > 0; ov-- {
		bump(counts, SigInstructionOverride)
	}
	for ex := g.extraction; ex > 0; ex-- {
		bump(counts, SigPromptExtraction)
	}
	if k < 5 {
		return nil
	}
	// Phrases in decoded or smuggled payloads count twice: as themselves and as encoded instructions.
	if c.mainSq < len(c.squash) {
		if c.nonASCII {
			d.hits = scanASCIIRuns(l.squash, c.squash[c.mainSq:], minSquashLen, d.hits[:0])
		} else {
			d.hits = l.squash.scan(c.squash[c.mainSq:], d.hits[:0])
		}
		for _, id := range d.hits {
			d.squashHit(counts, id, true)
		}
	}
	// Role-spoof markers on the raw text (a leading newline so that line-start markers match at offset 0).
	raw := text
	if len(raw) > maxCanonInput {
		raw = raw[:maxCanonInput]
	}
	// (For ASCII text the canonicaliser ran them while folding.)
	rawHits := c.rawHits
	if !c.rawOK {
		d.hits = l.raw.scan(nlPrefix, d.hits[:0])
		d.hits = l.raw.scanFrom(l.raw.stateAfter(nlPrefix), raw, d.hits)
		rawHits = d.hits
	}
	for range rawHits {
		bump(counts, SigRoleSpoof)
	}
	if gib, soup := adversarialSuffix(raw); gib > 0 {
		counts[SigAdversarialSuffix] = uint16(gib)
	} else if soup > 0 {
		counts[SigTokenSoup] = uint16(soup)
	}
	if data {
		if n := dataImperatives(raw); n > 0 {
			counts[SigDataImperative] = uint16(min(n, 1000))
		}
	}
	if k < 6 {
		return nil
	}
	flagSignal(counts, c.flags, FlagInvisible, SigInvisibleChars)
	flagSignal(counts, c.flags, FlagTagChars, SigASCIISmuggling)
	flagSignal(counts, c.flags, FlagHomoglyph, SigHomoglyphs)
	flagSignal(counts, c.flags, FlagLeet, SigLeetspeak)
	flagSignal(counts, c.flags, FlagSpaced, SigSpacedLetters)
	flagSignal(counts, c.flags, FlagCompat, SigCompatChars)
	flagSignal(counts, c.flags, FlagBase64, SigEncodedBase64)
	flagSignal(counts, c.flags, FlagHex, SigEncodedHex)
	flagSignal(counts, c.flags, FlagURL, SigEncodedURL)
	flagSignal(counts, c.flags, FlagHTML, SigEncodedHTML)
	flagSignal(counts, c.flags, FlagCipher, SigCipher)

	for i := range f.Dense {
		f.Dense[i] = signalValue(counts[i])
	}
	return f
}

// TestExtractStagesMirror: extractStages run whole is extract (the phase benchmark measures the real work).
func TestExtractStagesMirror(t *testing.T) {
	d1, d2 := New(Options{}), New(Options{})
	for _, s := range []string{benignText(4 << 10), chatText(4 << 10), attack, repeatTo(paraChinese, 2<<10), hostileBase64()[:8<<10]} {
		for _, data := range []bool{false, true} {
			var c1, c2 [NumSignals]uint16
			f1 := d1.extract(s, data, &c1)
			f2 := d2.extractStages(s, data, &c2, 6)
			if c1 != c2 || f1.Dense != f2.Dense || !slices.Equal(f1.Hashed, f2.Hashed) {
				t.Fatalf("extractStages differs from extract on %.40q (data %v)", s, data)
			}
		}
	}
}

// BenchmarkAnalyzePhases splits Analyze of 4 KiB (the wasm request benchmark's benign text, and chatText with its
// trailing attack) into cumulative stages (extractStages; 7 adds the model, 8 is Analyze itself). Run it in
// wasm (TestWasmCPU) to see where the time goes there.
func BenchmarkAnalyzePhases(b *testing.B) {
	for _, tc := range []struct {
		name string
		text string
	}{{"benign4K", benignText(3976)}, {"chat4K", chatText(4 << 10)}} {
		for k := 1; k <= 8; k++ {
			b.Run(tc.name+"/"+string(rune('0'+k)), func(b *testing.B) {
				d := New(Options{})
				for b.Loop() {
					switch k {
					case 8:
						d.Analyze(tc.text)
					case 7:
						var counts [NumSignals]uint16
						d.model.Prob(d.extractStages(tc.text, false, &counts, 6))
					default:
						var counts [NumSignals]uint16
						d.extractStages(tc.text, false, &counts, k)
					}
				}
			})
		}
	}
}

func benchBody() []byte {
	s := benignText(3976)
	return []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful travel agent."},{"role":"user","content":"` + s + `"}]}`)
}

// BenchmarkRequestParts: the promptguard work on the wasm request benchmark's body (system prompt + 4 KiB user
// turn) but the host exchange: parsing it (sdk/llm), scanning it (ScanRequest, every role), and its two
// segments analysed alone.
func BenchmarkRequestParts(b *testing.B) {
	body := benchBody()
	pol := &Policy{Scan: []llm.Provenance{llm.ProvUser, llm.ProvToolResult, llm.ProvDocument, llm.ProvSystem, llm.ProvAssistant},
		Threshold: DefaultThreshold, DataThreshold: DefaultDataThreshold, MaxScanBytes: 1 << 20, MaxSegments: 10000, PayloadSplit: true}
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := llm.ParseRequestWith(llm.FormatOpenAIChat, body, llm.Options{Path: "/v1/chat/completions"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	req, _ := llm.ParseRequestWith(llm.FormatOpenAIChat, body, llm.Options{Path: "/v1/chat/completions"})
	d := New(Options{})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			d.ScanRequest(req, pol)
		}
	})
	b.Run("system", func(b *testing.B) {
		for b.Loop() {
			d.Analyze("You are a helpful travel agent.")
		}
	})
	b.Run("user", func(b *testing.B) {
		s := req.Segments[len(req.Segments)-1].Text
		for b.Loop() {
			d.Analyze(s)
		}
	})
}

// BenchmarkFoldASCII: foldASCII and the previous round's foldASCIIRef on the same text, in one binary.
func BenchmarkFoldASCII(b *testing.B) {
	s := benignText(3976)
	for _, name := range []string{"ref", "new", "ref2", "new2"} {
		b.Run(name, func(b *testing.B) {
			d := New(Options{})
			var st textStats
			for b.Loop() {
				d.c.reset()
				if name[0] == 'r' {
					d.c.foldASCIIRef(s, &st, true)
				} else {
					d.c.foldASCII(s, &st, true)
				}
			}
		})
	}
}

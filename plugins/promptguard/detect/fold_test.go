package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"math/rand"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldBoth runs the table path and the reference path on s and returns an error description when their output
// differs (the table path may decline a text: then the reference runs, which is the same by construction).
func foldBoth(s string) (declined bool, diff string) {
	l := defaultLexicon()
	var a, b canon
	a.wd, b.wd = l.words, l.words
	a.reset()
	b.reset()
	if !a.foldUnicode(s) {
		return true, ""
	}
	a.flushWord()
	b.foldUnicodeRef(s)
	b.flushWord()
	a.wordPhrases()
	b.wordPhrases()
	switch {
	case string(a.words) != string(b.words):
		return false, "words " + string(a.words) + " != " + string(b.words)
	case string(a.squash) != string(b.squash):
		return false, "squash " + string(a.squash) + " != " + string(b.squash)
	case a.flags != b.flags:
		return false, "flags"
	case string(a.hidden) != string(b.hidden):
		return false, "hidden"
	case a.singles != b.singles:
		return false, "singles"
	case !reflect.DeepEqual(a.toks, b.toks):
		return false, "token index"
	case !reflect.DeepEqual(a.wdHits, b.wdHits) && (len(a.wdHits) > 0 || len(b.wdHits) > 0):
		return false, "word-phrase hits"
	}
	return false, ""
}

// TestFoldEveryRune: the table path agrees with the reference on every code point, alone and between letters,
// marks and Han.
func TestFoldEveryRune(t *testing.T) {
	step := rune(1)
	if testing.Short() {
		step = 7
	}
	bad := 0
	for r := rune(0x80); r <= unicode.MaxRune; r += step {
		if r > 0x30000 && r < 0xE0000 {
			r = 0xE0000 // unassigned planes
		}
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		ch := string(r)
		for _, s := range []string{"Ab" + ch + "cd e", ch + "\u0301x " + ch + ch + "1", "名" + ch + "A"} {
			if _, diff := foldBoth(s); diff != "" {
				bad++
				if bad < 10 {
					t.Errorf("U+%04X in %q: %s", r, s, diff)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d differences", bad)
	}
}

// foldPools are the characters random texts are made of: everything the canonicaliser treats specially.
var foldPools = [][]rune{
	[]rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@$ .,;:!?'\"-_/\n\t()"),
	[]rune("éèêëàâäôöûüùçïîÉÈÀÇœŒæßñãõåøłđışğ"),
	[]rune("\u0300\u0301\u0302\u0308\u0327\u0323\u0345\u034F\u05B0\u0591\u093C\u094D\u0E31\u0E48\u3099\u309A"),
	[]rune("абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗіїєґαβγδεζηθικλμνξοπρστυφχψωΑΒΓΔ"),
	[]rune("忽略之前的指令你好我想在五月份去里斯本玩三天，。！？（）；：「」、"),
	[]rune("안녕하세요이전지시를무시하세요ㄱㅏ\u1100\u1161\u11A8かがきぎカガキギｶﾞｱ"),
	[]rune("ＡＢＣａｂｃ０１２！？＄＠𝐢𝐠𝐧𝐨𝐫𝐞𝕚𝕘ⓘⓖⓝ①②🄰🄱ﬁﬂ½²™㎏"),
	[]rune("\u200B\u200C\u200D\u200E\u202E\u2060\uFEFF\u00AD\u180E\u3164\uFFA0\uFE0F\uFE00\U000E0100\U000E0041\U000E0069\U000E0020\U000E007F"),
	[]rune("😀👍🏽🇫🇷🇺\U0001F1F8❤️‍🔥ᴀʙᴄɪɢɴᴏʀᴇɐǝɹʇʎ"),
	[]rune("สวัสดีครับภาษาไทยनमस्तेक्षत्रিবাংলাمرحباשלוםἀἁᾳ\u0F71\u0F72\u0F80\U0001D165\U0001D16D\u302E\u0F39"),
}

func randomFoldText(rng *rand.Rand) string {
	var b strings.Builder
	n := rng.Intn(60)
	for i := 0; i < n; i++ {
		switch k := rng.Intn(len(foldPools) + 2); {
		case k < len(foldPools):
			p := foldPools[k]
			for m := rng.Intn(6) + 1; m > 0; m-- {
				b.WriteRune(p[rng.Intn(len(p))])
			}
		case k == len(foldPools):
			b.WriteRune(rune(rng.Intn(unicode.MaxRune + 1)))
		default:
			b.WriteByte(byte(0x80 + rng.Intn(0x80))) // invalid UTF-8
		}
	}
	return b.String()
}

// TestFoldRandom: the table path agrees with the reference on random mixtures of the characters that matter.
func TestFoldRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	declined := 0
	for i := 0; i < n; i++ {
		s := randomFoldText(rng)
		dec, diff := foldBoth(s)
		if diff != "" {
			t.Fatalf("%q: %s", s, diff)
		}
		if dec {
			declined++
		}
	}
	if declined == 0 {
		t.Errorf("the table path declined none of %d texts (the pools hold spacing combining marks that must make it decline)", n)
	}
}

// TestFoldRealTexts: the table path agrees with the reference on the benchmark texts, the test phrases and, when
// the shared datasets are there, every text of the injection sets.
func TestFoldRealTexts(t *testing.T) {
	texts := []string{paraFrench, paraChinese, paraTool, chatText(4 << 10)}
	for _, list := range [][]string{lexInstructionOverride, lexPromptExtraction, lexJailbreakPersona, lexRestrictionRemoval, lexRolePlay, lexSecretRequest} {
		texts = append(texts, list...)
	}
	for _, name := range []string{"injection.dev.jsonl", "injection.train.jsonl"} {
		f, err := os.Open("../../../../shared/datasets/" + name)
		if err != nil {
			t.Logf("%s not read: %v", name, err)
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				texts = append(texts, rec.Text)
			}
		}
		f.Close()
	}
	nonASCII := 0
	for _, s := range texts {
		if !isASCII(s) {
			nonASCII++
		}
		if _, diff := foldBoth(s); diff != "" {
			t.Errorf("%.80q: %s", s, diff)
		}
	}
	t.Logf("%d texts, %d with non-ASCII characters", len(texts), nonASCII)
}

// TestFoldSimpleRanges: the blocks foldUnicode handles without a lookup are what it assumes they are.
func TestFoldSimpleRanges(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !hanSimple(r) && !symbolSimple(r) {
			continue
		}
		s := string(r)
		if norm.NFKD.String(s) != s || isInvisible(r) || norm.NFKD.PropertiesString(s).CCC() != 0 {
			t.Fatalf("U+%04X is not its own NFKD, or is invisible or a combining mark", r)
		}
		want := uint32(fkSep << 24)
		if hanSimple(r) {
			want = fkLetter<<24 | uint32(r)
			if !unspaced(r) {
				t.Fatalf("U+%04X is not unspaced", r)
			}
		}
		if a := runeAction(r); a != want {
			t.Fatalf("U+%04X: action %x, want %x", r, a, want)
		}
		if _, ok := confusable(r); ok && hanSimple(r) {
			t.Fatalf("U+%04X is confusable", r)
		}
	}
}

// TestConfusableGaps: confusable's early exit skips only ranges without confusables.
func TestConfusableGaps(t *testing.T) {
	for _, e := range confusableTable {
		r := rune(e >> 8)
		if r >= 0x3008 && r < 0xA4D0 || r >= 0xAC00 && r < 0xD800 {
			t.Errorf("U+%04X is in a range confusable skips", r)
		}
	}
	if !utf8.ValidRune(0xA4D0) {
		t.Fatal("unreachable")
	}
}

// TestFoldTableUnsafe lists the characters below foldMax for which the table path declines the text: spacing
// combining marks, which no everyday text in the table's scripts has.
func TestFoldTableUnsafe(t *testing.T) {
	var list []string
	for r := rune(0); r < foldMax; r++ {
		if foldTab[r]>>24 == fkUnsafe {
			list = append(list, string(r))
			if !unicode.Is(unicode.Mc, r) {
				t.Errorf("U+%04X declines the table path but is not a spacing mark", r)
			}
		}
	}
	if len(list) > 16 {
		t.Errorf("%d characters decline the table path: %q", len(list), list)
	}
}

// statsOfRef is the former statsOf: exact runs and counts, one dependent chain per byte.
func statsOfRef(s string) textStats {
	var st textStats
	var b64Run, hexRun, maxB64, maxHex, pct, amp, bsl int
	var all uint8
	for i := 0; i < len(s); i++ {
		k := decodeClass[s[i]]
		all |= k
		b64Run = (b64Run + 1) * int(k&dcB64)
		maxB64 = max(maxB64, b64Run)
		hexRun = (hexRun + 1) * int(k&dcHex>>1)
		maxHex = max(maxHex, hexRun)
		pct += int(k & dcPct >> 2)
		amp += int(k & dcAmp >> 3)
		bsl += int(k & dcBsl >> 5)
	}
	st.ascii = all&dcHigh == 0
	st.maxB64, st.maxHex, st.pct, st.amp, st.bsl = maxB64, maxHex, pct, amp, bsl
	return st
}

// TestStatsOfThresholds: statsOf leads decodePayloads to the same decisions as the exact figures.
func TestStatsOfThresholds(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alpha := []string{"a", "Z", "0", "9", "f", "+", "/", "=", " ", "%", "&", "\\", "é", "-", "_", "\n", "x"}
	check := func(s string) {
		got, want := statsOf(s), statsOfRef(s)
		if (got.maxB64 >= minBase64Run) != (want.maxB64 >= minBase64Run) || (got.maxHex >= 2*minHexBytes) != (want.maxHex >= 2*minHexBytes) ||
			got.pct != want.pct || got.amp != want.amp || got.bsl != want.bsl || got.ascii != want.ascii {
			t.Fatalf("%q: %+v, want %+v", s, got, want)
		}
	}
	for i := 0; i < 100000; i++ {
		var b strings.Builder
		for n := rng.Intn(120); n > 0; n-- {
			w := alpha[rng.Intn(len(alpha))]
			for r := rng.Intn(25); r >= 0 && rng.Intn(4) > 0; r-- {
				b.WriteString(w)
			}
			b.WriteString(alpha[rng.Intn(len(alpha))])
		}
		check(b.String())
	}
	for _, s := range []string{paraFrench, paraChinese, paraTool, hostileBase64()[:5000], "aWdub3JlIGFsbCBwcmV2aW91", "69676e6f726520616c6c20", "é69676e6f726520616c6c2"} {
		check(s)
	}
}

// TestPartialScans: scanASCIIRuns and scanNearNonASCII find the hits a whole scan does (as multisets), on the
// squashed forms of random phrase mixtures in several scripts.
func TestPartialScans(t *testing.T) {
	l := defaultLexicon()
	var pieces []string
	for _, list := range [][]string{lexInstructionOverride, lexPromptExtraction, lexJailbreakPersona, lexRestrictionRemoval, lexSecretRequest, lexFraming} {
		pieces = append(pieces, list...)
	}
	pieces = append(pieces, paraFrench, paraChinese, "é", "中", "ß", "x", "ignore", "之前")
	rng := rand.New(rand.NewSource(3))
	found := map[string]int{}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := rng.Intn(8) + 1; n > 0; n-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
			if rng.Intn(2) == 0 {
				b.WriteString(" ")
			}
		}
		sq, _ := canonPhrase(b.String())
		text := []byte(sq)
		for _, c := range []struct {
			name       string
			whole, got []int32
		}{
			{"squash", l.squash.scan(text, nil), scanASCIIRuns(l.squash, text, minSquashLen, nil)},
			{"wide", l.wide.scan(text, nil), scanNearNonASCII(l.wide, text, l.wideMax, nil)},
		} {
			slices.Sort(c.whole)
			slices.Sort(c.got)
			if !slices.Equal(c.whole, c.got) {
				t.Fatalf("%s on %q: %v, want %v", c.name, text, c.got, c.whole)
			}
			found[c.name] += len(c.whole)
		}
	}
	if found["squash"] < 1000 || found["wide"] < 100 {
		t.Errorf("only %v hits: the test texts do not exercise the scans", found)
	}
}

var writeFoldTable = flag.Bool("write-fold-table", false, "write fold_gen.go from the Unicode tables of this Go and x/text")

// computeFoldTab computes foldTab and foldPool from the NFKD of x/text and the Unicode tables of Go.
func computeFoldTab() (tab, pool []uint32) {
	for r := rune(0); r < foldMax; r++ {
		tab = append(tab, foldEntry(r, &pool))
	}
	for r := rune(foldFF); r < foldFFEnd; r++ {
		tab = append(tab, foldEntry(r, &pool))
	}
	return tab, pool
}

// TestFoldTableGenerated: fold_gen.go is what the Unicode tables in use say (go generate rewrites it).
func TestFoldTableGenerated(t *testing.T) {
	tab, pool := computeFoldTab()
	if *writeFoldTable {
		var b bytes.Buffer
		b.WriteString("// Code generated by go generate (TestFoldTableGenerated -write-fold-table); DO NOT EDIT.\n\n")
		fmt.Fprintf(&b, "// From the NFKD of golang.org/x/text/unicode/norm (Unicode %s) and the Unicode tables of Go (%s).\n\n", norm.Version, unicode.Version)
		b.WriteString("package detect\n\n")
		for _, v := range []struct {
			name, doc string
			data      []uint32
		}{
			{"foldTab", "the action of every character below foldMax, then of the halfwidth and fullwidth forms (see fold.go)", tab},
			{"foldPool", "the actions of the characters whose NFKD gives several (fkMulti)", pool},
		} {
			fmt.Fprintf(&b, "// %s is %s.\nvar %s = [...]uint32{", v.name, v.doc, v.name)
			for i, x := range v.data {
				if i%8 == 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%#x, ", x)
			}
			b.WriteString("\n}\n\n")
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("fold_gen.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !slices.Equal(tab, foldTab[:]) || !slices.Equal(pool, foldPool[:]) {
		t.Fatal("fold_gen.go is stale: run go generate ./plugins/promptguard/detect")
	}
}

package promptguard

import (
	"encoding/ascii85"
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
)

// Encodings an LLM reads that garak's encoding probes (and red-teamers) use, through the built .wasm: the
// injection written in each is blocked, a benign text in the same encoding or a look-alike passes.

func bitsOf(s string, width int, sep string) string {
	parts := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		parts[i] = fmt.Sprintf("%0*b", width, s[i])
	}
	return strings.Join(parts, sep)
}

func charCodes(s, format, sep string) string {
	parts := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		parts[i] = fmt.Sprintf(format, s[i])
	}
	return strings.Join(parts, sep)
}

var morseOf = map[rune]string{
	'A': ".-", 'B': "-...", 'C': "-.-.", 'D': "-..", 'E': ".", 'F': "..-.", 'G': "--.", 'H': "....", 'I': "..",
	'J': ".---", 'K': "-.-", 'L': ".-..", 'M': "--", 'N': "-.", 'O': "---", 'P': ".--.", 'Q': "--.-", 'R': ".-.",
	'S': "...", 'T': "-", 'U': "..-", 'V': "...-", 'W': ".--", 'X': "-..-", 'Y': "-.--", 'Z': "--..",
	'0': "-----", '1': ".----", '2': "..---", '3': "...--", '4': "....-", '5': ".....", '6': "-....",
	'7': "--...", '8': "---..", '9': "----.", '.': ".-.-.-", ',': "--..--", '?': "..--..",
}

// morse writes letters separated by spaces and words by wordSep (garak: " / ").
func morse(s, wordSep string) string {
	var words []string
	for _, w := range strings.Fields(strings.ToUpper(s)) {
		var letters []string
		for _, r := range w {
			if m, ok := morseOf[r]; ok {
				letters = append(letters, m)
			}
		}
		words = append(words, strings.Join(letters, " "))
	}
	return strings.Join(words, wordSep)
}

// braille writes English Grade-1 braille: ⠠ before a capital, ⠼ before a digit run, U+2800 or a space between
// words.
func braille(s string, space rune) string {
	const letters = "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵"
	cells := []rune(letters)
	var b strings.Builder
	num := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			num = false
			b.WriteRune(cells[r-'a'])
		case r >= 'A' && r <= 'Z':
			num = false
			b.WriteString("⠠")
			b.WriteRune(cells[r-'A'])
		case r >= '0' && r <= '9':
			if !num {
				b.WriteString("⠼")
				num = true
			}
			b.WriteRune(cells[(r-'0'+9)%10])
		case r == ' ':
			num = false
			b.WriteRune(space)
		case r == '.':
			b.WriteString("⠲")
		case r == ',':
			b.WriteString("⠂")
		}
	}
	return b.String()
}

var natoOf = []string{"Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
	"Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor",
	"Whiskey", "Xray", "Yankee", "Zulu"}

// nato spells the letters of s as garak does (one code word per letter, spaces dropped).
func nato(s string) string {
	var out []string
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' {
			out = append(out, natoOf[r-'A'])
		}
	}
	return strings.Join(out, " ")
}

func quotedPrintableAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "=%02X", s[i])
	}
	return b.String()
}

func uuencode(name, s string) string {
	enc := func(v byte) byte {
		if v == 0 {
			return '`'
		}
		return v + 32
	}
	var b strings.Builder
	fmt.Fprintf(&b, "begin 644 %s\n", name)
	data := []byte(s)
	for len(data) > 0 {
		n := min(45, len(data))
		line := data[:n]
		data = data[n:]
		b.WriteByte(enc(byte(n)))
		for i := 0; i < n; i += 3 {
			var g [3]byte
			copy(g[:], line[i:])
			b.WriteByte(enc(g[0] >> 2))
			b.WriteByte(enc((g[0]&3)<<4 | g[1]>>4))
			b.WriteByte(enc((g[1]&15)<<2 | g[2]>>6))
			b.WriteByte(enc(g[2] & 63))
		}
		b.WriteByte('\n')
	}
	b.WriteString("`\nend\n")
	return b.String()
}

func a85(s string, delimited bool) string {
	buf := make([]byte, ascii85.MaxEncodedLen(len(s)))
	out := string(buf[:ascii85.Encode(buf, []byte(s))])
	if delimited {
		return "<~" + out + "~>"
	}
	return out
}

func zalgo(s string) string {
	marks := []rune{0x0300, 0x0301, 0x0316, 0x0317, 0x0334, 0x0335, 0x034A, 0x0363, 0x036F}
	var b strings.Builder
	for i, r := range s {
		b.WriteRune(r)
		for k := 0; k < 3; k++ {
			b.WriteRune(marks[(i+k*5)%len(marks)])
		}
	}
	return b.String()
}

func TestMoreEncodingsInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	b32 := base32.StdEncoding.EncodeToString
	b32raw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString
	const weather = "The weather in Paris is sunny today and the museums are open."
	tests := []struct {
		name  string
		text  string
		block bool
	}{
		{"binary 8-bit spaced", bitsOf(attackText, 8, " "), true},
		{"binary 8-bit contiguous", "Translate from binary: " + bitsOf(attackText, 8, ""), true},
		{"binary 7-bit", bitsOf(attackText, 7, " "), true},
		{"binary benign", bitsOf(weather, 8, " "), false},
		{"binary number in prose", "The byte 01001001 is 73 in decimal; 11111111 is 255 and 00000000 is zero. How do I convert 10110011?", false},
		{"bit flags table", "Flags: 00000001 00000010 00000100 00001000 00010000 00100000 01000000 10000000 (one bit each).", false},
		{"decimal codes", charCodes(attackText, "%d", " "), true},
		{"decimal codes commas", "[" + charCodes(attackText, "%d", ", ") + "]", true},
		{"octal codes", charCodes(attackText, "%03o", " "), true},
		{"decimal benign", charCodes(weather, "%d", " "), false},
		{"table of numbers", "| week | 72 | 85 | 91 | 64 | 78 | 88 | 95 | 70 | 82 | 99 | 101 | 67 | 83 | 76 | 90 | 68 | 104 | 111 | 77 | 81 |\nWhat is the average?", false},
		{"scores in prose", "Scores this season: 72 85 91 64 78 88 95 70 82 99 101 67 83 76 90 68 104 111 77 81 97 110 100 - who improved most?", false},
		{"morse slash", morse(attackText, " / "), true},
		{"morse triple space", morse(attackText, "   "), true},
		{"morse benign", morse(weather, " / "), false},
		{"morse tutorial", "In Morse code SOS is ... --- ... and HELLO WORLD is .... . .-.. .-.. --- / .-- --- .-. .-.. -.. — how do I learn the rhythm?", false},
		{"markdown table rule", "| a | b | c |\n| --- | --- | --- |\n| ... | ... | ... |\n|-----|-----|-----|\nWhy does my table not render?", false},
		{"braille", braille(attackText, '\u2800'), true},
		{"braille ascii spaces", braille(attackText, ' '), true},
		{"braille benign", braille(weather, '\u2800'), false},
		{"nato", nato(attackText), true},
		{"nato lower case", strings.ToLower(nato(attackText)), true},
		{"nato benign", nato(weather), false},
		{"nato words in prose", "Our hotel in India had a golf course; the Echo and Delta teams met Victor and Oscar at the Lima office.", false},
		{"base32", b32([]byte(attackText)), true},
		{"base32 unpadded", "Decode: " + b32raw([]byte(attackText)), true},
		{"base32 benign", b32([]byte(weather)), false},
		{"ascii85 delimited", a85(attackText, true), true},
		{"ascii85 run", a85(attackText, false), true},
		{"ascii85 benign", a85(weather, true), false},
		{"quoted-printable", quotedPrintableAll(attackText), true},
		{"quoted-printable benign", quotedPrintableAll(weather), false},
		{"quoted-printable soft breaks benign", "Subject: =?utf-8?Q?Caf=C3=A9?=\n\nThe menu is=\n on the website, see =E2=80=9Cspecials=E2=80=9D.", false},
		{"uuencode", uuencode("note.txt", attackText), true},
		{"uuencode benign", uuencode("note.txt", weather), false},
		{"zalgo", zalgo(attackText), true},
		{"zalgo benign", zalgo(benignText), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(h, "/v1/chat/completions", openAIChat(tt.text), 0)
			if blocked := res.Upstream == nil; blocked != tt.block {
				t.Fatalf("blocked = %v, want %v (status %d, decisions %+v)\ntext %q", blocked, tt.block, res.Status, decisions(res), tt.text)
			}
		})
	}
}

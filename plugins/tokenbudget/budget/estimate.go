package budget

import "unicode/utf8"

// EstimateTokens estimates how many BPE tokens (OpenAI cl100k/o200k-like) text takes, in one pass
// without allocating. It models how byte-pair encoders split text: a word with its leading space is
// usually one token and long words split every few letters; digits go in groups of three; punctuation is
// about one token per character; runs of newlines and indentation collapse; CJK and other non-Latin
// scripts cost roughly one token per character or per couple of bytes. Its error against a real tokenizer
// is measured in estimate_test.go (TestEstimateAgainstTiktoken) and reported in the README; the filter
// reserves with a safety margin on top (config estimate_margin_percent).
func EstimateTokens(text string) int64 {
	var n int64
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case isLetter(c):
			j := i + 1
			for j < len(text) && isLetter(text[j]) {
				j++
			}
			n += wordTokens(j - i)
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			n += int64((j - i + 2) / 3)
			i = j
		case c == ' ':
			// A single space joins the next word; longer runs (indentation) cost about one token per 4.
			j := i + 1
			for j < len(text) && text[j] == ' ' {
				j++
			}
			if run := j - i; run > 1 {
				n += int64((run + 2) / 4)
			}
			i = j
		case c == '\n' || c == '\r' || c == '\t':
			j := i + 1
			for j < len(text) && (text[j] == '\n' || text[j] == '\r' || text[j] == '\t') {
				j++
			}
			n++
			i = j
		case c < 0x80:
			// Punctuation and symbols: runs of the same character merge ("----", "..."), and pairs such as
			// ". " or "\"," are often one token.
			j := i + 1
			for j < len(text) && text[j] == c {
				j++
			}
			if run := j - i; run > 1 {
				n += int64((run + 3) / 4)
			} else {
				n++
			}
			i = j
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			switch {
			case r >= 0x2E80 && r <= 0x9FFF, r >= 0xAC00 && r <= 0xD7AF, r >= 0xF900 && r <= 0xFAFF:
				// CJK ideographs, kana, hangul: about one token per character.
				n++
				i += size
			case r >= 0x1F000:
				// Emoji and other astral symbols: two or three tokens each.
				n += 2
				i += size
			default:
				// Other scripts (accented Latin, Cyrillic, Greek, Arabic, Devanagari...): a run of such
				// letters, plus ASCII letters mixed in, costs about one token per 2.5 bytes.
				j := i
				for j < len(text) {
					if text[j] >= 0x80 {
						rr, sz := utf8.DecodeRuneInString(text[j:])
						if (rr >= 0x2E80 && rr <= 0x9FFF) || rr >= 0x1F000 || (rr >= 0xAC00 && rr <= 0xD7AF) || (rr >= 0x2000 && rr <= 0x2BFF) {
							break
						}
						j += sz
						continue
					}
					if isLetter(text[j]) {
						j++
						continue
					}
					break
				}
				if j == i {
					// General punctuation and symbols (U+2000–U+2BFF): about one token each.
					n++
					i += size
					continue
				}
				n += int64((j-i)*2+4) / 5
				i = j
			}
		}
	}
	return n
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// wordTokens is the cost of a run of n ASCII letters: common words up to 7 letters are a single token;
// longer ones split about every 4–5 letters.
func wordTokens(n int) int64 {
	if n <= 7 {
		return 1
	}
	return int64(1 + (n-7+4)/5)
}

// MessageOverhead is the number of tokens providers add per chat message (role markers, separators), and
// ReplyPriming the tokens added once per request to prime the reply (OpenAI's published counting rule).
const (
	MessageOverhead = 4
	ReplyPriming    = 3
)

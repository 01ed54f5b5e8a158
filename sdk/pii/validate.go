package pii

import (
	"crypto/sha256"
	"math"
)

// Validators work on the bytes of one candidate and never allocate (except sha256 for base58check).

// Luhn reports whether the decimal digits in d (ASCII '0'..'9' only) pass the Luhn checksum.
func Luhn(d []byte) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if x > 9 {
			return false
		}
		if dbl {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		dbl = !dbl
	}
	return sum%10 == 0
}

// ibanLengths maps a two-letter country code (packed as c0<<8|c1) to its IBAN length (SWIFT IBAN registry).
var ibanLengths = map[uint16]uint8{}

func init() {
	// Pure data initialiser (no host calls).
	const reg = "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24" +
		"FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21" +
		"LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33" +
		"SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30"
	for i := 0; i+4 <= len(reg); i += 4 {
		ibanLengths[uint16(reg[i])<<8|uint16(reg[i+1])] = (reg[i+2]-'0')*10 + reg[i+3] - '0'
	}
}

// IBANLength returns the IBAN length of country cc (two upper-case letters), or 0 when unknown.
func IBANLength(c0, c1 byte) int { return int(ibanLengths[uint16(c0)<<8|uint16(c1)]) }

// IBANValid reports whether s (upper-case letters and digits only, no spaces) is a valid IBAN: known country,
// registry length, and ISO 7064 mod-97 == 1.
func IBANValid(s []byte) bool {
	if len(s) < 15 || len(s) > 34 || !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	if IBANLength(s[0], s[1]) != len(s) {
		return false
	}
	rem := 0
	for k := 0; k < len(s); k++ {
		c := s[(k+4)%len(s)]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// SSNValid reports whether area-group-serial form a possible US SSN: area not 000, 666 or 900-999, group not
// 00, serial not 0000, and not a well-known advertising or sample number.
func SSNValid(area, group, serial int) bool {
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	// Woolworth wallet card and the classic sample.
	if (area == 78 && group == 5 && serial == 1120) || (area == 219 && group == 9 && serial == 9999) ||
		(area == 123 && group == 45 && serial == 6789) {
		return false
	}
	return true
}

var verhoeffD = [10][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
	{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
	{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
	{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}
var verhoeffP = [8][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
	{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
	{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
}

// Verhoeff reports whether the decimal digits d pass the Verhoeff checksum (used by Aadhaar).
func Verhoeff(d []byte) bool {
	c := byte(0)
	for i := 0; i < len(d); i++ {
		x := d[len(d)-1-i] - '0'
		if x > 9 {
			return false
		}
		c = verhoeffD[c][verhoeffP[i%8][x]]
	}
	return c == 0
}

// AadhaarValid: 12 digits, first digit 2-9, Verhoeff check digit.
func AadhaarValid(d []byte) bool {
	return len(d) == 12 && d[0] >= '2' && d[0] <= '9' && Verhoeff(d)
}

// PESELValid: 11 digits, valid month code (century offsets) and weighted checksum.
func PESELValid(d []byte) bool {
	if len(d) != 11 {
		return false
	}
	w := [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i := 0; i < 10; i++ {
		sum += int(d[i]-'0') * w[i]
	}
	if (10-sum%10)%10 != int(d[10]-'0') {
		return false
	}
	month := int(d[2]-'0')*10 + int(d[3]-'0')
	day := int(d[4]-'0')*10 + int(d[5]-'0')
	return month%20 >= 1 && month%20 <= 12 && day >= 1 && day <= 31
}

const nifLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// NIFValid: Spanish DNI/NIF (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter), upper-case, no separators.
func NIFValid(s []byte) bool {
	if len(s) != 9 {
		return false
	}
	n := 0
	for i := 0; i < 8; i++ {
		c := s[i]
		switch {
		case isDigit(c):
			n = n*10 + int(c-'0')
		case i == 0 && (c == 'X' || c == 'Y' || c == 'Z'):
			n = int(c - 'X')
		default:
			return false
		}
	}
	return s[8] == nifLetters[n%23]
}

// NINOValid: UK National Insurance number, 2 prefix letters + 6 digits + suffix A-D (no spaces).
func NINOValid(s []byte) bool {
	if len(s) != 9 {
		return false
	}
	a, b := s[0], s[1]
	if !isUpper(a) || !isUpper(b) {
		return false
	}
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false
	}
	switch string(s[:2]) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	for _, c := range s[2:8] {
		if !isDigit(c) {
			return false
		}
	}
	return s[8] >= 'A' && s[8] <= 'D'
}

var cfOdd = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// FiscalCodeValid: Italian codice fiscale (16 upper-case characters, omocodia allowed) with its check letter.
func FiscalCodeValid(s []byte) bool {
	if len(s) != 16 {
		return false
	}
	// Positions that must be letters; the others are digits or omocodia letters LMNPQRSTUV.
	for i, c := range s {
		switch i {
		case 0, 1, 2, 3, 4, 5, 8, 11, 15:
			if !isUpper(c) {
				return false
			}
		default:
			if !isDigit(c) && !(isUpper(c) && isOmocodia(c)) {
				return false
			}
		}
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		v := 0
		if isDigit(c) {
			v = int(c - '0')
		} else {
			v = int(c-'A') + 10
		}
		if i%2 == 0 { // odd position (1-based)
			sum += cfOdd[v]
		} else if isDigit(c) {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	return s[15] == byte('A'+sum%26)
}

func isOmocodia(c byte) bool {
	switch c {
	case 'L', 'M', 'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'V':
		return true
	}
	return false
}

const hetuChecks = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// HETUValid: Finnish personal identity code ddmmyyCnnnX (C = century sign).
func HETUValid(s []byte) bool {
	if len(s) != 11 {
		return false
	}
	n := 0
	for i, c := range s[:10] {
		if i == 6 {
			switch c {
			case '-', '+', 'A', 'B', 'C', 'D', 'E', 'F', 'U', 'V', 'W', 'X', 'Y':
			default:
				return false
			}
			continue
		}
		if !isDigit(c) {
			return false
		}
		n = n*10 + int(c-'0')
	}
	day := int(s[0]-'0')*10 + int(s[1]-'0')
	month := int(s[2]-'0')*10 + int(s[3]-'0')
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return false
	}
	return s[10] == hetuChecks[n%31]
}

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var b58Index [256]int8

func init() {
	for i := range b58Index {
		b58Index[i] = -1
	}
	for i := 0; i < len(b58Alphabet); i++ {
		b58Index[b58Alphabet[i]] = int8(i)
	}
}

// Base58CheckValid reports whether s decodes as base58 to 25 bytes whose last 4 are the double-SHA256 checksum
// of the first 21 (a Bitcoin P2PKH/P2SH address).
func Base58CheckValid(s []byte) bool {
	if len(s) < 25 || len(s) > 35 {
		return false
	}
	var out [25]byte
	for _, c := range s {
		v := int(b58Index[c])
		if v < 0 {
			return false
		}
		carry := v
		for j := 24; j >= 0; j-- {
			carry += int(out[j]) * 58
			out[j] = byte(carry)
			carry >>= 8
		}
		if carry != 0 {
			return false
		}
	}
	h1 := sha256.Sum256(out[:21])
	h2 := sha256.Sum256(h1[:])
	return h2[0] == out[21] && h2[1] == out[22] && h2[2] == out[23] && h2[3] == out[24]
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// Bech32Valid reports whether s (lower-case "hrp1data") has a valid bech32 or bech32m checksum.
func Bech32Valid(s []byte) bool {
	sep := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '1' {
			sep = i
			break
		}
	}
	if sep < 1 || len(s)-sep-1 < 6 || len(s) > 90 {
		return false
	}
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	step := func(v uint32) {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	for _, c := range s[:sep] {
		step(uint32(c) >> 5)
	}
	step(0)
	for _, c := range s[:sep] {
		step(uint32(c) & 31)
	}
	for _, c := range s[sep+1:] {
		v := -1
		for k := 0; k < len(bech32Charset); k++ {
			if bech32Charset[k] == c {
				v = k
				break
			}
		}
		if v < 0 {
			return false
		}
		step(uint32(v))
	}
	return chk == 1 || chk == 0x2bc830a3
}

// Entropy returns the Shannon entropy of s in bits per byte.
func Entropy(s []byte) float64 {
	if len(s) == 0 {
		return 0
	}
	if len(s) <= 255 {
		// H = log2(n) - (1/n)·Σ c·log2(c), with c·log2(c) from a table: no log calls (software in wasm)
		// and no pass over all 256 counters.
		var counts [256]uint8
		for _, c := range s {
			counts[c]++
		}
		sum := 0.0
		for _, c := range s {
			if k := counts[c]; k > 0 {
				sum += cLog2c[k]
				counts[c] = 0
			}
		}
		n := len(s)
		return cLog2c[n]/float64(n) - sum/float64(n)
	}
	var counts [256]uint16
	for _, c := range s {
		counts[c]++
	}
	n := float64(len(s))
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isHex(c byte) bool   { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }

func validDate(mm, dd int) bool { return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 }

// SEPersonnummerValid: 10 digits YYMMDDNNNC (day may be +60 for a coordination number), Luhn.
func SEPersonnummerValid(d []byte) bool {
	if len(d) != 10 {
		return false
	}
	mm, dd := atoi(d[2:4]), atoi(d[4:6])
	if dd > 60 {
		dd -= 60
	}
	return validDate(mm, dd) && Luhn(d)
}

// CASINValid: 9 digits, Luhn, first digit not 0 or 8.
func CASINValid(d []byte) bool {
	return len(d) == 9 && d[0] != '0' && d[0] != '8' && Luhn(d)
}

// ITINValid: 9XX-GG-SSSS with group 50-65, 70-88, 90-92 or 94-99.
func ITINValid(area, group int) bool {
	if area < 900 || area > 999 {
		return false
	}
	return group >= 50 && group <= 65 || group >= 70 && group <= 88 || group >= 90 && group <= 92 || group >= 94 && group <= 99
}

// KRRRNValid: 13 digits YYMMDD G NNNNNC, G in 1-8, weighted mod-11 check digit.
func KRRRNValid(d []byte) bool {
	if len(d) != 13 || d[6] < '1' || d[6] > '8' || !validDate(atoi(d[2:4]), atoi(d[4:6])) {
		return false
	}
	w := [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(d[i]-'0') * w[i]
	}
	return (11-sum%11)%10 == int(d[12]-'0')
}

// THTNINValid: 13 digits, first 1-8, mod-11 check digit.
func THTNINValid(d []byte) bool {
	if len(d) != 13 || d[0] < '1' || d[0] > '8' {
		return false
	}
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(d[i]-'0') * (13 - i)
	}
	return (11-sum%11)%10 == int(d[12]-'0')
}

// ZAIDValid: 13 digits YYMMDD SSSS C A Z: valid date, citizenship 0-2, Luhn.
func ZAIDValid(d []byte) bool {
	return len(d) == 13 && validDate(atoi(d[2:4]), atoi(d[4:6])) && d[10] <= '2' && Luhn(d)
}

// NRICValid: Singapore NRIC/FIN, S/T/F/G + 7 digits + check letter.
func NRICValid(s []byte) bool {
	if len(s) != 9 {
		return false
	}
	w := [7]int{2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 7; i++ {
		c := s[i+1]
		if !isDigit(c) {
			return false
		}
		sum += int(c-'0') * w[i]
	}
	var table string
	switch s[0] {
	case 'S':
		table = "JZIHGFEDCBA"
	case 'T':
		sum += 4
		table = "JZIHGFEDCBA"
	case 'F':
		table = "XWUTRQPNMLK"
	case 'G':
		sum += 4
		table = "XWUTRQPNMLK"
	default:
		return false
	}
	return s[8] == table[sum%11]
}

// cLog2c[c] = c·log2(c) for the counts of Entropy's fast path.
var cLog2c [256]float64

func init() {
	for c := 2; c < len(cLog2c); c++ {
		cLog2c[c] = float64(c) * math.Log2(float64(c))
	}
}

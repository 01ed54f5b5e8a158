package body

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"runtime"
	"testing"
)

// The fixtures in testdata were produced by the reference implementations, not by this package:
//
//	chat.json.gz          gzip -9 -n (GNU gzip)
//	chat.json.zst         zstd -19 (zstd CLI)
//	chat.json.zlib        python3 zlib.compress(level 6)           (zlib-wrapped "deflate")
//	chat.json.rawdeflate  python3 zlib.compressobj(6, DEFLATED, -15) (raw deflate as some clients send it)
//	chat.json.br          libbrotlienc BrotliEncoderCompress(quality 11, lgwin 22, TEXT)
//	zeros16m.gz, zeros64m.zst, zeros64m.br: 16/64 MiB of zero bytes (decompression bombs)
//	chat.json.stream.zst  zstd -3 from stdin (zstd 1.5.4): no content size, declares a 2 MiB window
//	zeros64m.stream.zst   64 MiB of zeros, zstd -3 from stdin: a bomb with no content size, 2 MiB window
//	chat.json.w16m.zst    zstd -19 --long=24: declares a 16 MiB window (past RFC 9659's 8 MiB)
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	want := fixture(t, "chat.json")
	for _, tc := range []struct{ enc, file string }{
		{"gzip", "chat.json.gz"},
		{"x-gzip", "chat.json.gz"},
		{"GZIP", "chat.json.gz"},
		{"zstd", "chat.json.zst"},
		{"zstd", "chat.json.stream.zst"},
		{"zstd, zstd", "chat.json.zst.zst"},
		{"deflate", "chat.json.zlib"},
		{"deflate", "chat.json.rawdeflate"},
		{"br", "chat.json.br"},
		{"", "chat.json"},
		{"identity", "chat.json"},
		{" identity , gzip ", "chat.json.gz"},
	} {
		t.Run(tc.enc+"/"+tc.file, func(t *testing.T) {
			in := []byte(nil)
			if tc.file == "chat.json.zst.zst" { // two layers: zstd applied to the zstd CLI's output
				var err error
				if in, err = Encode("zstd", fixture(t, "chat.json.zst")); err != nil {
					t.Fatal(err)
				}
			} else {
				in = fixture(t, tc.file)
			}
			// 64 KiB: below the 2 MiB window chat.json.stream.zst declares
			got, err := Decode(tc.enc, in, 64<<10)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes, want the %d-byte fixture", len(got), len(want))
			}
		})
	}
}

func TestDecodeLimit(t *testing.T) {
	plain := fixture(t, "chat.json")
	// exactly at the limit passes, one byte less fails
	for _, tc := range []struct{ enc, file string }{{"gzip", "chat.json.gz"}, {"br", "chat.json.br"}, {"zstd", "chat.json.zst"}, {"zstd", "chat.json.stream.zst"}, {"deflate", "chat.json.zlib"}, {"", "chat.json"}} {
		if _, err := Decode(tc.enc, fixture(t, tc.file), int64(len(plain))); err != nil {
			t.Errorf("%s at the limit: %v", tc.enc, err)
		}
		_, err := Decode(tc.enc, fixture(t, tc.file), int64(len(plain))-1)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s over the limit: err = %v, want ErrTooLarge", tc.enc, err)
		}
	}
}

func TestDecodeBombs(t *testing.T) {
	for _, tc := range []struct{ enc, file string }{{"gzip", "zeros16m.gz"}, {"zstd", "zeros64m.zst"}, {"zstd", "zeros64m.stream.zst"}, {"br", "zeros64m.br"}} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Decode(tc.enc, fixture(t, tc.file), 1<<20)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if err.Error() != "decode "+tc.enc+": body: decoded body exceeds the size limit" {
				t.Fatalf("error text %q", err)
			}
		})
	}
}

// A zstd frame declaring a window past RFC 9659's 8 MiB is refused as corrupt, whatever the limit.
func TestDecodeZstdWindowTooLarge(t *testing.T) {
	for _, limit := range []int64{64 << 10, 64 << 20} {
		_, err := Decode("zstd", fixture(t, "chat.json.w16m.zst"), limit)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("limit %d: err = %v, want ErrCorrupt", limit, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := Decode("compress", []byte("x"), 10); !errors.Is(err, ErrUnsupported) || err.Error() != `body: unsupported content encoding "compress"` {
		t.Fatalf("unsupported: %v", err)
	}
	for _, enc := range []string{"gzip", "deflate", "br", "zstd"} {
		if _, err := Decode(enc, []byte(`{"model":"gpt-4o"}`), 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: plain JSON: err = %v, want ErrCorrupt", enc, err)
		}
	}
	// truncated gzip stream
	gz := fixture(t, "chat.json.gz")
	_, err := Decode("gzip", gz[:len(gz)/2], 1<<20)
	if !errors.Is(err, ErrCorrupt) || err.Error() != "decode gzip: body: corrupt encoded data: unexpected EOF" {
		t.Errorf("truncated gzip: %v", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	plain := fixture(t, "chat.json")
	for _, enc := range []string{"gzip", "deflate", "zstd", "gzip, zstd", "", "identity"} {
		t.Run(enc, func(t *testing.T) {
			c, err := Encode(enc, plain)
			if err != nil {
				t.Fatal(err)
			}
			if enc != "" && enc != "identity" && len(c) >= len(plain) {
				t.Fatalf("%s did not compress: %d >= %d", enc, len(c), len(plain))
			}
			got, err := Decode(enc, c, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("round trip changed the body")
			}
		})
	}
	// the gzip we write starts with the gzip magic; deflate is zlib-wrapped
	gz, _ := Encode("gzip", plain)
	zl, _ := Encode("deflate", plain)
	if gz[0] != 0x1f || gz[1] != 0x8b || !isZlib(zl) {
		t.Fatal("wrong container format")
	}
}

func TestEncodeBrotliUnsupported(t *testing.T) {
	_, err := Encode("br", []byte("x"))
	if !errors.Is(err, ErrUnsupported) || err.Error() != `encode br: body: unsupported content encoding "br": decode only (no brotli encoder in the filters)` {
		t.Fatalf("err = %v", err)
	}
}

func TestAcceptEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"br, gzip;q=0.8, zstd":        "gzip;q=0.8, zstd",
		"gzip, deflate, br":           "gzip, deflate",
		"br":                          "",
		"":                            "",
		"*":                           "",
		" identity ; q=1 , compress ": "identity ; q=1",
		"GZIP":                        "GZIP",
	} {
		if got := AcceptEncoding(in); got != want {
			t.Errorf("AcceptEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContentTypes(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true,
		"application/problem+json": true, "application/vnd.api+json; x=1": true, "text/json": true,
		"text/plain": false, "application/x-ndjson": false, "": false, "+json": false, "application/jsonp": false,
	} {
		if IsJSON(ct) != want {
			t.Errorf("IsJSON(%q) = %v", ct, !want)
		}
	}
	for ct, want := range map[string]bool{"text/event-stream": true, "text/event-stream; charset=utf-8": true, "TEXT/EVENT-STREAM": true, "text/plain": false} {
		if IsSSE(ct) != want {
			t.Errorf("IsSSE(%q) = %v", ct, !want)
		}
	}
	if !IsNDJSON("application/x-ndjson") || IsNDJSON("application/json") {
		t.Error("IsNDJSON")
	}
}

func TestFixHeaders(t *testing.T) {
	in := [][2]string{{":status", "200"}, {"Content-Length", "42"}, {"content-encoding", "gzip"}, {"x-a", "1"}}
	got := FixHeaders(in, "br")
	want := [][2]string{{":status", "200"}, {"x-a", "1"}, {"content-encoding", "br"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	got = FixHeaders(in, "identity")
	want = [][2]string{{":status", "200"}, {"x-a", "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if in[1][0] != "Content-Length" || len(in) != 4 {
		t.Fatal("input modified")
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"chat.json.gz", "chat.json.zst", "chat.json.zlib", "chat.json.rawdeflate", "chat.json.br", "zeros64m.br"} {
		f.Add(uint8(0), fixture(f, name))
	}
	f.Add(uint8(1), []byte{0x78, 0x9c, 0x03, 0x00})
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		encs := []string{"gzip", "deflate", "br", "zstd", "", "gzip, br", "br, zstd"}
		enc := encs[int(which)%len(encs)]
		const limit = 64 << 10
		out, err := Decode(enc, data, limit)
		if err == nil && len(out) > limit {
			t.Fatalf("%s: %d bytes past the %d limit", enc, len(out), limit)
		}
	})
}

func BenchmarkDecodeGzip(b *testing.B) {
	gz := fixture(b, "chat.json.gz")
	b.ReportAllocs()
	b.SetBytes(int64(len(fixture(b, "chat.json"))))
	for b.Loop() {
		if _, err := Decode("gzip", gz, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGzip(b *testing.B) {
	plain := fixture(b, "chat.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := Encode("gzip", plain); err != nil {
			b.Fatal(err)
		}
	}
}

// Goroutines never run between proxy-wasm callbacks, so the codecs must work synchronously.
func TestNoGoroutines(t *testing.T) {
	plain := fixture(t, "chat.json")
	before := runtime.NumGoroutine()
	for _, enc := range []string{"zstd", "gzip", "deflate"} {
		c, err := Encode(enc, plain)
		if err != nil {
			t.Fatal(err)
		}
		if n := runtime.NumGoroutine(); n != before {
			t.Fatalf("Encode(%s) left %d goroutines running (before: %d)", enc, n, before)
		}
		if _, err := Decode(enc, c, 1<<20); err != nil {
			t.Fatal(err)
		}
		if n := runtime.NumGoroutine(); n != before {
			t.Fatalf("Decode(%s) left %d goroutines running (before: %d)", enc, n, before)
		}
	}
	if _, err := Decode("br", fixture(t, "chat.json.br"), 1<<20); err != nil || runtime.NumGoroutine() != before {
		t.Fatalf("br: %v, goroutines %d", err, runtime.NumGoroutine())
	}
}

func TestEncodeRoundTripLarge(t *testing.T) {
	plain := bytes.Repeat(fixture(t, "chat.json"), 90) // ~330 KiB, several deflate blocks
	for i := range plain {
		if i%97 == 0 {
			plain[i] = byte(i) // break up the repetition a little
		}
	}
	for _, enc := range []string{"gzip", "deflate", "zstd"} {
		c, err := Encode(enc, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(enc, c, int64(len(plain)))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: round trip of %d bytes failed: %v", enc, len(plain), err)
		}
	}
}

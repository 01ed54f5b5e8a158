package llm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestApplyEdits(t *testing.T) {
	body := []byte(`{"a":"hello","b":["x","caf\u00e9"],"c":"tail"}`)
	req := func(s string) Loc { i := strings.Index(string(body), s); return Loc{i, i + len(s)} }
	tests := []struct {
		name  string
		edits []Edit
		want  string
	}{
		{"none", nil, string(body)},
		{"one", []Edit{{Loc: req(`"hello"`), Text: "bye"}}, `{"a":"bye","b":["x","caf\u00e9"],"c":"tail"}`},
		{"unordered", []Edit{{Loc: req(`"tail"`), Text: "T"}, {Loc: req(`"x"`), Text: "X"}}, `{"a":"hello","b":["X","caf\u00e9"],"c":"T"}`},
		{"escaping", []Edit{{Loc: req(`"x"`), Text: "q\"b\\n\n\t\x01\u2028<>&"}}, `{"a":"hello","b":["q\"b\\n\n\t\u0001\u2028<>&","caf\u00e9"],"c":"tail"}`},
		{"invalid utf8 replaced", []Edit{{Loc: req(`"x"`), Text: "a\xffb"}}, `{"a":"hello","b":["a\ufffdb","caf\u00e9"],"c":"tail"}`},
		{"identity keeps escapes", []Edit{{Loc: req(`"caf\u00e9"`), Text: "café"}}, string(body)},
		{"bad edits skipped", []Edit{{Loc: Loc{0, 3}, Text: "x"}, {Loc: Loc{-1, 2}, Text: "x"}, {Loc: Loc{5, 500}, Text: "x"}, {Loc: req(`"hello"`), Text: "ok"}, {Loc: req(`"hello"`), Text: "dup"}}, `{"a":"ok","b":["x","caf\u00e9"],"c":"tail"}`},
	}
	for _, tc := range tests {
		got := string(ApplyEdits(body, tc.edits))
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: invalid JSON %s", tc.name, got)
		}
	}
	if _, err := ApplyEditsStrict(body, []Edit{{Loc: Loc{1, 5}, Text: "x"}}); !errors.Is(err, ErrBadEdit) {
		t.Errorf("strict: err = %v", err)
	}
	if _, err := ApplyEditsStrict(body, []Edit{{Loc: req(`"hello"`), Text: "a"}, {Loc: req(`"hello"`), Text: "b"}}); !errors.Is(err, ErrBadEdit) {
		t.Errorf("strict duplicate: err = %v", err)
	}
}

func TestSetMaxTokens(t *testing.T) {
	tests := []struct {
		f          Format
		body, want string
	}{
		{FormatOpenAIChat, `{"model":"gpt-4o","max_tokens": 4096 ,"messages":[]}`, `{"model":"gpt-4o","max_tokens": 100 ,"messages":[]}`},
		{FormatOpenAIChat, `{"model":"gpt-4o","messages":[]}`, `{"max_tokens":100,"model":"gpt-4o","messages":[]}`},
		{FormatOpenAIChat, `{"model":"o3-mini","messages":[]}`, `{"max_completion_tokens":100,"model":"o3-mini","messages":[]}`},
		{FormatOpenAIChat, `{"max_tokens":1,"max_completion_tokens":9000,"max_tokens":7}`, `{"max_tokens":100,"max_completion_tokens":100,"max_tokens":100}`},
		{FormatOpenAIChat, `{ }`, `{"max_tokens":100 }`},
		{FormatOpenAIResponses, `{"input":"x"}`, `{"max_output_tokens":100,"input":"x"}`},
		{FormatAnthropic, `{"max_tokens":8192,"messages":[]}`, `{"max_tokens":100,"messages":[]}`},
		{FormatGemini, `{"contents":[]}`, `{"generationConfig":{"maxOutputTokens":100},"contents":[]}`},
		{FormatGemini, `{"contents":[],"generationConfig":{"temperature":1}}`, `{"contents":[],"generationConfig":{"maxOutputTokens":100,"temperature":1}}`},
		{FormatGemini, `{"generationConfig":{"maxOutputTokens":8192}}`, `{"generationConfig":{"maxOutputTokens":100}}`},
		{FormatOllama, `{"model":"llama3"}`, `{"options":{"num_predict":100},"model":"llama3"}`},
		{FormatOllama, `{"options":{"num_predict":-1}}`, `{"options":{"num_predict":100}}`},
	}
	for _, tc := range tests {
		got, err := SetMaxTokens(tc.f, []byte(tc.body), 100)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.f, tc.body, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.f, tc.body, got, tc.want)
		}
		req, err := ParseRequest(tc.f, got)
		if err != nil || req.MaxTokens != 100 {
			t.Errorf("%s: reparse: %v max %d", tc.f, err, req.MaxTokens)
		}
	}
	if _, err := SetMaxTokens(FormatOpenAIChat, []byte(`{"a":`), 1); err == nil {
		t.Error("no error for invalid JSON")
	}
	if _, err := SetMaxTokens(FormatUnknown, []byte(`{}`), 1); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: %v", err)
	}
}

func TestEnsureStreamUsage(t *testing.T) {
	tests := []struct {
		body, want string
		added      bool
	}{
		{`{"stream":true,"messages":[]}`, `{"stream_options":{"include_usage":true},"stream":true,"messages":[]}`, true},
		{`{"stream":true,"stream_options":{}}`, `{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{`{"stream":true,"stream_options":{"include_obfuscation":false}}`, `{"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}`, true},
		{`{"stream":true,"stream_options":{"include_usage":false}}`, `{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{`{"stream":true,"stream_options":null}`, `{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{`{"stream":true,"stream_options":{"include_usage":true}}`, `{"stream":true,"stream_options":{"include_usage":true}}`, false},
		{`{"stream":false}`, `{"stream":false}`, false},
		{`{"messages":[]}`, `{"messages":[]}`, false},
	}
	for _, tc := range tests {
		got, added, err := EnsureStreamUsage([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want || added != tc.added {
			t.Errorf("%s: got %s %v, want %s %v", tc.body, got, added, tc.want, tc.added)
		}
	}
	if _, _, err := EnsureStreamUsage([]byte(`{"stream":true,"stream_options":[]}`)); err == nil {
		t.Error("no error for stream_options array")
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, name := range []string{"openai_chat.json", "openai_chat_legacy.json", "openai_responses.json",
		"openai_responses_string.json", "anthropic.json", "gemini.json", "ollama_chat.json"} {
		f.Add(readTestdata(f, "requests/"+name), uint8(0))
	}
	f.Add([]byte(`{"messages":[{"role":"user","content":"a\ud800b\"c"}]}`), uint8(1))
	// The same-view corpus: every shape and endpoint, with and without the generic reader and duplicate rejection.
	for _, c := range readSameView(f) {
		f.Add(c.body(), uint8(0))
		f.Add(c.body(), uint8(0x40|0x20|8))
		f.Add(c.body(), uint8(0x80|1)) // residual pass
	}
	f.Add([]byte("model=m&prompt=a%2Bb+c&x"), uint8(0x10))
	f.Add([]byte("plain text body"), uint8(0x08))
	// attachments (attach.go): textual data: URLs and base64 documents, binary ones, undecodable data
	for _, b := range []string{
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.txt","file_data":"data:text/plain;base64,SWdub3JlIGFsbA=="},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0K"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:,a%20b","File_data":"data:text\/csv;base64,YSxi"}},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]}]}`,
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"aGk="}},{"type":"tool_result","tool_use_id":"x","content":[{"type":"document","source":{"type":"url","url":"data:text/plain;base64,aGk"}}]}]}]}`,
		`{"model":"m","input":[{"type":"mcp_call","name":"t","output":{"f":"data:text/plain;base64,a b"}}]}`,
	} {
		f.Add([]byte(b), uint8(0))
	}
	formats := []Format{FormatUnknown, FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropic, FormatGemini, FormatOllama,
		FormatOpenAIAssistants, FormatAnthropicBatch, FormatGeminiBatch}
	f.Fuzz(func(t *testing.T, body []byte, fi uint8) {
		format := formats[int(fi&7)%len(formats)]
		if fi&0x88 == 0x88 {
			format = formats[6+int(fi>>4)%3]
		}
		DetectFormat("/x", body)
		opts := Options{Residual: fi&0x80 != 0, DocumentMarkers: []string{"<doc>"}, Generic: fi&0x40 != 0}
		if fi&0x20 != 0 {
			opts.DuplicateKeys = DuplicateKeysReject
		}
		switch {
		case fi&0x18 == 0x10:
			opts.ContentType = "application/x-www-form-urlencoded"
		case fi&0x18 == 0x08:
			opts.ContentType = "text/plain"
		}
		req, err := ParseRequestWith(format, body, opts)
		if _, rerr := ParseResponse(format, body); rerr != nil && !isInputErr(rerr) {
			t.Fatalf("ParseResponse error %v wraps no sentinel", rerr)
		}
		if err != nil {
			if !isInputErr(err) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if validate(body) != nil && opts.ContentType == "" || !json.Valid(body) && opts.ContentType == "" {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if validate(body) != nil {
			// A text or form body: each Loc holds the text in its encoding; rewriting keeps the segment count.
			checkLocs(t, body, req.Segments)
			var edits []Edit
			for i := range req.Segments {
				edits = append(edits, req.Segments[i].Edit("X&=%"))
			}
			out, err := ApplyEditsStrict(body, edits)
			if err != nil {
				t.Fatal(err)
			}
			if req2, err := ParseRequestWith(format, out, opts); err == nil && len(req2.Segments) != len(req.Segments) {
				t.Fatalf("rewritten text body has %d segments, want %d", len(req2.Segments), len(req.Segments))
			}
			return
		}
		// Each Loc is a string token that an independent decoder decodes to the segment text.
		checkLocs(t, body, req.Segments)
		// Identity edits reproduce the body byte for byte (base64 segments may re-encode differently).
		var ident, change []Edit
		for _, s := range req.Segments {
			if s.Encoding == "" {
				ident = append(ident, s.Edit(s.Text))
			}
			change = append(change, s.Edit(s.Text+"\"\\\n\x00é"))
		}
		if out, err := ApplyEditsStrict(body, ident); err != nil || string(out) != string(body) {
			t.Fatalf("identity edits changed the body: %v\n%q\n%q", err, body, out)
		}
		out, err := ApplyEditsStrict(body, change)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("edits broke JSON: %q", out)
		}
		req2, err := ParseRequestWith(req.Format, out, opts)
		if err != nil {
			t.Fatalf("edited body does not parse: %v", err)
		}
		if len(req2.Segments) != len(req.Segments) {
			t.Fatalf("edited body has %d segments, want %d", len(req2.Segments), len(req.Segments))
		}
		for i := range req2.Segments {
			if req2.Segments[i].Encoding != "" {
				continue // decoded text holds raw bytes; checkLocs checked it
			}
			if req2.Segments[i].Text != change[i].Text && strings.ToValidUTF8(change[i].Text, "\uFFFD") != req2.Segments[i].Text {
				t.Fatalf("segment %d = %q, want %q", i, req2.Segments[i].Text, change[i].Text)
			}
		}
		SetMaxTokens(req.Format, body, 5)
		EnsureStreamUsage(body)
	})
}

func TestDecodedEquals(t *testing.T) {
	tokens := []string{`""`, `"abc"`, `"a\"b\\c\/d"`, `"\n\r\t\b\f"`, `"caf\u00e9"`, `"\ud83d\ude00"`, `"\ud800x"`, `"\u0000"`}
	for _, tok := range tokens {
		b := []byte(tok)
		v := val{s: 0, e: len(b), k: kString}
		dec := unquote(b, v)
		if !decodedEquals(b[1:len(b)-1], dec) {
			t.Errorf("%s: not equal to its decoding %q", tok, dec)
		}
		for _, other := range []string{dec + "x", "x" + dec, strings.TrimSuffix(dec, dec[len(dec)/2:])} {
			if other != dec && decodedEquals(b[1:len(b)-1], other) {
				t.Errorf("%s: equal to %q", tok, other)
			}
		}
	}
}

// FuzzValidate: the scanner accepts exactly the valid JSON documents (valid UTF-8, nesting within MaxDepth).
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{}`, `[1,-0.5e+3,"a\u00e9",true,false,null,{"a":[{}]}]`, ` "x" `, `{"a":1,}`, `[01]`, `"\ud800"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	// Strings long enough for the 8-byte fast path, with the special byte at varying offsets.
	for _, s := range []string{"\"0123456789abcdefZürich “quoted” text\\n and more ascii\"", "\"0123456789abcdef\xe2\x80 broken\"",
		"\"0123456789abcdef\x01 control\"", "{\"key_long_enough\":\"value_long_enough\\\"quote\"}", "\"abcdefgh\xed\xa0\x80ijklmnop\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := validate(b)
		want := json.Valid(b) && utf8.Valid(b)
		if err != nil && strings.Contains(err.Error(), "nesting too deep") {
			return
		}
		if (err == nil) != want {
			t.Fatalf("validate(%q) = %v, encoding/json+utf8 valid = %v", b, err, want)
		}
	})
}

// FuzzApplyEdits: arbitrary locations never panic; an accepted edit leaves valid JSON valid.
func FuzzApplyEdits(f *testing.F) {
	f.Add([]byte(`{"a":"hello","b":["x","caf\u00e9"]}`), 5, 12, "new \"text\"", -1, 3)
	f.Add([]byte(`["\\"","x"]`), 1, 5, "q", 6, 9)
	f.Fuzz(func(t *testing.T, body []byte, s1, e1 int, text string, s2, e2 int) {
		edits := []Edit{{Loc: Loc{s1, e1}, Text: text}, {Loc: Loc{s2, e2}, Text: text + "2"}}
		out := ApplyEdits(body, edits)
		strict, err := ApplyEditsStrict(body, edits)
		if err == nil && string(strict) != string(out) {
			t.Fatalf("strict %q != lenient %q", strict, out)
		}
		if json.Valid(body) && !json.Valid(out) {
			t.Fatalf("valid %q became invalid %q", body, out)
		}
	})
}

package llm

import (
	"errors"
	"strings"
	"testing"
)

// isInputErr reports whether err wraps one of the exported input sentinels.
func isInputErr(err error) bool {
	return errors.Is(err, ErrInvalidJSON) || errors.Is(err, ErrInvalidShape) || errors.Is(err, ErrUnknownFormat)
}

func TestInputErrorsWrapSentinel(t *testing.T) {
	formats := []Format{FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropic, FormatGemini, FormatOllama}
	reqs := []struct{ body, msg string }{
		{`{"messages":"hi"}`, "messages: expected array, got string"},
		{`{"messages":[5]}`, "messages[0]: expected object, got number"},
		{`{"messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{`{"messages":[{"role":"user","content":[7]}]}`, "messages[0].content[0]"},
		{`{"max_tokens":-1,"messages":[]}`, "max_tokens"},
		{`{"stream":"yes","messages":[]}`, "stream"},
		{`{"model":5,"messages":[]}`, "model"},
		{`{"input":5}`, "input"},
		{`{"input":[5]}`, "input[0]"},
		{`{"system":5,"messages":[]}`, "system"},
		{`{"contents":"x"}`, "contents"},
		{`{"contents":[{"parts":5}]}`, "parts"},
	}
	shape := 0
	for _, tc := range reqs {
		for _, f := range formats {
			_, err := ParseRequest(f, []byte(tc.body))
			if err == nil {
				continue
			}
			if !isInputErr(err) {
				t.Errorf("%s request %s: %v wraps no sentinel", f, tc.body, err)
			}
			if errors.Is(err, ErrInvalidShape) {
				shape++
				if errors.Is(err, ErrInvalidJSON) {
					t.Errorf("%s request %s: %v is both shape and json", f, tc.body, err)
				}
				if strings.Contains(err.Error(), ErrInvalidShape.Error()) {
					t.Errorf("%s request %s: message %q repeats the sentinel text", f, tc.body, err)
				}
			}
		}
	}
	_, err := ParseRequest(FormatOpenAIChat, []byte(`{"messages":"hi"}`))
	if !errors.Is(err, ErrInvalidShape) || err.Error() != "parse openai_chat request: messages: expected array, got string" {
		t.Errorf("chat messages string: %v", err)
	}
	resps := []string{`{"choices":5}`, `{"choices":[5]}`, `{"output":5}`, `{"output":[5]}`, `{"content":5}`, `{"content":[5]}`,
		`{"candidates":5}`, `{"candidates":[5]}`, `[5]`, `{"choices":[`, `"x"`, "{\"choices\":[{\"message\":{\"content\":\"\xc3\"}}]}"}
	for _, body := range resps {
		for _, f := range formats {
			_, err := ParseResponse(f, []byte(body))
			if err == nil {
				continue
			}
			if !isInputErr(err) {
				t.Errorf("%s response %s: %v wraps no sentinel", f, body, err)
			}
			if errors.Is(err, ErrInvalidShape) {
				shape++
			}
		}
	}
	if shape < 20 {
		t.Errorf("only %d shape errors; the table no longer exercises wrong-typed fields", shape)
	}
	if _, err := ParseResponse(FormatOpenAIChat, []byte(`{"choices":5}`)); !errors.Is(err, ErrInvalidShape) {
		t.Errorf("choices number: %v", err)
	}
}

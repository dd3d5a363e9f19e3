package bot

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeAnswer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want hotAnswer
	}{
		{"message", cannedMessage, hotAnswer{OK: true, Result: hotResult{messageID: 4242}}},
		{"true", `{"ok":true,"result":true}`, hotAnswer{OK: true}},
		{"429", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`,
			hotAnswer{ErrorCode: 429, Description: "Too Many Requests: retry after 7", Parameters: struct {
				RetryAfter int `json:"retry_after"`
			}{7}}},
		{"escaped description", `{ "ok" : false , "error_code" : 400 , "description" : "Bad Request: \"x\" \u0633" }`,
			hotAnswer{ErrorCode: 400, Description: `Bad Request: "x" س`}},
		{"message_id after nested ones", `{"ok":true,"result":{"reply_to_message":{"message_id":1,"text":"}{\"message_id\":9"},"message_id":5}}`,
			hotAnswer{OK: true, Result: hotResult{messageID: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got hotAnswer
			if !decodeAnswer([]byte(tt.in), &got) {
				t.Fatalf("decodeAnswer refused %s", tt.in)
			}
			if got != tt.want {
				t.Errorf("decodeAnswer = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "<html>Bad Gateway</html>", `{"ok":true`, `{"ok":tru}`, `[1]`, `{"ok":true} x`} {
		var a hotAnswer
		if decodeAnswer([]byte(bad), &a) {
			t.Errorf("decodeAnswer accepted %q", bad)
		}
	}
}

// FuzzDecodeAnswer: whatever the hand walker accepts, encoding/json reads
// the same way.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{cannedMessage, `{"ok":true,"result":true}`,
		`{"ok":false,"error_code":429,"description":"x","parameters":{"retry_after":3}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// encoding/json also takes keys in another case (even with the
		// Kelvin sign for k); Telegram writes them in lower case only.
		for _, k := range []string{"ok", "error_code", "description", "parameters", "retry_after", "result", "message_id"} {
			if strings.Count(strings.ToLower(s), k) != strings.Count(s, k) || strings.ContainsRune(s, '\u212a') || strings.ContainsRune(s, '\u017f') {
				return
			}
		}
		var got hotAnswer
		if !decodeAnswer([]byte(s), &got) {
			return
		}
		var want hotAnswer
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			return // the walker is more lenient on values it skips
		}
		if got != want {
			t.Errorf("%s: hand %+v, encoding/json %+v", s, got, want)
		}
	})
}

// TestSplitUpdates: getUpdates' answer split by the scanner is what
// encoding/json reads from it, element for element and byte for byte.
func TestSplitUpdates(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"two updates", `{"ok":true,"result":[{"update_id":7,"callback_query":{"id":"q1","from":{"id":5,"is_bot":false,"first_name":"زهرا"},"message":{"message_id":2,"chat":{"id":5,"type":"private"}},"data":"p:1"}}, {"update_id":8,"message":{"message_id":3,"chat":{"id":5,"type":"private"},"text":"سلام [\"]}{"}}]}`},
		{"empty", `{"ok":true,"result":[]}`},
		{"spaces everywhere", " {\n \"result\" : [ {\"update_id\":1} ,\t{\"update_id\":2,\"x\":[[],{}]} ] , \"ok\" : true } "},
		{"429", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`},
		{"conflict", `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`},
		{"result twice", `{"ok":true,"result":[{"update_id":1}],"result":[{"update_id":2}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want pollAnswer
			if err := json.Unmarshal([]byte(tt.in), &want.full); err != nil {
				t.Fatal(err)
			}
			var got pollAnswer
			if !splitUpdates([]byte(tt.in), &got) {
				t.Fatalf("splitUpdates refused %s", tt.in)
			}
			if got.OK != want.full.OK || got.ErrorCode != want.full.ErrorCode || got.Description != want.full.Description {
				t.Errorf("split ok=%v code=%d description=%q, want %v %d %q", got.OK, got.ErrorCode, got.Description,
					want.full.OK, want.full.ErrorCode, want.full.Description)
			}
			if want.full.Parameters != nil && got.RetryAfter != want.full.Parameters.RetryAfter {
				t.Errorf("retry_after = %d, want %d", got.RetryAfter, want.full.Parameters.RetryAfter)
			}
			if len(got.Result) != len(want.full.Result) {
				t.Fatalf("%d updates, want %d", len(got.Result), len(want.full.Result))
			}
			for i := range got.Result {
				if string(got.Result[i]) != string(want.full.Result[i]) {
					t.Errorf("update %d = %s, want %s", i, got.Result[i], want.full.Result[i])
				}
			}
		})
	}
	for _, bad := range []string{"", "<html>Bad Gateway</html>", `{"ok":true,"result":[{"update_id":1}`,
		`{"ok":true,"result":[1]}`, `{"ok":true,"result":[{"update_id":1}]} x`, `{"ok":true,"result":[{"a":"}]}`} {
		var a pollAnswer
		if splitUpdates([]byte(bad), &a) {
			t.Errorf("splitUpdates accepted %q", bad)
		}
	}
}

package conversations

import (
	"strings"
	"testing"
)

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{
		"k3x9|committee|12", "|menu|", "ab12|place|بوستان\u200cها", "abcd||1", "a|b|c|d",
		"ABCD|s|1", "abcd|s|\xff", "abcd|s|" + strings.Repeat("ب", 28), "", "||",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseCallback(s)
		if err != nil {
			return
		}
		got, err := EncodeCallback(d)
		if err != nil {
			t.Fatalf("EncodeCallback(ParseCallback(%q) = %+v): %v", s, d, err)
		}
		if got != s {
			t.Fatalf("EncodeCallback(ParseCallback(%q)) = %q", s, got)
		}
	})
}

func FuzzCallbackRoundTrip(f *testing.F) {
	f.Add("k3x9", "committee", "12")
	f.Add("", "_summary", "")
	f.Add("ab12", "place", "بوستان\u200cها")
	f.Add("abcd", "s|t", "1")
	f.Add("abcd", "s", strings.Repeat("ب", 40))
	f.Fuzz(func(t *testing.T, nonce, step, value string) {
		d := CallbackData{Nonce: nonce, Step: step, Value: value}
		s, err := EncodeCallback(d)
		if err != nil {
			return
		}
		if len(s) > MaxCallbackLen {
			t.Fatalf("EncodeCallback(%+v) = %d bytes, over %d", d, len(s), MaxCallbackLen)
		}
		got, err := ParseCallback(s)
		if err != nil {
			t.Fatalf("ParseCallback(EncodeCallback(%+v) = %q): %v", d, s, err)
		}
		if got != d {
			t.Fatalf("ParseCallback(EncodeCallback(%+v)) = %+v", d, got)
		}
	})
}

package conversations

import (
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

func TestEncodeCallback(t *testing.T) {
	tests := []struct {
		name string
		d    CallbackData
		want string // "" when an EINVALID error is wanted
	}{
		{"id value", CallbackData{Nonce: "k3x9", Step: "committee", Value: "12"}, "k3x9|committee|12"},
		{"empty value", CallbackData{Nonce: "k3x9", Step: "_summary"}, "k3x9|_summary|"},
		{"no nonce", CallbackData{Step: "menu.report"}, "|menu.report|"},
		{"persian value", CallbackData{Nonce: "ab12", Step: "place", Value: "بوستان\u200cها"}, "ab12|place|بوستان\u200cها"},
		{"exactly 64 bytes", CallbackData{Nonce: "abcd", Step: "s", Value: strings.Repeat("ب", 28) + "x"}, "abcd|s|" + strings.Repeat("ب", 28) + "x"},
		{"65 bytes", CallbackData{Nonce: "abcd", Step: "s", Value: strings.Repeat("ب", 28) + "xy"}, ""},
		{"separator in value", CallbackData{Nonce: "abcd", Step: "s", Value: "a|b"}, ""},
		{"separator in step", CallbackData{Nonce: "abcd", Step: "s|t", Value: "1"}, ""},
		{"separator in nonce", CallbackData{Nonce: "a|cd", Step: "s", Value: "1"}, ""},
		{"empty step", CallbackData{Nonce: "abcd", Value: "1"}, ""},
		{"upper-case nonce", CallbackData{Nonce: "ABCD", Step: "s"}, ""},
		{"long nonce", CallbackData{Nonce: "abcdefghj", Step: "s"}, ""},
		{"persian step", CallbackData{Nonce: "abcd", Step: "گام"}, ""},
		{"long step", CallbackData{Nonce: "abcd", Step: strings.Repeat("s", 33)}, ""},
		{"control character in value", CallbackData{Nonce: "abcd", Step: "s", Value: "a\nb"}, ""},
		{"invalid utf-8 in value", CallbackData{Nonce: "abcd", Step: "s", Value: "\xff"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeCallback(tt.d)
			if tt.want == "" {
				if code := models.ErrorCode(err); code != models.EINVALID {
					t.Fatalf("EncodeCallback(%+v) = %q, %v; want an EINVALID error", tt.d, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeCallback(%+v): %v", tt.d, err)
			}
			if got != tt.want {
				t.Errorf("EncodeCallback(%+v) = %q, want %q", tt.d, got, tt.want)
			}
			if len(got) > MaxCallbackLen {
				t.Errorf("encoded length %d > %d", len(got), MaxCallbackLen)
			}
			back, err := ParseCallback(got)
			if err != nil {
				t.Fatalf("ParseCallback(%q): %v", got, err)
			}
			if back != tt.d {
				t.Errorf("ParseCallback(EncodeCallback(d)) = %+v, want %+v", back, tt.d)
			}
		})
	}
}

func TestParseCallbackRejectsForgedData(t *testing.T) {
	tests := []struct {
		name string
		s    string
	}{
		{"empty", ""},
		{"one field", "abcd"},
		{"two fields", "abcd|step"},
		{"four fields", "abcd|step|1|2"},
		{"empty step", "abcd||1"},
		{"bad nonce", "AB!D|step|1"},
		{"bad step", "abcd|st ep|1"},
		{"control character", "abcd|step|\x00"},
		{"invalid utf-8", "abcd|step|\xc3"},
		{"too long", "abcd|step|" + strings.Repeat("1", 55)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallback(tt.s)
			if code := models.ErrorCode(err); code != models.EINVALID {
				t.Errorf("ParseCallback(%q) = %+v, %v; want an EINVALID error", tt.s, got, err)
			}
		})
	}
}

func TestNewNonce(t *testing.T) {
	seen := make(map[string]bool)
	for range 200 {
		n := NewNonce()
		if len(n) != 4 {
			t.Fatalf("NewNonce() = %q, want 4 characters", n)
		}
		for _, c := range n {
			if !strings.ContainsRune(nonceAlphabet, c) {
				t.Fatalf("NewNonce() = %q has %q outside %q", n, c, nonceAlphabet)
			}
		}
		if _, err := EncodeCallback(CallbackData{Nonce: n, Step: "s"}); err != nil {
			t.Fatalf("EncodeCallback with NewNonce() %q: %v", n, err)
		}
		seen[n] = true
	}
	// 200 draws from 2^20 values collide with probability ~2%; 190 distinct is
	// a loose bound that still catches a constant or badly biased source.
	if len(seen) < 190 {
		t.Errorf("200 nonces gave %d distinct values, want at least 190", len(seen))
	}
}

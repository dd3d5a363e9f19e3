package persian

import (
	"strings"
	"testing"
)

func TestKeyboardLatin(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		{"س-۳۶ا", "S-36H"},             // the example
		{"S-36H", "S-36H"},             // typed in Latin
		{"s-36h", "S-36H"},             // lower case
		{"س-٣٦ا", "S-36H"},             // Arabic-Indic digits
		{"س–۳۶ا", "S-36H"},             // an en dash
		{"سـ۳۶ا", "S-36H"},             // Shift+- on the Persian layout gives a tatweel
		{" س - ۳۶ ا ", "S-36H"},        // spaces
		{"\u200fس-۳۶ا\u200e", "S-36H"}, // direction marks pasted along
		{"ش-ذئیقص", "A-BSDRW"},         // an action code, with Shift+S (ئ)
		{"ضصثقفغعهخح", "QWERTYUIOP"},   // the top row
		{"شسیبلاتنم", "ASDFGHJKL"},     // the home row
		{"ظطزرذدپ", "ZXCVBNM"},         // the bottom row
		{"ؤئيإأآة", "ASDFGHJ"},         // shifted letters
		{"كژء", "ZCM"},                 // shifted letters
		{"جچکگو", "[];',"},             // letters on punctuation keys
		{"ي", "D"},                     // Arabic yeh, Shift+D
		{"", ""},
	}
	for _, tt := range tests {
		if got := KeyboardLatin(tt.typed); got != tt.want {
			t.Errorf("KeyboardLatin(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

// latinToPersian is the standard Persian layout (ISIRI 9147) read the other
// way: the Persian letter or digit each Latin key types, unshifted.
var latinToPersian = map[rune]rune{
	'q': 'ض', 'w': 'ص', 'e': 'ث', 'r': 'ق', 't': 'ف', 'y': 'غ', 'u': 'ع', 'i': 'ه', 'o': 'خ', 'p': 'ح',
	'a': 'ش', 's': 'س', 'd': 'ی', 'f': 'ب', 'g': 'ل', 'h': 'ا', 'j': 'ت', 'k': 'ن', 'l': 'م',
	'z': 'ظ', 'x': 'ط', 'c': 'ز', 'v': 'ر', 'b': 'ذ', 'n': 'د', 'm': 'پ',
	'0': '۰', '1': '۱', '2': '۲', '3': '۳', '4': '۴', '5': '۵', '6': '۶', '7': '۷', '8': '۸', '9': '۹',
	'-': '-',
}

// typeOnPersianKeyboard types a Latin code with the keyboard set to Persian.
func typeOnPersianKeyboard(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		b.WriteRune(latinToPersian[r])
	}
	return b.String()
}

func TestKeyboardLayoutComplete(t *testing.T) {
	for k := 'a'; k <= 'z'; k++ {
		p, ok := latinToPersian[k]
		if !ok {
			t.Fatalf("no Persian letter on %c", k)
		}
		if got := KeyboardLatin(string(p)); got != strings.ToUpper(string(k)) {
			t.Errorf("KeyboardLatin(%c) = %q, want %q", p, got, strings.ToUpper(string(k)))
		}
	}
}

// FuzzKeyboardLatin types any code of Latin letters, digits and dashes on
// the Persian layout and checks that reading it back gives the code.
func FuzzKeyboardLatin(f *testing.F) {
	for _, s := range []string{"S-36H", "A-BSDRW", "s-2x9q", "", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var code strings.Builder
		for _, r := range strings.ToUpper(s) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' {
				code.WriteRune(r)
			}
		}
		typed := typeOnPersianKeyboard(code.String())
		if got := KeyboardLatin(typed); got != code.String() {
			t.Errorf("KeyboardLatin(%q) = %q, want %q", typed, got, code.String())
		}
		if got := KeyboardLatin(code.String()); got != code.String() {
			t.Errorf("KeyboardLatin(%q) = %q, want it unchanged", code.String(), got)
		}
	})
}

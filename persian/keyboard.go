package persian

import (
	"strings"
	"unicode"
)

// persianKeys maps each letter of the standard Persian keyboard (ISIRI 9147)
// to the Latin key it sits on: the unshifted letters, then the shifted ones.
// The letters on the punctuation keys ([ ] ; ' ,) map to those keys.
var persianKeys = map[rune]rune{
	// Unshifted, row by row.
	'ض': 'q', 'ص': 'w', 'ث': 'e', 'ق': 'r', 'ف': 't', 'غ': 'y', 'ع': 'u', 'ه': 'i', 'خ': 'o', 'ح': 'p', 'ج': '[', 'چ': ']',
	'ش': 'a', 'س': 's', 'ی': 'd', 'ب': 'f', 'ل': 'g', 'ا': 'h', 'ت': 'j', 'ن': 'k', 'م': 'l', 'ک': ';', 'گ': '\'',
	'ظ': 'z', 'ط': 'x', 'ز': 'c', 'ر': 'v', 'ذ': 'b', 'د': 'n', 'پ': 'm', 'و': ',',
	// Shifted.
	'ؤ': 'a', 'ئ': 's', 'ي': 'd', 'إ': 'f', 'أ': 'g', 'آ': 'h', 'ة': 'j',
	'ك': 'z', 'ژ': 'c', 'ء': 'm',
	// Letters other keyboards put where ISIRI 9147 has ی and ه.
	'ى': 'd', 'ۀ': 'i', 'ە': 'i',
}

// dashes are the characters a person may type for "-" in a code.
const dashes = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u0640" // hyphens, dashes, minus, tatweel (Shift+- on the Persian layout)

// KeyboardLatin reads a code typed with the keyboard set to Persian as the
// Latin code it was meant to be: each Persian letter becomes the Latin key
// it sits on in the standard Persian layout (ISIRI 9147), so «س-۳۶ا» reads
// as "S-36H"; Persian and Arabic-Indic digits become ASCII digits; dashes
// become "-"; letters are upper-cased; spaces, ZWNJ and direction marks are
// dropped. Anything else is kept as it is, so a code typed in Latin passes
// through upper-cased.
func KeyboardLatin(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == zwnj || r == zwj || unicode.Is(unicode.Bidi_Control, r):
			continue
		case strings.ContainsRune(dashes, r):
			b.WriteByte('-')
		default:
			if k, ok := persianKeys[r]; ok {
				r = k
			} else if d, ok := digitValue(r); ok {
				r = '0' + rune(d)
			}
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

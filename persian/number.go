package persian

import (
	"fmt"
	"math"
	"unicode/utf8"
)

const (
	persianZero  = '۰' // U+06F0
	arabicZero   = '٠' // U+0660
	thousandsSep = '٬' // U+066C ARABIC THOUSANDS SEPARATOR, the Persian one
)

// digitValue returns the value of an ASCII, Persian (U+06F0–U+06F9) or
// Arabic-Indic (U+0660–U+0669) digit.
func digitValue(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= persianZero && r <= persianZero+9:
		return int(r - persianZero), true
	case r >= arabicZero && r <= arabicZero+9:
		return int(r - arabicZero), true
	}
	return 0, false
}

// ASCIIDigits returns s with every Persian (۰–۹) and Arabic-Indic (٠–٩)
// digit replaced by the ASCII digit of the same value; everything else is
// kept. It returns s itself when there is nothing to replace.
func ASCIIDigits(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= arabicZero && size == 2 {
			if _, ok := digitValue(r); ok {
				break
			}
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if d, ok := digitValue(r); ok {
			b = append(b, byte('0'+d))
		} else {
			b = append(b, s[i:i+size]...) // copied, not decoded: invalid bytes stay as they were
		}
		i += size
	}
	return string(b)
}

// Digits returns s with every ASCII and Arabic-Indic digit replaced by the
// Persian digit of the same value, for display; everything else is kept.
// (Arabic-Indic ٤ ٥ ٦ look different from Persian ۴ ۵ ۶, so a Persian
// reader is shown the latter.)
func Digits(s string) string {
	b := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if d, ok := digitValue(r); ok {
			b = utf8.AppendRune(b, persianZero+rune(d))
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// FormatNumber returns n in Persian digits with the Persian thousands
// separator, e.g. "۱۲٬۵۰۰", and a leading "-" when n is negative.
// ParseNumber reads it back.
func FormatNumber(n int64) string {
	var digits [20]byte
	u := uint64(n)
	if n < 0 {
		u = -u // two's complement: also right for math.MinInt64
	}
	k := len(digits)
	for {
		k--
		digits[k] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	d := digits[k:]
	b := make([]byte, 0, 1+len(d)*2+len(d)/3*2)
	if n < 0 {
		b = append(b, '-')
	}
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b = utf8.AppendRune(b, thousandsSep)
		}
		b = utf8.AppendRune(b, persianZero+rune(c-'0'))
	}
	return string(b)
}

// isGroupSep reports whether r may separate groups of three digits:
// the Persian thousands separator ٬, the Arabic comma ،, the ASCII comma,
// an apostrophe or a space (after Normalize, NBSP and thin spaces are spaces).
func isGroupSep(r rune) bool {
	return r == thousandsSep || r == '،' || r == ',' || r == '\'' || r == '’' || r == ' '
}

// ParseNumber reads a whole number as people type it: in ASCII, Persian or
// Arabic-Indic digits (mixed too), optionally preceded by "-", "+" or "−"
// (U+2212), optionally grouped by thousands with ٬ (U+066C), ، (U+060C),
// ",", an apostrophe or spaces: "۱۲٬۵۰۰", "12,500", "١٢٥٠٠", "۱۲ ۵۰۰".
// Surrounding whitespace and direction marks are ignored.
//
// When separators are used, every group after the first must have exactly
// three digits, so a slip such as "12,50" is refused rather than guessed.
// A decimal point ("." or the Arabic decimal separator ٫) is refused too:
// "12.500" means twelve and a half to some people and twelve thousand five
// hundred to others, and the amounts Mahalle asks for are whole numbers.
//
// It returns an error wrapping ErrNotNumber when s is empty or holds
// anything else (letters, words such as «هزار», units, decimals), and one
// wrapping ErrOutOfRange when the number does not fit in an int64.
func ParseNumber(s string) (int64, error) {
	s = Normalize(s)
	if s == "" {
		return 0, fmt.Errorf("persian: parse number: empty: %w", ErrNotNumber)
	}
	neg := false
	switch r, size := utf8.DecodeRuneInString(s); r {
	case '-', '−':
		neg = true
		s = s[size:]
	case '+':
		s = s[size:]
	}
	var (
		u       uint64
		ndigits int // digits read
		group   int // digits in the current group
		grouped bool
		over    bool
		prevSep bool
	)
	for _, r := range s {
		if d, ok := digitValue(r); ok {
			if !over {
				if u > (math.MaxUint64-uint64(d))/10 {
					over = true
				} else {
					u = u*10 + uint64(d)
				}
			}
			ndigits++
			group++
			prevSep = false
			continue
		}
		if !isGroupSep(r) || ndigits == 0 || prevSep {
			return 0, fmt.Errorf("persian: parse number: unexpected %q: %w", r, ErrNotNumber)
		}
		if grouped && group != 3 || !grouped && group > 3 {
			return 0, fmt.Errorf("persian: parse number: digit groups are not thousands: %w", ErrNotNumber)
		}
		grouped, prevSep, group = true, true, 0
	}
	if ndigits == 0 || prevSep {
		return 0, fmt.Errorf("persian: parse number: no digits: %w", ErrNotNumber)
	}
	if grouped && group != 3 {
		return 0, fmt.Errorf("persian: parse number: digit groups are not thousands: %w", ErrNotNumber)
	}
	switch {
	case over:
	case neg && u <= 1<<63:
		return int64(-u), nil // -u wraps to the two's complement, right for 1<<63 too
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	}
	return 0, fmt.Errorf("persian: parse number: beyond int64: %w", ErrOutOfRange)
}

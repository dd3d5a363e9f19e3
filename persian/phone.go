package persian

import (
	"fmt"
	"strings"
)

// phoneDigits returns the digits of a phone number as ASCII and whether it
// began with "+". Besides digits of any of the three sets it allows spaces,
// dashes, dots and parentheses anywhere, and one "+" before the first digit;
// ok is false for anything else (letters, a second "+", no digits).
func phoneDigits(s string) (digits string, plus, ok bool) {
	s = Normalize(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if d, isDigit := digitValue(r); isDigit {
			b.WriteByte(byte('0' + d))
			continue
		}
		switch r {
		case ' ', '-', '.', '(', ')', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		case '+':
			if plus || b.Len() > 0 {
				return "", false, false
			}
			plus = true
		default:
			return "", false, false
		}
	}
	if b.Len() == 0 {
		return "", false, false
	}
	return b.String(), plus, true
}

// international strips the "00" international prefix, which means what a
// leading "+" means.
func international(digits string, plus bool) (string, bool) {
	if !plus {
		if rest, ok := strings.CutPrefix(digits, "00"); ok {
			return rest, true
		}
	}
	return digits, plus
}

// iranMobile returns the ten national digits (9xxxxxxxxx) of an Iranian
// mobile number given as ASCII digits, with or without the country code
// (+98 or 0098, each perhaps followed by the trunk 0 by mistake, or a bare
// 98) or the trunk 0.
func iranMobile(digits string, plus bool) (string, bool) {
	digits, plus = international(digits, plus)
	switch {
	case plus:
		rest, ok := strings.CutPrefix(digits, "98")
		if !ok {
			return "", false
		}
		digits = strings.TrimPrefix(rest, "0") // "+98 0912…" is a common slip
	case len(digits) == 12 && strings.HasPrefix(digits, "98"):
		digits = digits[2:]
	case len(digits) == 11 && digits[0] == '0':
		digits = digits[1:]
	}
	if len(digits) != 10 || digits[0] != '9' {
		return "", false
	}
	return digits, true
}

// ParseMobile reads an Iranian mobile number and returns it in E.164 form,
// "+989123456789". It accepts "09123456789", "9123456789",
// "+989123456789", "00989123456789", "989123456789", and "+98 0912…" or
// "0098 0912…" (the trunk 0 kept by mistake), in
// any of the three digit sets, with spaces, dashes, dots or parentheses
// between the digits and direction marks around them.
//
// It returns an error wrapping ErrNotMobile for anything that is not 9
// followed by nine digits after the country code or trunk prefix: other
// countries' numbers, landlines (021…), too few or too many digits, letters.
// The error text never contains the number.
func ParseMobile(s string) (string, error) {
	digits, plus, ok := phoneDigits(s)
	if !ok {
		return "", fmt.Errorf("persian: parse mobile: not a phone number: %w", ErrNotMobile)
	}
	national, ok := iranMobile(digits, plus)
	if !ok {
		return "", fmt.Errorf("persian: parse mobile: not 9 and nine digits after the prefix: %w", ErrNotMobile)
	}
	return "+98" + national, nil
}

// NormalizePhone reads the phone number of a contact shared on Telegram or
// Bale, which arrives as "989123456789", "+989123456789", "+98 912 …" or,
// from some clients, "09123456789", and returns it in E.164 form so that it
// can be matched against a roster stored with ParseMobile.
//
// An Iranian mobile number (any form ParseMobile accepts) becomes
// "+989…". Any other number becomes "+" and its digits when, after an
// optional "+" or "00", it has 8 to 15 digits and does not begin with 0.
// A bare ten-digit number beginning with 9 is read as an Iranian mobile
// without its 0, not as a foreign number, since that is what Iranians type.
//
// It returns an error wrapping ErrNotPhone otherwise, e.g. for a national
// number that is not a mobile ("02112345678"), which has no country code.
func NormalizePhone(s string) (string, error) {
	digits, plus, ok := phoneDigits(s)
	if !ok {
		return "", fmt.Errorf("persian: normalize phone: %w", ErrNotPhone)
	}
	if national, ok := iranMobile(digits, plus); ok {
		return "+98" + national, nil
	}
	if digits, plus = international(digits, plus); !plus && digits[0] == '0' {
		return "", fmt.Errorf("persian: normalize phone: national number without country code: %w", ErrNotPhone)
	}
	if n := len(digits); n < 8 || n > 15 || digits[0] == '0' {
		return "", fmt.Errorf("persian: normalize phone: not 8 to 15 digits after the country prefix: %w", ErrNotPhone)
	}
	return "+" + digits, nil
}

// FormatMobile writes a phone as a person reads it: an Iranian mobile in
// E.164 ("+989123456789") as "۰۹۱۲۳۴۵۶۷۸۹", any other in Persian digits.
func FormatMobile(e164 string) string {
	if national, ok := strings.CutPrefix(e164, "+989"); ok {
		return Digits("09" + national)
	}
	return Digits(e164)
}

// MaskMobile writes a phone with its middle digits hidden, for a number the
// reader did not give: "+989123456789" as "۰۹۱۲•••۶۷۸۹".
func MaskMobile(e164 string) string {
	r := []rune(FormatMobile(e164))
	if len(r) < 9 {
		return string(r)
	}
	return string(r[:4]) + "•••" + string(r[len(r)-4:])
}

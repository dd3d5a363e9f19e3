package persian

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// invisible are characters Normalize must never leave behind.
const invisible = "\u0640\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad\u0643\u064a\u0649\x00\t\r"

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "سلام", "می‌خواهم", "خانه‌ها", "كيف حالك يا علي", "\u200fسلام\u200f",
		"  a\u200c\u200cb  ", "\u200c", "خانه\u200c ها", "👨\u200d👩\u200d👧", "🏳\ufe0f\u200d🌈",
		"یک\r\n\r\n\r\nدو", "سـلام", "\ufefb\ufee3", "a\xffb", "\u3164", "x\u200d\u200c\u200dy",
		"۱۲٬۵۰۰ تومان", "ب\u200e\u200cپ", "\u200c\u200e\u200c", "ا\u200c\u0085ب",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Normalize(%+q) = %+q, not valid UTF-8", s, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("Normalize not idempotent on %+q: %+q then %+q", s, got, again)
		}
		if i := strings.IndexAny(got, invisible); i >= 0 {
			t.Fatalf("Normalize(%+q) = %+q, still holds %+q", s, got, got[i:])
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("Normalize(%+q) = %+q, not trimmed", s, got)
		}
		if strings.Contains(got, "  ") || strings.Contains(got, "\n\n\n") || strings.Contains(got, " \n") || strings.Contains(got, "\n ") {
			t.Fatalf("Normalize(%+q) = %+q, whitespace not collapsed", s, got)
		}
		runes := []rune(got)
		for i, r := range runes {
			if r == zwnj && (i == 0 || i == len(runes)-1 || !isLetterOrMark(runes[i-1]) || !isLetterOrMark(runes[i+1])) {
				t.Fatalf("Normalize(%+q) = %+q, ZWNJ at %d not between letters", s, got, i)
			}
		}
		if key := SearchKey(s); key != SearchKey(key) {
			t.Fatalf("SearchKey not idempotent on %+q: %+q then %+q", s, key, SearchKey(key))
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{
		"12500", "۱۲٬۵۰۰", "12,500", "١٢٥٠٠", "۱۲ ۵۰۰", "12.500", "-۵۰۰", "−1", "+0",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "12,50", "",
		"۱۲ هزار", "1'000'000", "\u200f۵۰۰\u200f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			if !errors.Is(err, ErrNotNumber) && !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("ParseNumber(%+q) error %v wraps no sentinel", s, err)
			}
			return
		}
		shown := FormatNumber(n)
		back, err := ParseNumber(shown)
		if err != nil || back != n {
			t.Fatalf("ParseNumber(%+q) = %d; FormatNumber = %q; reads back as %d, %v", s, n, shown, back, err)
		}
		if back, err := ParseNumber(ASCIIDigits(shown)); err != nil || back != n {
			t.Fatalf("ParseNumber(ASCIIDigits(%q)) = %d, %v; want %d", shown, back, err, n)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"۱۴۰۴/۹/۵", "1404-09-05", "1404/9/5", "۱۴۰۴.۰۹.۰۵", "امروز", "دیروز", "پریروز",
		"5/9/1404", "1403/12/30", "1404/12/30", "1404/7/31", "۵ آذر ۱۴۰۴", "1299/1/1",
		"1400/01/02", "", "۱۴۰۴ / ۹ / ۵", "1500/12/29",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDate(s, fixedNow)
		if err != nil {
			if !errors.Is(err, ErrNotDate) && !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("ParseDate(%+q) error %v wraps no sentinel", s, err)
			}
			return
		}
		if got.Location() != Tehran {
			t.Fatalf("ParseDate(%+q) = %v, not in Tehran", s, got)
		}
		if y, m, d := got.Date(); !startOfDay(y, m, d).Equal(got) {
			t.Fatalf("ParseDate(%+q) = %v, not the start of a day", s, got)
		}
		for _, shown := range []string{FormatDateNumeric(got), FormatDate(got)} {
			back, err := ParseDate(shown, fixedNow)
			if err != nil || !back.Equal(got) {
				t.Fatalf("ParseDate(%+q) = %v; shown as %q; reads back as %v, %v", s, got, shown, back, err)
			}
		}
	})
}

func FuzzParseMobile(f *testing.F) {
	for _, s := range []string{
		"09123456789", "9123456789", "+989123456789", "00989123456789", "989123456789",
		"۰۹۱۲۳۴۵۶۷۸۹", "٠٩١٢٣٤٥٦٧٨٩", "0912 345 6789", "(0912) 345-6789", "+98 0912 345 6789",
		"02112345678", "+14155552671", "", "+", "0912+3456789", "\u200e+98 912 345 6789",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseMobile(s); err == nil {
			if again, err := ParseMobile(got); err != nil || again != got {
				t.Fatalf("ParseMobile(%+q) = %q; again: %q, %v", s, got, again, err)
			}
			if len(got) != 13 || !strings.HasPrefix(got, "+989") {
				t.Fatalf("ParseMobile(%+q) = %q, not +989 and nine digits", s, got)
			}
			if phone, err := NormalizePhone(s); err != nil || phone != got {
				t.Fatalf("NormalizePhone(%+q) = %q, %v; ParseMobile gave %q", s, phone, err, got)
			}
		} else if !errors.Is(err, ErrNotMobile) {
			t.Fatalf("ParseMobile(%+q) error %v wraps no ErrNotMobile", s, err)
		}
		if got, err := NormalizePhone(s); err == nil {
			if again, err := NormalizePhone(got); err != nil || again != got {
				t.Fatalf("NormalizePhone(%+q) = %q; again: %q, %v", s, got, again, err)
			}
			if n := len(got) - 1; got[0] != '+' || n < 8 || n > 15 || got[1] == '0' {
				t.Fatalf("NormalizePhone(%+q) = %q, not + and 8–15 digits", s, got)
			}
		} else if !errors.Is(err, ErrNotPhone) {
			t.Fatalf("NormalizePhone(%+q) error %v wraps no ErrNotPhone", s, err)
		}
	})
}

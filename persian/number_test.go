package persian

import (
	"errors"
	"math"
	"testing"
)

func TestASCIIDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc 123", "abc 123"},
		{"۰۱۲۳۴۵۶۷۸۹", "0123456789"},
		{"٠١٢٣٤٥٦٧٨٩", "0123456789"},
		{"محله ۱۲ و ١٣ و 14", "محله 12 و 13 و 14"},
		{"۱۲٬۵۰۰", "12٬500"},
		{"\xff۱", "\xff1"},
	}
	for _, tt := range tests {
		if got := ASCIIDigits(tt.in); got != tt.want {
			t.Errorf("ASCIIDigits(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = ASCIIDigits("no digits here, سلام") }); n != 0 {
		t.Errorf("ASCIIDigits without Persian digits allocates %v times, want 0", n)
	}
}

func TestDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"0123456789", "۰۱۲۳۴۵۶۷۸۹"},
		{"٤٥٦", "۴۵۶"},
		{"۷۸۹", "۷۸۹"},
		{"3 عکس", "۳ عکس"},
		{"ساعت 14:30", "ساعت ۱۴:۳۰"},
		{"a\xff1", "a\xff۱"},
	}
	for _, tt := range tests {
		if got := Digits(tt.in); got != tt.want {
			t.Errorf("Digits(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "۰"},
		{7, "۷"},
		{999, "۹۹۹"},
		{1000, "۱٬۰۰۰"},
		{12500, "۱۲٬۵۰۰"},
		{-12500, "-۱۲٬۵۰۰"},
		{1234567, "۱٬۲۳۴٬۵۶۷"},
		{100000000, "۱۰۰٬۰۰۰٬۰۰۰"},
		{math.MaxInt64, "۹٬۲۲۳٬۳۷۲٬۰۳۶٬۸۵۴٬۷۷۵٬۸۰۷"},
		{math.MinInt64, "-۹٬۲۲۳٬۳۷۲٬۰۳۶٬۸۵۴٬۷۷۵٬۸۰۸"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr error
	}{
		{"ascii", "12500", 12500, nil},
		{"persian digits", "۱۲۵۰۰", 12500, nil},
		{"arabic-indic digits", "١٢٥٠٠", 12500, nil},
		{"mixed digit sets", "۱2٥00", 12500, nil},
		{"persian thousands separator", "۱۲٬۵۰۰", 12500, nil},
		{"ascii comma", "12,500", 12500, nil},
		{"arabic comma", "۱۲،۵۰۰", 12500, nil},
		{"space groups", "۱۲ ۵۰۰", 12500, nil},
		{"nbsp groups", "1\u00a0250\u00a0000", 1250000, nil},
		{"thin space groups", "1\u2009250", 1250, nil},
		{"apostrophe groups", "1'250'000", 1250000, nil},
		{"millions", "۱٬۲۵۰٬۰۰۰", 1250000, nil},
		{"zero", "۰", 0, nil},
		{"leading zeros", "007", 7, nil},
		{"surrounding space and rlm", " \u200f۵۰۰\u200f ", 500, nil},
		{"minus", "-۵۰۰", -500, nil},
		{"unicode minus", "−500", -500, nil},
		{"plus", "+500", 500, nil},
		{"format output", FormatNumber(-987654321), -987654321, nil},
		{"max", "9223372036854775807", math.MaxInt64, nil},
		{"min", "-9,223,372,036,854,775,808", math.MinInt64, nil},
		{"empty", "", 0, ErrNotNumber},
		{"only spaces", "  \u200c ", 0, ErrNotNumber},
		{"letters", "۱۲a", 0, ErrNotNumber},
		{"word", "دوازده", 0, ErrNotNumber},
		{"unit", "۵۰۰ تومان", 0, ErrNotNumber},
		{"thousand word", "۱۲ هزار", 0, ErrNotNumber},
		{"decimal point", "12.500", 0, ErrNotNumber},
		{"arabic decimal separator", "۱۲٫۵", 0, ErrNotNumber},
		{"short group", "12,50", 0, ErrNotNumber},
		{"long group", "12,5000", 0, ErrNotNumber},
		{"long first group", "1234,567", 0, ErrNotNumber},
		{"space short group", "12 5", 0, ErrNotNumber},
		{"double separator", "12,,500", 0, ErrNotNumber},
		{"leading separator", ",500", 0, ErrNotNumber},
		{"trailing separator", "500,", 0, ErrNotNumber},
		{"sign only", "-", 0, ErrNotNumber},
		{"sign then space", "- 500", 0, ErrNotNumber},
		{"double sign", "--5", 0, ErrNotNumber},
		{"trailing minus", "500-", 0, ErrNotNumber},
		{"overflow", "9223372036854775808", 0, ErrOutOfRange},
		{"negative overflow", "-9223372036854775809", 0, ErrOutOfRange},
		{"far overflow", "99999999999999999999999999", 0, ErrOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNumber(tt.in)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("ParseNumber(%+q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseNumber(%+q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

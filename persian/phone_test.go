package persian

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMobile(t *testing.T) {
	const want = "+989123456789"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"national", "09123456789", want, nil},
		{"without zero", "9123456789", want, nil},
		{"e164", "+989123456789", want, nil},
		{"double zero", "00989123456789", want, nil},
		{"country code without plus", "989123456789", want, nil},
		{"plus and trunk zero", "+98 0912 345 6789", want, nil},
		{"persian digits", "۰۹۱۲۳۴۵۶۷۸۹", want, nil},
		{"arabic-indic digits", "٠٩١٢٣٤٥٦٧٨٩", want, nil},
		{"spaces", "0912 345 6789", want, nil},
		{"dashes", "۰۹۱۲-۳۴۵-۶۷۸۹", want, nil},
		{"parentheses", "(0912) 345-6789", want, nil},
		{"international with spaces", "+98 912 345 67 89", want, nil},
		{"dots", "0912.345.6789", want, nil},
		{"double zero and trunk zero", "0098 0912 345 6789", want, nil},
		{"en dash", "0912–345–6789", want, nil},
		{"lrm marks", "\u200e+98 912 345 6789\u200e", want, nil},
		{"nbsp", "0912\u00a0345\u00a06789", want, nil},
		{"new prefix 099", "09901234567", "+989901234567", nil},

		{"empty", "", "", ErrNotMobile},
		{"landline", "02112345678", "", ErrNotMobile},
		{"landline international", "+982112345678", "", ErrNotMobile},
		{"too short", "0912345678", "", ErrNotMobile},
		{"too long", "091234567890", "", ErrNotMobile},
		{"foreign", "+14155552671", "", ErrNotMobile},
		{"foreign 9", "+919123456789", "", ErrNotMobile},
		{"letters", "0912abc4567", "", ErrNotMobile},
		{"plus in the middle", "0912+3456789", "", ErrNotMobile},
		{"two plus", "++989123456789", "", ErrNotMobile},
		{"only punctuation", "() - ", "", ErrNotMobile},
		{"slash", "0912/345/6789", "", ErrNotMobile},
		{"triple zero", "000989123456789", "", ErrNotMobile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMobile(tt.in)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("ParseMobile(%+q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseMobile(%+q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "345") {
				t.Errorf("ParseMobile error %q contains the number", err)
			}
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"telegram iranian", "989123456789", "+989123456789", nil},
		{"telegram iranian with plus", "+989123456789", "+989123456789", nil},
		{"spaced iranian", "+98 912 345 6789", "+989123456789", nil},
		{"bale national", "09123456789", "+989123456789", nil},
		{"bare ten digits", "9123456789", "+989123456789", nil},
		{"double zero and trunk zero", "009809123456789", "+989123456789", nil},
		{"iranian landline international", "+982112345678", "+982112345678", nil},
		{"iranian landline without plus", "982112345678", "+982112345678", nil},
		{"us", "14155552671", "+14155552671", nil},
		{"us with plus", "+1 (415) 555-2671", "+14155552671", nil},
		{"uk double zero", "00447911123456", "+447911123456", nil},
		{"germany", "+49 30 123456", "+4930123456", nil},
		{"eight digits", "+96512345", "+96512345", nil},
		{"fifteen digits", "123456789012345", "+123456789012345", nil},

		{"empty", "", "", ErrNotPhone},
		{"national landline", "02112345678", "", ErrNotPhone},
		{"seven digits", "+1234567", "", ErrNotPhone},
		{"sixteen digits", "+1234567890123456", "", ErrNotPhone},
		{"country code zero", "+0123456789", "", ErrNotPhone},
		{"triple zero", "000123456789", "", ErrNotPhone},
		{"letters", "+1 415 CALL NOW", "", ErrNotPhone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("NormalizePhone(%+q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%+q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizePhoneMatchesParseMobile(t *testing.T) {
	// A roster entry typed by a coordinator and the contact Telegram shares
	// for the same person must compare equal.
	roster, err := ParseMobile("۰۹۱۲ ۳۴۵ ۶۷۸۹")
	if err != nil {
		t.Fatal(err)
	}
	for _, shared := range []string{"989123456789", "+989123456789", "09123456789"} {
		got, err := NormalizePhone(shared)
		if err != nil || got != roster {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", shared, got, err, roster)
		}
	}
}

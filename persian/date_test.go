package persian

import (
	"errors"
	"testing"
	"time"

	jalaali "github.com/jalaali/go-jalaali"
)

// fixedNow is 4 آذر 1405, noon in Tehran.
var fixedNow = time.Date(2026, time.November, 25, 12, 0, 0, 0, Tehran)

func tehranDay(t *testing.T, y int, m time.Month, d int) time.Time {
	t.Helper()
	return time.Date(y, m, d, 0, 0, 0, 0, Tehran)
}

func TestTehran(t *testing.T) {
	if got, want := Tehran.String(), "Asia/Tehran"; got != want {
		t.Errorf("Tehran = %q, want %q", got, want)
	}
	if _, offset := fixedNow.Zone(); offset != 3*3600+1800 {
		t.Errorf("Tehran offset in 2026 = %ds, want +03:30", offset)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		now     time.Time
		want    time.Time
		wantErr error
	}{
		{"persian digits slash", "۱۴۰۴/۹/۵", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"ascii dash padded", "1404-09-05", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"ascii slash", "1404/9/5", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"dots", "۱۴۰۴.۰۹.۰۵", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"arabic decimal separator", "۱۴۰۴٫۹٫۵", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"arabic-indic digits", "١٤٠٤/٩/٥", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"spaces around separators", " ۱۴۰۴ / ۹ / ۵ ", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"rlm pasted", "\u200f۱۴۰۴/۰۹/۰۵\u200f", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"month name", "۵ آذر ۱۴۰۴", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"month name without madda", "5 اذر 1404", fixedNow, tehranDay(t, 2025, 11, 26), nil},
		{"month name arabic keyboard", "۱ ارديبهشت ۱۴۰۴", fixedNow, tehranDay(t, 2025, 4, 21), nil},
		{"amordad", "۱ امرداد ۱۴۰۴", fixedNow, tehranDay(t, 2025, 7, 23), nil},
		{"first of farvardin", "1404/1/1", fixedNow, tehranDay(t, 2025, 3, 21), nil},
		{"shahrivar 31", "1404/6/31", fixedNow, tehranDay(t, 2025, 9, 22), nil},
		{"mehr 30", "1404/7/30", fixedNow, tehranDay(t, 2025, 10, 22), nil},
		{"esfand 30 in leap 1403", "1403/12/30", fixedNow, tehranDay(t, 2025, 3, 20), nil},
		{"esfand 29 in 1404", "1404/12/29", fixedNow, tehranDay(t, 2026, 3, 20), nil},
		{"today", "امروز", fixedNow, tehranDay(t, 2026, 11, 25), nil},
		{"yesterday", "دیروز", fixedNow, tehranDay(t, 2026, 11, 24), nil},
		{"yesterday arabic yeh", "ديروز", fixedNow, tehranDay(t, 2026, 11, 24), nil},
		{"day before yesterday", " پریروز ", fixedNow, tehranDay(t, 2026, 11, 23), nil},
		{"day before yesterday zwnj", "پری‌روز", fixedNow, tehranDay(t, 2026, 11, 23), nil},
		{"today just after midnight in tehran", "امروز", time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC), tehranDay(t, 2026, 11, 25), nil},
		{"yesterday across a month", "دیروز", time.Date(2026, 3, 1, 8, 0, 0, 0, Tehran), tehranDay(t, 2026, 2, 28), nil},
		{"year 1300", "1300/1/1", fixedNow, tehranDay(t, 1921, 3, 21), nil},
		{"year 1500", "1500/1/1", fixedNow, tehranDay(t, 2121, 3, 21), nil},
		{"clocks skipped midnight", "1400/01/02", fixedNow, time.Date(2021, 3, 22, 1, 0, 0, 0, Tehran), nil},

		{"esfand 30 in 1404", "1404/12/30", fixedNow, time.Time{}, ErrOutOfRange},
		{"mehr 31", "1404/7/31", fixedNow, time.Time{}, ErrOutOfRange},
		{"bahman 31", "۱۴۰۴/۱۱/۳۱", fixedNow, time.Time{}, ErrOutOfRange},
		{"farvardin 32", "1404/1/32", fixedNow, time.Time{}, ErrOutOfRange},
		{"day 0", "1404/1/0", fixedNow, time.Time{}, ErrOutOfRange},
		{"month 13", "1404/13/1", fixedNow, time.Time{}, ErrOutOfRange},
		{"month 0", "1404/0/1", fixedNow, time.Time{}, ErrOutOfRange},
		{"year 1299", "1299/12/29", fixedNow, time.Time{}, ErrOutOfRange},
		{"year 1501", "1501/1/1", fixedNow, time.Time{}, ErrOutOfRange},
		{"gregorian year", "2025/11/26", fixedNow, time.Time{}, ErrOutOfRange},
		{"month name day 31 of azar", "۳۱ آذر ۱۴۰۴", fixedNow, time.Time{}, ErrOutOfRange},

		{"empty", "", fixedNow, time.Time{}, ErrNotDate},
		{"day first", "5/9/1404", fixedNow, time.Time{}, ErrNotDate},
		{"day first persian", "۰۵-۰۹-۱۴۰۴", fixedNow, time.Time{}, ErrNotDate},
		{"two-digit year", "04/9/5", fixedNow, time.Time{}, ErrNotDate},
		{"three-digit year", "404/9/5", fixedNow, time.Time{}, ErrNotDate},
		{"mixed separators", "1404/09-05", fixedNow, time.Time{}, ErrNotDate},
		{"spaces only as separators", "1404 9 5", fixedNow, time.Time{}, ErrNotDate},
		{"two fields", "1404/9", fixedNow, time.Time{}, ErrNotDate},
		{"three-digit month", "1404/009/5", fixedNow, time.Time{}, ErrNotDate},
		{"unknown month", "۵ آذرماه ۱۴۰۴", fixedNow, time.Time{}, ErrNotDate},
		{"month name without year", "۵ آذر", fixedNow, time.Time{}, ErrNotDate},
		{"tomorrow is not read", "فردا", fixedNow, time.Time{}, ErrNotDate},
		{"text", "هفته پیش", fixedNow, time.Time{}, ErrNotDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.now)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("ParseDate(%+q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseDate(%+q) = %v, want %v", tt.in, got, tt.want)
			}
			if err == nil && got.Location() != Tehran {
				t.Errorf("ParseDate(%+q) location = %v, want Tehran", tt.in, got.Location())
			}
		})
	}
}

func TestFormatDate(t *testing.T) {
	tests := []struct {
		name                    string
		in                      time.Time
		date, numeric, dateTime string
	}{
		{"afternoon", time.Date(2025, 11, 26, 14, 30, 0, 0, Tehran), "۵ آذر ۱۴۰۴", "۱۴۰۴/۰۹/۰۵", "۵ آذر ۱۴۰۴، ساعت ۱۴:۳۰"},
		{"utc is shown in tehran", time.Date(2025, 11, 25, 21, 5, 0, 0, time.UTC), "۵ آذر ۱۴۰۴", "۱۴۰۴/۰۹/۰۵", "۵ آذر ۱۴۰۴، ساعت ۰۰:۳۵"},
		{"fixed now", fixedNow, "۴ آذر ۱۴۰۵", "۱۴۰۵/۰۹/۰۴", "۴ آذر ۱۴۰۵، ساعت ۱۲:۰۰"},
		{"first of farvardin", time.Date(2025, 3, 21, 9, 0, 0, 0, Tehran), "۱ فروردین ۱۴۰۴", "۱۴۰۴/۰۱/۰۱", "۱ فروردین ۱۴۰۴، ساعت ۰۹:۰۰"},
		{"leap esfand 30", time.Date(2025, 3, 20, 23, 59, 0, 0, Tehran), "۳۰ اسفند ۱۴۰۳", "۱۴۰۳/۱۲/۳۰", "۳۰ اسفند ۱۴۰۳، ساعت ۲۳:۵۹"},
		{"zero time falls back to gregorian", time.Time{}, "۰۰۰۱-۰۱-۰۱", "۰۰۰۱-۰۱-۰۱", "۰۰۰۱-۰۱-۰۱، ساعت ۰۳:۲۵"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatDate(tt.in); got != tt.date {
				t.Errorf("FormatDate(%v) = %q, want %q", tt.in, got, tt.date)
			}
			if got := FormatDateNumeric(tt.in); got != tt.numeric {
				t.Errorf("FormatDateNumeric(%v) = %q, want %q", tt.in, got, tt.numeric)
			}
			if got := FormatDateTime(tt.in); got != tt.dateTime {
				t.Errorf("FormatDateTime(%v) = %q, want %q", tt.in, got, tt.dateTime)
			}
		})
	}
}

func TestFormatParseDateRoundTrip(t *testing.T) {
	// The first two and last two days of every month from 1300 to 1500 (which
	// covers every day Iran moved its clocks, and every Esfand 29/30) read back
	// from both of their written forms.
	for y := minYear; y <= maxYear; y++ {
		for m := 1; m <= 12; m++ {
			length, err := jalaali.MonthLength(y, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []int{1, 2, length - 1, length} {
				gy, gm, gd, err := jalaali.ToGregorian(y, jalaali.Month(m), d)
				if err != nil {
					t.Fatal(err)
				}
				want := startOfDay(gy, gm, gd)
				if got := want.In(Tehran); got.Day() != gd || got.Hour() > 1 {
					t.Fatalf("startOfDay(%d-%d-%d) = %v", gy, gm, gd, got)
				}
				for _, s := range []string{FormatDateNumeric(want), FormatDate(want), FormatDateNumeric(want.Add(22 * time.Hour))} {
					got, err := ParseDate(s, fixedNow)
					if err != nil || !got.Equal(want) {
						t.Fatalf("ParseDate(%q) = %v, %v; want %v", s, got, err, want)
					}
				}
			}
		}
	}
}

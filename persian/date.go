package persian

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Tehran must load even on a machine without zoneinfo

	jalaali "github.com/jalaali/go-jalaali"
)

// Tehran is the Asia/Tehran time zone, in which Mahalle reads and shows
// every date. The embedded tz database makes loading it succeed everywhere;
// the fixed +03:30 zone is only a last resort (Iran has kept +03:30 all
// year round since 2022).
var Tehran = loadTehran()

func loadTehran() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tehran"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Tehran", 3*60*60+30*60)
}

// Years ParseDate accepts.
const (
	minYear = 1300
	maxYear = 1500
)

// monthNames are the Jalali months, Farvardin first.
var monthNames = [12]string{
	"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
	"مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
}

// monthByKey finds a month by the SearchKey of its name, so that «اذر» and
// «آذر», or «ارديبهشت» typed on an Arabic keyboard, all match.
var monthByKey = func() map[string]int {
	m := make(map[string]int, len(monthNames)+1)
	for i, name := range monthNames {
		m[SearchKey(name)] = i + 1
	}
	m[SearchKey("امرداد")] = 5 // the older, still used, name of Mordad
	return m
}()

// relativeDays are the words ParseDate reads as a day counted back from now.
var relativeDays = map[string]int{
	SearchKey("امروز"):  0,
	SearchKey("دیروز"):  1,
	SearchKey("پریروز"): 2,
}

// numericDate matches a date written with digits and one of the separators
// / - . ٫ (after ASCIIDigits and Normalize).
var numericDate = regexp.MustCompile(`^([0-9]{1,4}) ?([/.٫-]) ?([0-9]{1,2}) ?([/.٫-]) ?([0-9]{1,4})$`)

// ParseDate reads a Jalali date and returns the start of that day in
// Asia/Tehran (midnight; 01:00 on the few historical days when clocks
// skipped midnight), with Location Tehran.
//
// It accepts, in any of the three digit sets and with any surrounding
// whitespace or direction marks:
//   - year, month, day separated by "/", "-", "." or "٫", the same one
//     twice, with optional spaces around it: "۱۴۰۴/۹/۵", "1404-09-05",
//     "۱۴۰۴.۰۹.۰۵", "1404 / 9 / 5". The year has four digits.
//   - day, month name, year: "۵ آذر ۱۴۰۴" (what FormatDate shows), with
//     Arabic-keyboard letters or آ typed as ا.
//   - «امروز», «دیروز», «پریروز»: today, yesterday and the day before, in
//     Tehran, counted from now.
//
// Day-first numeric dates ("5/9/1404") are refused: the order is ambiguous
// and guessing it would store a wrong date. Dates in the future are not
// refused here; whether they make sense is the caller's decision.
//
// It returns an error wrapping ErrNotDate when s has none of these shapes
// (including day-first and two-digit years), and one wrapping ErrOutOfRange
// when the shape is right but the year is outside 1300–1500, the month is
// not 1–12, or the day is beyond the month's length in that year (months
// 1–6 have 31 days, 7–11 have 30, Esfand 30 in a leap year and 29 otherwise).
func ParseDate(s string, now time.Time) (time.Time, error) {
	s = Normalize(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("persian: parse date: empty: %w", ErrNotDate)
	}
	if back, ok := relativeDays[SearchKey(s)]; ok {
		y, m, d := now.In(Tehran).Date()
		y, m, d = time.Date(y, m, d-back, 12, 0, 0, 0, time.UTC).Date()
		return startOfDay(y, m, d), nil
	}
	y, m, d, err := splitDate(ASCIIDigits(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("persian: parse date: %w", err)
	}
	if y < minYear || y > maxYear {
		return time.Time{}, fmt.Errorf("persian: parse date: year %d not in %d–%d: %w", y, minYear, maxYear, ErrOutOfRange)
	}
	if m < 1 || m > 12 {
		return time.Time{}, fmt.Errorf("persian: parse date: month %d: %w", m, ErrOutOfRange)
	}
	length, err := jalaali.MonthLength(y, m)
	if err != nil {
		return time.Time{}, fmt.Errorf("persian: parse date: month length: %w", ErrOutOfRange)
	}
	if d < 1 || d > length {
		return time.Time{}, fmt.Errorf("persian: parse date: day %d of month %d of %d (%d days): %w", d, m, y, length, ErrOutOfRange)
	}
	gy, gm, gd, err := jalaali.ToGregorian(y, jalaali.Month(m), d)
	if err != nil {
		return time.Time{}, fmt.Errorf("persian: parse date: %w", ErrOutOfRange)
	}
	return startOfDay(gy, gm, gd), nil
}

// splitDate reads year, month and day from a normalised date with ASCII
// digits, without checking their ranges.
func splitDate(s string) (y, m, d int, err error) {
	if g := numericDate.FindStringSubmatch(s); g != nil {
		switch {
		case g[2] != g[4]:
			return 0, 0, 0, fmt.Errorf("mixed separators: %w", ErrNotDate)
		case len(g[1]) == 4 && len(g[5]) <= 2:
			return atoi(g[1]), atoi(g[3]), atoi(g[5]), nil
		case len(g[5]) == 4 && len(g[1]) <= 2:
			return 0, 0, 0, fmt.Errorf("day first is ambiguous: %w", ErrNotDate)
		}
		return 0, 0, 0, fmt.Errorf("year must have four digits: %w", ErrNotDate)
	}
	f := strings.Fields(s)
	if len(f) == 3 && isDigits(f[0], 1, 2) && isDigits(f[2], 4, 4) {
		if month, ok := monthByKey[SearchKey(f[1])]; ok {
			return atoi(f[2]), month, atoi(f[0]), nil
		}
	}
	return 0, 0, 0, ErrNotDate
}

// isDigits reports whether s is min to max ASCII digits.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi reads at most four ASCII digits already checked by the caller.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// startOfDay returns the first instant of the Gregorian day y-m-d in Tehran.
// Midnight did not exist on the days Iran moved its clocks forward at 00:00;
// there the day starts at 01:00.
func startOfDay(y int, m time.Month, d int) time.Time {
	for h := 0; h < 3; h++ {
		t := time.Date(y, m, d, h, 0, 0, 0, Tehran)
		if ty, tm, td := t.Date(); ty == y && tm == m && td == d {
			return t
		}
	}
	return time.Date(y, m, d, 0, 0, 0, 0, Tehran)
}

// toJalali returns t's Jalali date in Tehran; ok is false for times so far
// from ours that the calendar conversion does not cover them.
func toJalali(t time.Time) (y, m, d int, ok bool) {
	t = t.In(Tehran)
	jy, jm, jd, err := jalaali.ToJalaali(t.Year(), t.Month(), t.Day())
	if err != nil || jm < 1 || jm > 12 {
		return 0, 0, 0, false
	}
	return jy, int(jm), jd, true
}

// FormatDate shows t's day in the Jalali calendar in Tehran, in Persian
// digits with the month's name: "۵ آذر ۱۴۰۴". A time the Jalali conversion
// does not cover (thousands of years away, or the zero time.Time) is shown
// as its Gregorian date, "۰۰۰۱-۰۱-۰۱".
func FormatDate(t time.Time) string {
	y, m, d, ok := toJalali(t)
	if !ok {
		return Digits(t.In(Tehran).Format("2006-01-02"))
	}
	return Digits(strconv.Itoa(d)) + " " + monthNames[m-1] + " " + Digits(strconv.Itoa(y))
}

// FormatDateNumeric shows t's day in the Jalali calendar in Tehran as
// year/month/day in Persian digits, month and day with two digits:
// "۱۴۰۴/۰۹/۰۵". ParseDate reads it back. Times outside the conversion's
// range are shown as in FormatDate.
func FormatDateNumeric(t time.Time) string {
	y, m, d, ok := toJalali(t)
	if !ok {
		return Digits(t.In(Tehran).Format("2006-01-02"))
	}
	return Digits(fmt.Sprintf("%04d/%02d/%02d", y, m, d))
}

// FormatDateTime shows t in Tehran as FormatDate does, followed by the
// 24-hour clock time: "۵ آذر ۱۴۰۴، ساعت ۱۴:۳۰".
func FormatDateTime(t time.Time) string {
	return FormatDate(t) + "، ساعت " + Digits(t.In(Tehran).Format("15:04"))
}

// Package persian holds everything Mahalle knows about Persian text:
// normalising what people type (Arabic yeh and kaf, tatweel, stray direction
// marks, zero-width characters, keyboard whitespace), reading numbers, Jalali
// dates and Iranian phone numbers written in any of the three digit sets, and
// showing numbers and dates the way a Persian reader expects.
//
// It is a leaf: it imports only the standard library and go-jalaali, so
// models, conversations and handlers can all use it. Its errors are plain
// sentinel values (ErrNotNumber, ErrOutOfRange, ErrNotDate, ErrNotMobile,
// ErrNotPhone), always returned wrapped with a "persian: " prefix; callers
// test them with errors.Is and choose the Persian sentence the user reads.
// No text of these errors is meant for a chat.
package persian

import "errors"

// Sentinel errors. Every error a function of this package returns wraps
// exactly one of them.
var (
	// ErrNotNumber means the text is not a whole number written with
	// digits (and, optionally, a sign and thousands separators).
	ErrNotNumber = errors.New("not a number")
	// ErrOutOfRange means the text has the right shape but a value is
	// outside what is accepted: a number beyond int64, or a date whose
	// year is outside 1300–1500, whose month is not 1–12, or whose day is
	// beyond the length of that month in that year.
	ErrOutOfRange = errors.New("out of range")
	// ErrNotDate means the text is not a Jalali date in a form we read.
	ErrNotDate = errors.New("not a date")
	// ErrNotMobile means the text is not an Iranian mobile number.
	ErrNotMobile = errors.New("not an Iranian mobile number")
	// ErrNotPhone means the text is not a phone number in international
	// form (nor an Iranian mobile number).
	ErrNotPhone = errors.New("not a phone number")
)

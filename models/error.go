package models

import (
	"errors"
	"fmt"
)

// Error codes. Each names a class of failure that the one place turning
// errors into Persian sentences (handlers) knows how to say.
const (
	ECONFLICT  = "conflict"  // the action conflicts with the current state (a duplicate, a lost race)
	EINTERNAL  = "internal"  // a fault of ours: logged at error level, never shown in detail
	EINVALID   = "invalid"   // the input is not acceptable
	ENOTFOUND  = "not_found" // the thing asked for does not exist
	EFORBIDDEN = "forbidden" // the person may not do this
)

// Error is Mahalle's domain error: a code the program branches on and a
// message for the logs. What the user reads is chosen from Code (and, for
// EINVALID, may be Message when it is already a Persian sentence).
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("mahalle error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "Internal error." for any other non-nil error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

package bot

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors of the sender. An *APIError matches them with errors.Is by
// its Code, so callers branch on the kind of failure without knowing codes:
//
//	if errors.Is(err, bot.ErrBlocked) { ... }
var (
	// ErrBlocked: the chat cannot be written to (403: the user blocked the
	// bot, the bot was removed from the group, the account is deactivated).
	ErrBlocked = errors.New("bot: blocked by the chat")
	// ErrUnauthorized: the platform rejected the bot token (401).
	ErrUnauthorized = errors.New("bot: token rejected")
	// ErrBadRequest: the platform refused the request as malformed (400):
	// a bug of ours, a message that no longer exists, a stale callback.
	ErrBadRequest = errors.New("bot: bad request")
	// ErrTooManyRequests: the platform kept answering 429 and the sender gave up.
	ErrTooManyRequests = errors.New("bot: too many requests")
)

// APIError is an error answer of the Bot API (ok=false). Its Error text holds
// the method, code and description the platform gave; it never holds the
// bot token.
type APIError struct {
	Method      string        // Bot API method, e.g. "sendMessage"
	Code        int           // error_code, an HTTP status
	Description string        // description, e.g. "Forbidden: bot was blocked by the user"
	RetryAfter  time.Duration // parameters.retry_after of a 429, 0 otherwise
}

// Error implements the error interface.
func (e *APIError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("bot: %s: %d %s", e.Method, e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("bot: %s: %d %s", e.Method, e.Code, e.Description)
}

// Is reports whether e is of the kind target names: ErrBlocked for 403,
// ErrUnauthorized for 401, ErrBadRequest for 400, ErrTooManyRequests for 429.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBlocked:
		return e.Code == http.StatusForbidden
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized
	case ErrBadRequest:
		return e.Code == http.StatusBadRequest
	case ErrTooManyRequests:
		return e.Code == http.StatusTooManyRequests
	}
	return false
}

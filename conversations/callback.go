package conversations

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mahalle/mahalle/models"
)

// MaxCallbackLen is the most bytes an inline button's callback_data may hold
// (https://core.telegram.org/bots/api#inlinekeyboardbutton).
const MaxCallbackLen = 64

// Limits on CallbackData fields, in bytes.
const (
	maxNonceLen = 8
	maxStepLen  = 32
)

// callbackSep separates the fields of encoded callback data.
const callbackSep = "|"

// nonceAlphabet is Crockford's base32 alphabet in lower case: 32 symbols, no
// i, l, o or u, so a nonce never reads as a word or a look-alike digit.
const nonceAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// CallbackData is what an inline button carries back: the nonce of the prompt
// it belongs to (so a stale button is recognised), the step it answers and
// the chosen value.
//
// Valid data has a Nonce of 0–8 bytes in [0-9a-z], a Step of 1–32 bytes in
// [A-Za-z0-9_.-], and a Value of valid UTF-8 (Persian is fine) without "|"
// or control characters; encoded, it fits in MaxCallbackLen bytes.
type CallbackData struct {
	Nonce string
	Step  string
	Value string
}

// EncodeCallback returns d in its compact text form "<nonce>|<step>|<value>".
// Returns EINVALID when a field is not valid (see CallbackData) or the result
// is longer than MaxCallbackLen bytes.
func EncodeCallback(d CallbackData) (string, error) {
	if err := d.validate(); err != nil {
		return "", fmt.Errorf("conversations: encode callback: %w", err)
	}
	s := d.Nonce + callbackSep + d.Step + callbackSep + d.Value
	if len(s) > MaxCallbackLen {
		return "", fmt.Errorf("conversations: encode callback: %w",
			models.Errorf(models.EINVALID, "callback data is %d bytes, over %d", len(s), MaxCallbackLen))
	}
	return s, nil
}

// ParseCallback decodes callback data made by EncodeCallback. It is strict:
// anything EncodeCallback would not produce (forged or foreign data) returns
// EINVALID, so EncodeCallback(ParseCallback(s)) == s whenever parsing succeeds.
func ParseCallback(s string) (CallbackData, error) {
	if len(s) > MaxCallbackLen {
		return CallbackData{}, fmt.Errorf("conversations: parse callback: %w",
			models.Errorf(models.EINVALID, "callback data is %d bytes, over %d", len(s), MaxCallbackLen))
	}
	parts := strings.Split(s, callbackSep)
	if len(parts) != 3 {
		return CallbackData{}, fmt.Errorf("conversations: parse callback: %w",
			models.Errorf(models.EINVALID, "callback data has %d fields, want 3", len(parts)))
	}
	d := CallbackData{Nonce: parts[0], Step: parts[1], Value: parts[2]}
	if err := d.validate(); err != nil {
		return CallbackData{}, fmt.Errorf("conversations: parse callback: %w", err)
	}
	return d, nil
}

// NewNonce returns 4 random characters from a base32 alphabet (20 bits from
// crypto/rand): enough to tell the current prompt's buttons from stale ones.
func NewNonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	for i := range b {
		b[i] = nonceAlphabet[b[i]&31]
	}
	return string(b[:])
}

// validate checks the field rules documented on CallbackData.
func (d CallbackData) validate() error {
	if len(d.Nonce) > maxNonceLen {
		return models.Errorf(models.EINVALID, "callback nonce is %d bytes, over %d", len(d.Nonce), maxNonceLen)
	}
	for i := 0; i < len(d.Nonce); i++ {
		if c := d.Nonce[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return models.Errorf(models.EINVALID, "callback nonce %q has a character outside [0-9a-z]", d.Nonce)
		}
	}
	if d.Step == "" || len(d.Step) > maxStepLen {
		return models.Errorf(models.EINVALID, "callback step is %d bytes, want 1 to %d", len(d.Step), maxStepLen)
	}
	for i := 0; i < len(d.Step); i++ {
		if c := d.Step[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return models.Errorf(models.EINVALID, "callback step %q has a character outside [A-Za-z0-9_.-]", d.Step)
		}
	}
	if !utf8.ValidString(d.Value) {
		return models.Errorf(models.EINVALID, "callback value is not valid UTF-8")
	}
	for _, r := range d.Value {
		if r == '|' || unicode.IsControl(r) {
			return models.Errorf(models.EINVALID, "callback value %q has a separator or control character", d.Value)
		}
	}
	return nil
}

// MenuCallback is the callback data of a button that starts a flow from
// outside a conversation (a notice's «بررسی اقدام»): value is a menu value,
// "flow" or "flow:arg". Returns an error when it does not fit 64 bytes.
func MenuCallback(value string) (string, error) {
	return EncodeCallback(CallbackData{Nonce: menuNonce, Step: menuStep, Value: value})
}

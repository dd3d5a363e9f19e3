package bottest

import (
	"strconv"
	"unicode/utf8"
)

// The server builds its hot-path JSON (updates, sent messages, responses) by
// hand: the benchmark pushes tens of thousands of these a second, and
// appending to a byte slice costs a fraction of reflection-based encoding.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; non-ASCII text is written as is (Persian stays readable
// in dumps).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript; escape them
		// like encoding/json so dumps can be pasted anywhere.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendField appends `,"key":"value"` when value is not empty.
func appendField(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendIntField appends `,"key":value`.
func appendIntField(b []byte, key string, value int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, value, 10)
}

// appendFloat appends a JSON number for f.
func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendUser appends a Bot API User object.
func appendUser(b []byte, u User, isBot bool) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	if isBot {
		b = append(b, `,"is_bot":true`...)
	} else {
		b = append(b, `,"is_bot":false`...)
	}
	b = append(b, `,"first_name":`...)
	b = appendString(b, u.FirstName)
	b = appendField(b, "last_name", u.LastName)
	b = appendField(b, "username", u.Username)
	b = appendField(b, "language_code", u.LanguageCode)
	return append(b, '}')
}

// appendChat appends a Bot API Chat object. A private chat carries the
// names of the user it belongs to, a group its title.
func appendChat(b []byte, c Chat, owner User) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, c.typ())
	if c.typ() == "private" {
		b = appendField(b, "first_name", owner.FirstName)
		b = appendField(b, "last_name", owner.LastName)
		b = appendField(b, "username", owner.Username)
	} else {
		title := c.Title
		if title == "" {
			title = "گروه " + strconv.FormatInt(c.ID, 10)
		}
		b = appendField(b, "title", title)
	}
	return append(b, '}')
}

// appendInline appends an InlineKeyboardMarkup object.
func appendInline(b []byte, rows [][]InlineButton) []byte {
	b = append(b, `{"inline_keyboard":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, btn := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"text":`...)
			b = appendString(b, btn.Text)
			b = appendField(b, "callback_data", btn.CallbackData)
			b = appendField(b, "url", btn.URL)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, ']', '}')
}

// appendOK appends a whole successful response around result.
func appendOK(b []byte, result []byte) []byte {
	b = append(b, `{"ok":true,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}

// appendError appends a whole failed response.
func appendError(b []byte, code int, description string, retryAfter int) []byte {
	b = append(b, `{"ok":false,"error_code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"description":`...)
	b = appendString(b, description)
	if retryAfter > 0 {
		b = append(b, `,"parameters":{"retry_after":`...)
		b = strconv.AppendInt(b, int64(retryAfter), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

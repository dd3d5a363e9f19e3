package bot

import (
	"encoding/json"
	"strconv"
)

// decodeAnswer reads a Bot API answer the way the hot path needs it:
// ok, error_code, description, parameters.retry_after and, when the result
// is an object, its message_id; every other value is skipped unread. It
// reports false when b is not a JSON object it can walk, and the caller falls
// back to encoding/json.
func decodeAnswer(b []byte, a *hotAnswer) bool {
	s := jsonScan{b: b}
	ok := s.object(func(key []byte) bool {
		if known, ok := s.answerHead(key, &a.OK, &a.ErrorCode, &a.Description, &a.Parameters.RetryAfter); known {
			return ok
		}
		if string(key) != "result" || s.peek() != '{' {
			return s.skip()
		}
		return s.object(func(key []byte) bool {
			if string(key) == "message_id" {
				return s.integer(&a.Result.messageID)
			}
			return s.skip()
		})
	})
	s.ws()
	return ok && s.i == len(s.b)
}

// answerHead reads the value of key when it is one of the fields every Bot
// API answer may have: ok, error_code, description, parameters (of which
// retry_after). known is false for any other key, whose value is left
// unread.
func (s *jsonScan) answerHead(key []byte, ok *bool, code *int, description *string, retryAfter *int) (known, read bool) {
	switch string(key) {
	case "ok":
		return true, s.boolean(ok)
	case "error_code":
		return true, s.integer(code)
	case "description":
		raw, good := s.rawString()
		var d string // its own: handing description to encoding/json would put the caller's answer on the heap
		if good = good && json.Unmarshal(raw, &d) == nil; good {
			*description = d
		}
		return true, good
	case "parameters":
		if s.peek() != '{' {
			return true, s.skip()
		}
		return true, s.object(func(key []byte) bool {
			if string(key) == "retry_after" {
				return s.integer(retryAfter)
			}
			return s.skip()
		})
	}
	return false, false
}

// splitUpdates reads getUpdates' answer: ok, error_code, description,
// parameters.retry_after and each element of result as raw text, which
// stays a slice of b. Only the structure is walked: an element that is not
// valid JSON inside fails when it is decoded, alone. It reports false when b
// is not an object it can walk, and the caller falls back to encoding/json.
func splitUpdates(b []byte, a *pollAnswer) bool {
	s := jsonScan{b: b}
	ok := s.object(func(key []byte) bool {
		if known, ok := s.answerHead(key, &a.OK, &a.ErrorCode, &a.Description, &a.RetryAfter); known {
			return ok
		}
		if string(key) != "result" || s.peek() != '[' {
			return s.skip()
		}
		a.Result = a.Result[:0] // the last "result" counts, as with encoding/json
		return s.array(func() bool {
			if s.peek() != '{' {
				return false
			}
			start := s.i
			if !s.skip() {
				return false
			}
			a.Result = append(a.Result, s.b[start:s.i:s.i])
			return true
		})
	})
	s.ws()
	return ok && s.i == len(s.b)
}

// jsonScan walks JSON text without building values.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object walks an object, calling fn with each key (escapes kept) while the
// scanner stands before its value; fn must consume the value.
func (s *jsonScan) object(fn func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		raw, ok := s.rawString()
		if !ok || s.peek() != ':' {
			return false
		}
		s.i++
		if !fn(raw[1 : len(raw)-1]) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// array walks an array, calling fn while the scanner stands before each
// element; fn must consume it.
func (s *jsonScan) array(fn func() bool) bool {
	if s.peek() != '[' {
		return false
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return true
	}
	for {
		if !fn() {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// rawString returns the next string with its quotes, escapes unresolved.
func (s *jsonScan) rawString() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i], true
		}
	}
	return nil, false
}

func (s *jsonScan) boolean(v *bool) bool {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*v, s.i = true, s.i+4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*v, s.i = false, s.i+5
	default:
		return false
	}
	return true
}

func (s *jsonScan) integer(v *int) bool {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n, err := strconv.Atoi(string(s.b[start:s.i]))
	if err != nil {
		return false
	}
	*v = n
	return true
}

// skip passes over one value of any kind.
func (s *jsonScan) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.rawString()
		return ok
	case c == '{' || c == '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.rawString(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	case c == 0:
		return false
	default: // number, true, false, null
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}

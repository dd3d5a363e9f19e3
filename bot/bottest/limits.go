package bottest

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ChatLimits makes the server answer 429 as Telegram does when a bot writes
// to one chat too fast: every message, photo, album, edit and deletion to a
// chat takes a token of that chat's bucket; with none left the call fails
// with 429 "Too Many Requests: retry after N" and parameters.retry_after N
// (whole seconds until a token is back, at least 1). Callback answers and
// reads are not limited, as on Telegram.
type ChatLimits struct {
	PerSecond      float64 // tokens a second of a private chat [1]
	Burst          int     // bucket size of a private chat [3]
	GroupPerSecond float64 // tokens a second of a group (chat id < 0) [20 a minute]
	GroupBurst     int     // [3]
}

// WithChatLimits turns on Telegram-like per-chat 429s (see ChatLimits).
// TooManyCount reports how many the bot caused.
func WithChatLimits(l ChatLimits) Option {
	if l.PerSecond <= 0 {
		l.PerSecond = 1
	}
	if l.Burst <= 0 {
		l.Burst = 3
	}
	if l.GroupPerSecond <= 0 {
		l.GroupPerSecond = 20.0 / 60
	}
	if l.GroupBurst <= 0 {
		l.GroupBurst = 3
	}
	return func(c *config) { c.chatLimits = &l }
}

// limitedMethods are the calls a chat's bucket counts.
var limitedMethods = map[string]bool{
	"sendMessage": true, "sendPhoto": true, "sendDocument": true, "sendMediaGroup": true,
	"editMessageText": true, "editMessageCaption": true, "editMessageReplyMarkup": true, "deleteMessage": true,
}

// bucket is one chat's token bucket.
type bucket struct {
	tokens float64
	at     time.Time
}

// FailChat makes the next n limited calls (see ChatLimits) to chatID fail
// with f, whatever their method; calls to other chats are served normally.
func (s *Server) FailChat(chatID int64, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.chatFaults[chatID] = append(s.chatFaults[chatID], f)
	}
}

// TooManyCount is the number of 429 answers the server gave, injected or
// from ChatLimits.
func (s *Server) TooManyCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// admitChat applies per-chat faults and limits to a call of method with
// params p; it reports whether the call should be served normally.
func (s *Server) admitChat(w http.ResponseWriter, method string, p url.Values) bool {
	if !limitedMethods[method] {
		return true
	}
	chatID, err := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	if err != nil {
		return true // the handler answers the bad chat id
	}
	s.mu.Lock()
	if q := s.chatFaults[chatID]; len(q) > 0 {
		f := q[0]
		if len(q) == 1 {
			delete(s.chatFaults, chatID)
		} else {
			s.chatFaults[chatID] = q[1:]
		}
		if f.Code == http.StatusTooManyRequests {
			s.tooMany++
		}
		s.mu.Unlock()
		desc := f.Description
		if desc == "" {
			desc = defaultDescription(f.Code, f.RetryAfter)
		}
		s.writeError(w, f.Code, desc, f.RetryAfter)
		return false
	}
	l := s.cfg.chatLimits
	if l == nil {
		s.mu.Unlock()
		return true
	}
	r, burst := l.PerSecond, l.Burst
	if chatID < 0 {
		r, burst = l.GroupPerSecond, l.GroupBurst
	}
	now := s.cfg.now()
	b, ok := s.buckets[chatID]
	if !ok {
		b = &bucket{tokens: float64(burst), at: now}
		s.buckets[chatID] = b
	}
	b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.at).Seconds()*r)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		s.mu.Unlock()
		return true
	}
	retry := max(1, int(math.Ceil((1-b.tokens)/r)))
	s.tooMany++
	s.mu.Unlock()
	s.writeError(w, http.StatusTooManyRequests, defaultDescription(http.StatusTooManyRequests, retry), retry)
	return false
}

package bottest

import (
	"math/rand/v2"
	"net/http"
)

// ServerErrors makes the server fail a share of calls with a 5xx, as the
// Bot API does now and then (502 Bad Gateway, 500, 503 behind its proxies).
// A failed call has no effect: nothing is sent or recorded, an update is
// not confirmed.
type ServerErrors struct {
	Share   float64  // share of the calls of Methods that fail, 0 to 1 (0.05 is 5 %)
	Methods []string // the methods that may fail [every call the bot makes to a chat, answerCallbackQuery, getUpdates, getFile]
	Seed    uint64   // seed of the draw, so a run can be repeated [1]
}

// serverErrorMethods are the methods ServerErrors applies to by default.
var serverErrorMethods = []string{"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendChatAction",
	"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "deleteMessage",
	"answerCallbackQuery", "getUpdates", "getFile"}

// serverErrorCodes are the statuses drawn from, in turn.
var serverErrorCodes = [...]int{http.StatusBadGateway, http.StatusInternalServerError, http.StatusServiceUnavailable}

// serverErrors is the state of WithServerErrors.
type serverErrors struct {
	share   float64
	methods map[string]bool
	rng     *rand.Rand // guarded by Server.mu
	n       int        // 5xx given so far; guarded by Server.mu
}

// WithServerErrors makes the server answer a share of calls with a 5xx
// (see ServerErrors). ServerErrorCount reports how many it gave.
func WithServerErrors(e ServerErrors) Option {
	methods := e.Methods
	if len(methods) == 0 {
		methods = serverErrorMethods
	}
	se := &serverErrors{share: min(1, max(0, e.Share)), methods: map[string]bool{}}
	for _, m := range methods {
		se.methods[canonical(m)] = true
	}
	seed := e.Seed
	if seed == 0 {
		seed = 1
	}
	se.rng = rand.New(rand.NewPCG(seed, 0x6d6168616c6c65))
	return func(c *config) { c.serverErrors = se }
}

// drawServerError reports the 5xx status a call of method gets, or 0 when
// it is served. s.mu must be held.
func (s *Server) drawServerError(method string) int {
	se := s.cfg.serverErrors
	if se == nil || !se.methods[method] || se.rng.Float64() >= se.share {
		return 0
	}
	code := serverErrorCodes[se.n%len(serverErrorCodes)]
	se.n++
	return code
}

// ServerErrorCount is the number of 5xx answers WithServerErrors gave.
func (s *Server) ServerErrorCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.serverErrors == nil {
		return 0
	}
	return s.cfg.serverErrors.n
}

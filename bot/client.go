package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Limits of the Bot API on text, in UTF-16 code units as Telegram counts them.
const (
	maxTextUnits    = 4096 // sendMessage, editMessageText
	maxCaptionUnits = 1024 // sendPhoto caption
)

// Retry policy for 5xx answers and network failures.
const (
	defaultMaxAttempts = 4
	backoffBase        = 500 * time.Millisecond
	backoffCap         = 30 * time.Second
	maxTooManyInARow   = 10               // 429 answers in a row before giving up
	defaultRetryAfter  = time.Second      // a 429 without retry_after
	defaultHTTPTimeout = 30 * time.Second // no call of the sender is a long poll
	// maxResends bounds how often a new message whose outcome is unknown
	// is sent again: a possible duplicate beats a lost reply, twice does not.
	maxResends = 1
)

// BlockRecorder is told when a chat blocks the bot (a 403 answer), so that
// nothing more is queued for that chat.
type BlockRecorder interface {
	MarkBlocked(ctx context.Context, p Platform, chatID int64) error
}

// Config of a Client. Zero values take the defaults in brackets.
type Config struct {
	Platform Platform
	Token    string
	// Endpoint is the Bot API URL format, ending in "/bot%s/%s"
	// [tgbotapi.APIEndpoint]. File URLs derive from it: for
	// "https://tapi.bale.ai/bot%s/%s" they are "https://tapi.bale.ai/file/bot%s/%s".
	Endpoint   string
	HTTPClient *http.Client // [a client with a 30s timeout]
	Logger     *slog.Logger // [discard]
	Metrics    *Metrics     // may be nil
	Limits     Limits
	// MaxAttempts bounds the attempts of a call that fails with a 5xx answer,
	// a network error or an undecodable body; retries back off exponentially
	// with full jitter [4]. 429 answers do not count toward it.
	MaxAttempts int
	Blocked     BlockRecorder // told when a chat blocks the bot (403); may be nil
	// Wait waits d or until ctx ends [a timer honouring ctx]. Tests inject one
	// to record waits instead of sleeping.
	Wait func(ctx context.Context, d time.Duration) error
	// Now is the clock of the rate limiters and holds [time.Now].
	Now func() time.Time
}

// Client sends to one platform's Bot API in two lanes: replies (Send,
// AnswerCallback, ...), never held by a global cap, and notices (Notify),
// under a global budget that yields to replies. It honours 429 answers per
// chat, infers a flood of the whole bot from 429s of many chats, and retries
// transient failures. It is safe for concurrent use.
type Client struct {
	platform   Platform
	token      string
	api        *tgbotapi.BotAPI // template, copied per call with a context-aware HTTP client
	httpClient *http.Client
	// direct carries the hot path's calls when httpClient is the default
	// one: called without http.Client, whose Timeout costs a goroutine and
	// a timer per call with any transport but net/http's own.
	direct *directTransport
	// URLs of the hot path's methods; they hold the token.
	urlSendMessage, urlEditText, urlAnswerCallback *url.URL
	fileFormat                                     string // file URL format: token, file_path
	log                                            *slog.Logger
	metrics                                        *Metrics
	limiter                                        *sendLimiter
	flood                                          *floodControl
	maxAttempts                                    int
	blocked                                        BlockRecorder
	wait                                           func(ctx context.Context, d time.Duration) error
	now                                            func() time.Time
}

// NewClient returns a Client for cfg. It does not call the network; it
// returns an error when cfg is unusable (no platform, no token, an endpoint
// not ending in "/bot%s/%s", negative limits or attempts).
func NewClient(cfg Config) (*Client, error) {
	if cfg.Platform == "" {
		return nil, errors.New("bot: new client: platform is empty")
	}
	if cfg.Token == "" {
		return nil, errors.New("bot: new client: token is empty")
	}
	if strings.ContainsAny(cfg.Token, "/?#% \t\r\n") {
		return nil, errors.New("bot: new client: token has characters a URL path cannot hold")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = tgbotapi.APIEndpoint
	}
	base, ok := strings.CutSuffix(endpoint, "/bot%s/%s")
	if !ok || strings.Contains(base, "%") {
		return nil, fmt.Errorf("bot: new client: endpoint %q must end in /bot%%s/%%s", endpoint)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bot: new client: endpoint %q is not an http(s) URL", endpoint)
	}
	if cfg.MaxAttempts < 0 {
		return nil, errors.New("bot: new client: negative MaxAttempts")
	}
	if err := cfg.Limits.validate(); err != nil {
		return nil, fmt.Errorf("bot: new client: %w", err)
	}

	c := &Client{
		platform:    cfg.Platform,
		token:       cfg.Token,
		httpClient:  cfg.HTTPClient,
		fileFormat:  base + "/file/bot%s/%s",
		log:         cfg.Logger,
		metrics:     cfg.Metrics,
		maxAttempts: cfg.MaxAttempts,
		blocked:     cfg.Blocked,
		wait:        cfg.Wait,
		now:         cfg.Now,
	}
	if c.httpClient == nil {
		c.direct = newDirectTransport(newTransport())
		c.httpClient = &http.Client{Timeout: defaultHTTPTimeout, Transport: c.direct}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With(slog.String("platform", string(cfg.Platform)))
	if c.maxAttempts == 0 {
		c.maxAttempts = defaultMaxAttempts
	}
	if c.wait == nil {
		c.wait = sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, h := range []struct {
		dst    **url.URL
		method string
	}{{&c.urlSendMessage, "sendMessage"}, {&c.urlEditText, "editMessageText"}, {&c.urlAnswerCallback, "answerCallbackQuery"}} {
		u, err := url.Parse(base + "/bot" + cfg.Token + "/" + h.method)
		if err != nil {
			return nil, errors.New("bot: new client: the endpoint and token do not make a URL")
		}
		*h.dst = u
	}
	c.limiter = newSendLimiter(cfg.Limits, c.now())
	c.flood = newFloodControl(cfg.Limits, c.now())
	// Built by hand: tgbotapi's constructors call getMe over the network.
	c.api = &tgbotapi.BotAPI{Token: cfg.Token, Buffer: 100}
	c.api.SetAPIEndpoint(endpoint)
	return c, nil
}

// Platform returns the platform the client sends to.
func (c *Client) Platform() Platform { return c.platform }

// GetMe returns the bot's own user (https://core.telegram.org/bots/api#getme).
// A rejected token gives an error matching ErrUnauthorized.
func (c *Client) GetMe(ctx context.Context) (User, error) {
	ans, err := c.do(ctx, c.viaLib("getMe", 0, laneReply, limitNone, nil))
	if err != nil {
		return User{}, err
	}
	var u tgbotapi.User
	if err := json.Unmarshal(ans.result, &u); err != nil {
		return User{}, fmt.Errorf("bot: getMe: decode result: %w", err)
	}
	return User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.UserName,
		LanguageCode: u.LanguageCode}, nil
}

// Send delivers m in the reply lane and returns the id of the (last) message
// it produced:
//   - m.EditMessageID != 0 and m.Text != "": editMessageText
//     (https://core.telegram.org/bots/api#editmessagetext) with m.Inline;
//   - m.EditMessageID != 0 and m.Text == "": editMessageReplyMarkup, which
//     removes the inline keyboard when m.Inline is empty;
//   - m.Photo != nil: sendPhoto by file id with m.Text as caption;
//   - otherwise sendMessage (https://core.telegram.org/bots/api#sendmessage).
//
// Only a new message waits on the chat's limiter; nothing waits on a global
// cap unless the platform answered 429 from many chats at once.
//
// Text is sent plain (no parse mode). Text longer than 4096 UTF-16 units is
// split at line boundaries (a longer line at a space, else at a rune) into
// several messages; the keyboard goes on the last, whose id is returned. An
// edit with such text edits the message to the first part and sends the rest
// as new messages. A caption over 1024 units is sent as text after the photo.
// Inline wins over Reply, which wins over RemoveReply; edits carry inline
// keyboards only. "message is not modified" on an edit counts as success.
//
// Errors match ErrBlocked (403; Blocked is told), ErrBadRequest (400),
// ErrUnauthorized (401) or ErrTooManyRequests, or wrap the network or ctx
// error. When a later part of a split text fails, the earlier ones were
// delivered.
func (c *Client) Send(ctx context.Context, m Message) (int, error) {
	return c.send(ctx, m, laneReply)
}

// Notify delivers m like Send, in the notice lane: for messages nobody asked
// for (alerts, decisions, digests, broadcasts). Notices share a global budget
// (Limits.Notice a second), wait while replies are in flight, and are slowed
// further after a flood. It blocks until m is sent or ctx ends; its errors are
// those of Send.
func (c *Client) Notify(ctx context.Context, m Message) (int, error) {
	id, err := c.send(ctx, m, laneNotice)
	c.countNotice(err)
	return id, err
}

func (c *Client) send(ctx context.Context, m Message, ln lane) (int, error) {
	switch {
	case m.ChatID == 0:
		return 0, errors.New("bot: send: no chat id")
	case m.EditMessageID != 0 && m.Text != "":
		return c.editText(ctx, m, ln)
	case m.EditMessageID != 0:
		return c.editMarkup(ctx, m, ln)
	case m.Photo != nil:
		return c.sendPhoto(ctx, m, ln)
	}
	if len(m.Text) <= maxTextUnits && strings.TrimSpace(m.Text) != "" {
		// Fits whatever its script: a UTF-16 unit takes at least one byte.
		ans, err := c.do(ctx, c.hotSendMessage(m.ChatID, m.Text, &m, ln))
		return ans.messageID, err
	}
	parts := splitText(m.Text, maxTextUnits)
	if len(parts) == 0 {
		return 0, errors.New("bot: send: empty text")
	}
	return c.sendParts(ctx, m, parts, ln)
}

// sendParts sends each part as a message, with m's keyboard on the last.
func (c *Client) sendParts(ctx context.Context, m Message, parts []string, ln lane) (int, error) {
	var id int
	for i, p := range parts {
		var kb *Message
		if i == len(parts)-1 {
			kb = &m
		}
		ans, err := c.do(ctx, c.hotSendMessage(m.ChatID, p, kb, ln))
		if err != nil {
			return 0, err
		}
		id = ans.messageID
	}
	return id, nil
}

// sendPhoto sends m.Photo with m.Text as caption, or as a separate text
// when the caption is too long.
func (c *Client) sendPhoto(ctx context.Context, m Message, ln lane) (int, error) {
	if m.Photo.FileID == "" {
		return 0, errors.New("bot: send photo: no file id")
	}
	cfg := tgbotapi.NewPhoto(m.ChatID, tgbotapi.FileID(m.Photo.FileID))
	longCaption := utf16Units(m.Text) > maxCaptionUnits
	if !longCaption {
		cfg.Caption = m.Text
		cfg.ReplyMarkup = markupOf(m)
	}
	id, err := c.sendMessage(ctx, "sendPhoto", m.ChatID, cfg, ln)
	if err != nil || !longCaption {
		return id, err
	}
	return c.sendParts(ctx, m, splitText(m.Text, maxTextUnits), ln)
}

// editText edits the text (and inline keyboard) of m.EditMessageID.
func (c *Client) editText(ctx context.Context, m Message, ln lane) (int, error) {
	parts := splitText(m.Text, maxTextUnits)
	if len(parts) == 0 {
		return 0, errors.New("bot: edit: blank text")
	}
	var inline [][]Button
	if len(parts) == 1 {
		inline = m.Inline
	}
	_, err := c.do(ctx, c.hotEditText(m.ChatID, m.EditMessageID, parts[0], inline, ln))
	if err != nil && !isNotModified(err) {
		return 0, err
	}
	if len(parts) == 1 {
		return m.EditMessageID, nil
	}
	return c.sendParts(ctx, m, parts[1:], ln)
}

// editMarkup replaces (or removes) the inline keyboard of m.EditMessageID.
func (c *Client) editMarkup(ctx context.Context, m Message, ln lane) (int, error) {
	cfg := tgbotapi.EditMessageReplyMarkupConfig{BaseEdit: tgbotapi.BaseEdit{
		ChatID: m.ChatID, MessageID: m.EditMessageID, ReplyMarkup: inlineMarkupOf(m.Inline)}}
	_, err := c.do(ctx, c.viaLib("editMessageReplyMarkup", m.ChatID, ln, limitNone, cfg))
	if err != nil && !isNotModified(err) {
		return 0, err
	}
	return m.EditMessageID, nil
}

// sendMessage runs a tgbotapi method creating a message and returns its id.
func (c *Client) sendMessage(ctx context.Context, method string, chatID int64, cfg tgbotapi.Chattable, ln lane) (int, error) {
	ans, err := c.do(ctx, c.viaLib(method, chatID, ln, limitChat, cfg))
	if err != nil {
		return 0, err
	}
	var msg tgbotapi.Message
	if err := json.Unmarshal(ans.result, &msg); err != nil {
		// Delivered: retrying would send it twice.
		return 0, fmt.Errorf("bot: %s: decode result: %w", method, err)
	}
	return msg.MessageID, nil
}

// AnswerCallback answers a callback query, showing text (may be empty) as a
// toast (https://core.telegram.org/bots/api#answercallbackquery). It is never
// pre-throttled. A query older than the platform keeps gives an error
// matching ErrBadRequest.
func (c *Client) AnswerCallback(ctx context.Context, callbackID, text string) error {
	_, err := c.do(ctx, c.hotAnswerCallback(callbackID, text))
	return err
}

// AnswerAndEdit answers a callback query (text may be empty) and edits a
// message, the two calls of a button press, as AnswerCallback and Send
// would: cbErr is the answer's error, id and err the edit's. When it can,
// both go on one connection in one write (HTTP/1.1 pipelining), which saves
// the bot a system call and a wake-up per press; a call of the pair that
// fails is tried again on its own, as any call is.
func (c *Client) AnswerAndEdit(ctx context.Context, callbackID, text string, m Message) (cbErr error, id int, err error) {
	if c.direct == nil || !c.direct.pipelines() || m.ChatID == 0 || m.EditMessageID == 0 ||
		len(m.Text) > maxTextUnits || strings.TrimSpace(m.Text) == "" {
		cbErr = c.AnswerCallback(ctx, callbackID, text)
		id, err = c.Send(ctx, m)
		return cbErr, id, err
	}
	answerCall := c.hotAnswerCallback(callbackID, text)
	defer answerCall.release()
	edit := c.hotEditText(m.ChatID, m.EditMessageID, m.Text, m.Inline, laneReply)
	defer edit.release()
	for _, cl := range []apiCall{answerCall, edit} {
		if err := c.admit(ctx, cl); err != nil {
			c.countSend(cl.method, "error")
			err = fmt.Errorf("bot: %s: rate limit: %w", cl.method, err)
			return err, 0, err
		}
	}
	if err := c.waitHolds(ctx, m.ChatID); err != nil {
		c.countSend(answerCall.method, "error")
		c.countSend(edit.method, "error")
		err = fmt.Errorf("bot: %s: wait after 429: %w", edit.method, err)
		return err, 0, err
	}
	c.flood.replyStart(c.now())
	c.flood.replyStart(c.now())
	ansA, errA, ansE, errE := c.postPair(ctx, answerCall.hot, edit.hot)
	c.flood.replyDone()
	c.flood.replyDone()
	if !c.direct.pipelines() {
		c.log.Warn("the Bot API left the second of two pipelined calls unanswered; one call at a time from now on")
	}
	_, cbErr = c.attempt(ctx, answerCall, &tried{ansA, errA})
	if _, err = c.attempt(ctx, edit, &tried{ansE, errE}); err != nil && !isNotModified(err) {
		return cbErr, 0, err
	}
	return cbErr, m.EditMessageID, nil
}

// Delete deletes a message (https://core.telegram.org/bots/api#deletemessage).
// A message that is gone or too old gives an error matching ErrBadRequest.
func (c *Client) Delete(ctx context.Context, chatID int64, messageID int) error {
	_, err := c.do(ctx, c.viaLib("deleteMessage", chatID, laneReply, limitNone, tgbotapi.NewDeleteMessage(chatID, messageID)))
	return err
}

// FileURL returns the download URL of a file (https://core.telegram.org/bots/api#getfile),
// built on the configured endpoint's host. The URL holds the bot token: never
// log it or show it. A file the platform will not serve (too big) gives an
// error matching ErrBadRequest or an error saying it has no path.
func (c *Client) FileURL(ctx context.Context, fileID string) (string, error) {
	ans, err := c.do(ctx, c.viaLib("getFile", 0, laneReply, limitNone, tgbotapi.FileConfig{FileID: fileID}))
	if err != nil {
		return "", err
	}
	var f tgbotapi.File
	if err := json.Unmarshal(ans.result, &f); err != nil {
		return "", fmt.Errorf("bot: getFile: decode result: %w", err)
	}
	if f.FilePath == "" {
		return "", errors.New("bot: getFile: the file has no path")
	}
	return fmt.Sprintf(c.fileFormat, c.token, f.FilePath), nil
}

// answer is what a call gives back on success: the raw result (calls made
// through tgbotapi) or the message id (the hot path).
type answer struct {
	result    json.RawMessage
	messageID int
}

// apiCall is one Bot API call as the retry loop sees it.
type apiCall struct {
	method   string
	chatID   int64 // 0 when the call is not addressed to a chat
	lane     lane
	scope    limitScope
	messages int // new messages the call makes, for the chat's limiter (0 counts as 1)
	// idempotent calls (edits, callback answers, reads) are retried freely
	// when their outcome is unknown; others are sent again at most maxResends.
	idempotent bool
	// run makes one attempt. An answer with ok=false gives an *APIError.
	run func(ctx context.Context) (answer, error)
	// hot is the hand-built request of a hot-path call (nil for others),
	// for a pair of them pipelined on one connection.
	hot *hotRequest
	// release, when set, is called once the call is over.
	release func()
}

// viaLib is a call made through tgbotapi (every method but the hot ones).
// A nil cfg calls method without parameters.
func (c *Client) viaLib(method string, chatID int64, ln lane, scope limitScope, cfg tgbotapi.Chattable) apiCall {
	return apiCall{method: method, chatID: chatID, lane: ln, scope: scope, idempotent: scope == limitNone,
		run: func(ctx context.Context) (answer, error) {
			api := *c.api
			api.Client = senderDoer{ctx: ctx, client: c.httpClient, token: c.token}
			var resp *tgbotapi.APIResponse
			var err error
			if cfg == nil {
				resp, err = api.MakeRequest(method, nil)
			} else {
				resp, err = api.Request(cfg)
			}
			if err != nil {
				var tgErr *tgbotapi.Error
				if errors.As(err, &tgErr) {
					return answer{}, &APIError{Method: method, Code: tgErr.Code, Description: c.redactText(tgErr.Message),
						RetryAfter: time.Duration(tgErr.RetryAfter) * time.Second}
				}
				return answer{}, err
			}
			return answer{result: resp.Result}, nil
		}}
}

// do admits cl to its lane, then runs it, honouring 429 answers (per chat,
// or for the whole bot when many chats get them at once) and retrying 5xx
// answers, network errors and undecodable bodies with backoff. A call whose
// outcome is unknown (the request may have reached the platform) is retried
// when idempotent, else sent again at most maxResends times. Every error it
// returns starts with "bot: <method>:" and is free of the token.
func (c *Client) do(ctx context.Context, cl apiCall) (answer, error) {
	if cl.release != nil {
		defer cl.release()
	}
	if err := c.admit(ctx, cl); err != nil {
		c.countSend(cl.method, "error")
		return answer{}, fmt.Errorf("bot: %s: rate limit: %w", cl.method, err)
	}
	return c.attempt(ctx, cl, nil)
}

// tried is the outcome of an attempt made already (see attempt).
type tried struct {
	ans answer
	err error
}

// attempt makes attempts of cl, admitted, until one succeeds or it fails
// for good: a 429 is waited out, an answer of 5xx or a network error is
// retried. A non-nil first is the outcome of the first attempt, made
// already (one of a pipelined pair, after the holds were waited out).
func (c *Client) attempt(ctx context.Context, cl apiCall, first *tried) (answer, error) {
	attempts, tooMany, resends := 0, 0, 0
	skipHold := first != nil
	for {
		if !skipHold {
			if err := c.waitHolds(ctx, cl.chatID); err != nil {
				c.countSend(cl.method, "error")
				return answer{}, fmt.Errorf("bot: %s: wait after 429: %w", cl.method, err)
			}
		}
		skipHold = false
		var ans answer
		var err error
		if first != nil {
			ans, err, first = first.ans, first.err, nil
		} else {
			if cl.lane == laneReply {
				c.flood.replyStart(c.now())
			}
			ans, err = cl.run(ctx)
			if cl.lane == laneReply {
				c.flood.replyDone()
			}
		}
		if err == nil {
			c.countSend(cl.method, "ok")
			return ans, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			c.countSend(cl.method, "error")
			return answer{}, fmt.Errorf("bot: %s: %w", cl.method, ctxErr)
		}

		var apiErr *APIError
		if errors.As(err, &apiErr) {
			if apiErr.Code == http.StatusTooManyRequests {
				tooMany++
				c.countTooMany(cl.method)
				if tooMany >= maxTooManyInARow {
					c.countSend(cl.method, "error")
					c.logFor(cl).Warn("giving up after repeated 429", slog.Int("answers", tooMany))
					return answer{}, apiErr
				}
				c.countSend(cl.method, "retry")
				d := apiErr.RetryAfter
				if d <= 0 {
					d = defaultRetryAfter
				}
				d = max(d, c.tooMany(cl, d))
				c.logFor(cl).Info("flood control, waiting", slog.Duration("retry_after", d))
				if err := c.wait(ctx, d); err != nil {
					return answer{}, fmt.Errorf("bot: %s: wait after 429: %w", cl.method, err)
				}
				skipHold = true
				continue
			}
			tooMany = 0
			if apiErr.Code < 500 {
				return answer{}, c.fail(ctx, cl, apiErr)
			}
		} else {
			tooMany = 0
			err = c.redact(fmt.Errorf("bot: %s: %w", cl.method, err))
			if outcomeUnknown(err) {
				if !cl.idempotent {
					if resends >= maxResends {
						c.countUnknown(cl.method, "gave_up")
						c.countSend(cl.method, "error")
						c.logFor(cl).Warn("outcome unknown again, not sending a third time", slog.String("error", err.Error()))
						return answer{}, err
					}
					resends++
					c.countUnknown(cl.method, "resent")
				} else {
					c.countUnknown(cl.method, "retried")
				}
			}
		}

		attempts++
		if attempts >= c.maxAttempts {
			c.countSend(cl.method, "error")
			c.logFor(cl).Warn("call failed", slog.Int("attempts", attempts), slog.String("error", err.Error()))
			return answer{}, err
		}
		c.countSend(cl.method, "retry")
		c.countRetry(cl.method)
		d := sendBackoff(attempts)
		c.logFor(cl).Warn("call failed, retrying", slog.Int("attempt", attempts), slog.Duration("backoff", d),
			slog.String("error", err.Error()))
		if werr := c.wait(ctx, d); werr != nil {
			return answer{}, fmt.Errorf("bot: %s: wait to retry: %w", cl.method, werr)
		}
	}
}

// admit waits on cl's proactive limits: a notice, or a new message to a
// group, on its chat's limiter; a reply to a person who just wrote only once
// a 429 slowed their chat (honour 429s, never pre-throttle a reply: the
// practice of large bots); a reply on the global cap only while slowed after
// a flood; a notice on the notice budget, then for replies in flight.
func (c *Client) admit(ctx context.Context, cl apiCall) error {
	if cl.scope == limitChat && cl.chatID != 0 &&
		(cl.lane == laneNotice || cl.chatID < 0 || c.limiter.slowed(cl.chatID, c.now())) {
		if err := c.limiter.waitChat(ctx, cl.chatID, cl.messages, c.now, c.wait); err != nil {
			return err
		}
	}
	if cl.lane == laneNotice {
		return c.flood.waitNotice(ctx, c.now, c.wait)
	}
	return c.flood.waitReply(ctx, c.now, c.wait)
}

// waitHolds waits out the hold a 429 put on chatID or on the whole bot.
func (c *Client) waitHolds(ctx context.Context, chatID int64) error {
	now := c.now()
	d := c.flood.hold(now)
	if chatID != 0 {
		d = max(d, c.limiter.hold(chatID, now))
	}
	if d <= 0 {
		return nil
	}
	return c.wait(ctx, d)
}

// tooMany records a 429 of cl and returns the hold of the whole bot when it
// completed a flood (0 otherwise).
func (c *Client) tooMany(cl apiCall, retryAfter time.Duration) time.Duration {
	now := c.now()
	if cl.chatID != 0 {
		c.limiter.tooMany(cl.chatID, now, retryAfter)
	}
	if !c.flood.tooMany(cl.chatID, now, retryAfter) {
		return 0
	}
	c.countFlood()
	c.log.Warn("429 from many chats at once: slowing every send", slog.Duration("retry_after", retryAfter))
	return c.flood.hold(now)
}

// outcomeUnknown reports whether a transport error may have come after the
// request reached the platform: anything but a failure to connect.
func outcomeUnknown(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	return !errors.As(err, &dnsErr)
}

// logFor is the logger of one call.
func (c *Client) logFor(cl apiCall) *slog.Logger {
	log := c.log.With(slog.String("method", cl.method))
	if cl.chatID != 0 {
		log = log.With(slog.Int64("chat_id", cl.chatID))
	}
	return log
}

// fail records and logs a 4xx answer other than 429, which is not retried.
func (c *Client) fail(ctx context.Context, cl apiCall, apiErr *APIError) error {
	desc := slog.String("description", apiErr.Description)
	switch {
	case apiErr.Code == http.StatusForbidden:
		c.countSend(cl.method, "blocked")
		c.logFor(cl).Info("chat blocked the bot", desc)
		if c.blocked != nil && cl.chatID != 0 {
			if err := c.blocked.MarkBlocked(ctx, c.platform, cl.chatID); err != nil {
				c.logFor(cl).Warn("record blocked chat", slog.String("error", err.Error()))
			}
		}
	case apiErr.Code == http.StatusBadRequest && isNotModified(apiErr):
		c.countSend(cl.method, "ok")
	case apiErr.Code == http.StatusBadRequest:
		c.countSend(cl.method, "bad_request")
		c.logFor(cl).Warn("request refused", desc)
	case apiErr.Code == http.StatusUnauthorized:
		c.countSend(cl.method, "error")
		c.logFor(cl).Warn("token rejected", desc)
	default:
		c.countSend(cl.method, "error")
		c.logFor(cl).Warn("call failed", slog.Int("code", apiErr.Code), desc)
	}
	return apiErr
}

// isNotModified reports whether err is the 400 an edit gets when nothing changed.
func isNotModified(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusBadRequest &&
		strings.HasPrefix(apiErr.Method, "editMessage") &&
		strings.Contains(apiErr.Description, "message is not modified")
}

// sendBackoff returns the wait before retry number attempt (1, 2, ...):
// uniformly random in [0, min(cap, base·2^(attempt-1))), "full jitter".
func sendBackoff(attempt int) time.Duration {
	return Backoff{Min: backoffBase, Max: backoffCap}.delay(attempt-1) + time.Millisecond
}

// redactText replaces the token in s.
func (c *Client) redactText(s string) string {
	return strings.ReplaceAll(s, c.token, "<token>")
}

// redact returns err, or when its text holds the token, an error with the
// token replaced that still matches what err matched with errors.Is.
func (c *Client) redact(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &tokenFreeError{msg: c.redactText(err.Error()), cause: err}
}

// tokenFreeError hides its cause's text (which holds the token) but keeps its
// identity for errors.Is (context.Canceled, net errors...).
type tokenFreeError struct {
	msg   string
	cause error
}

func (e *tokenFreeError) Error() string { return e.msg }

func (e *tokenFreeError) Is(target error) bool { return errors.Is(e.cause, target) }

// senderDoer is the tgbotapi.HTTPClient of one call: it binds the call's
// context to every request and strips the token from the URL that
// net/http puts into its errors.
type senderDoer struct {
	ctx    context.Context
	client *http.Client
	token  string
}

// Do implements tgbotapi.HTTPClient.
func (d senderDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req.WithContext(d.ctx))
	if err != nil {
		return nil, redactToken(err, d.token)
	}
	return resp, nil
}

// markupOf maps m's keyboard to tgbotapi markup: inline, else reply,
// else remove, else nil.
func markupOf(m Message) any {
	switch {
	case len(m.Inline) > 0:
		return inlineMarkupOf(m.Inline)
	case len(m.Reply) > 0:
		rows := make([][]tgbotapi.KeyboardButton, 0, len(m.Reply))
		for _, row := range m.Reply {
			r := make([]tgbotapi.KeyboardButton, 0, len(row))
			for _, b := range row {
				r = append(r, tgbotapi.KeyboardButton{Text: b.Text, RequestContact: b.RequestContact,
					RequestLocation: b.RequestLocation})
			}
			rows = append(rows, r)
		}
		return tgbotapi.ReplyKeyboardMarkup{Keyboard: rows, ResizeKeyboard: true}
	case m.RemoveReply:
		return tgbotapi.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	return nil
}

// inlineMarkupOf maps an inline keyboard; nil for none. A button with a URL
// opens it; any other sends its Data back as a callback.
func inlineMarkupOf(rows [][]Button) *tgbotapi.InlineKeyboardMarkup {
	if len(rows) == 0 {
		return nil
	}
	kb := make([][]tgbotapi.InlineKeyboardButton, 0, len(rows))
	for _, row := range rows {
		r := make([]tgbotapi.InlineKeyboardButton, 0, len(row))
		for _, b := range row {
			if b.URL != "" {
				r = append(r, tgbotapi.NewInlineKeyboardButtonURL(b.Text, b.URL))
			} else {
				r = append(r, tgbotapi.NewInlineKeyboardButtonData(b.Text, b.Data))
			}
		}
		kb = append(kb, r)
	}
	return &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: kb}
}

// utf16Units returns the length of s in UTF-16 code units, as Telegram
// measures text.
func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// splitText cuts s into parts of at most limit UTF-16 units. It cuts at line
// breaks (dropping the newline there), a line longer than limit at its last
// fitting space (dropping the space), else at a rune boundary. Blank parts are
// dropped, since the Bot API refuses blank text; so blank s gives no part.
func splitText(s string, limit int) []string {
	if utf16Units(s) <= limit {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return []string{s}
	}
	var parts []string
	emit := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	var cur strings.Builder
	curUnits, started := 0, false
	for line := range strings.SplitSeq(s, "\n") {
		n := utf16Units(line)
		if started && curUnits+1+n <= limit {
			cur.WriteByte('\n')
			cur.WriteString(line)
			curUnits += 1 + n
			continue
		}
		if started {
			emit(cur.String())
			cur.Reset()
		}
		if n > limit {
			chunks := splitLine(line, limit)
			for _, ch := range chunks[:len(chunks)-1] {
				emit(ch)
			}
			line = chunks[len(chunks)-1]
			n = utf16Units(line)
		}
		cur.WriteString(line)
		curUnits, started = n, true
	}
	emit(cur.String())
	return parts
}

// splitLine cuts a line into chunks of at most limit UTF-16 units, at the
// last space that fits (dropped), else at the last rune that fits.
func splitLine(line string, limit int) []string {
	var chunks []string
	for utf16Units(line) > limit {
		cut, units := 0, 0 // cut: byte offset of the first rune that does not fit
		for i, r := range line {
			u := max(utf16.RuneLen(r), 1)
			if units+u > limit {
				cut = i
				break
			}
			units += u
		}
		if sp := strings.LastIndexByte(line[:cut], ' '); sp > 0 {
			chunks = append(chunks, line[:sp])
			line = line[sp+1:]
			continue
		}
		if cut == 0 { // limit below one rune: take one anyway
			_, cut = utf8.DecodeRuneInString(line)
		}
		chunks = append(chunks, line[:cut])
		line = line[cut:]
	}
	return append(chunks, line)
}

// newTransport is an HTTP transport that keeps enough idle connections to
// the one Bot API host for every dispatch worker: with net/http's default
// of 2 per host, concurrent sends closed and re-dialed connections all the
// time, and dialing took a fifth of the bot's CPU.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return t
}

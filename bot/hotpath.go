package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The hot path: sendMessage, editMessageText and answerCallbackQuery, the
// calls of almost every update, are written by hand as JSON into a pooled
// buffer (the Bot API takes application/json; Persian text stays as it is,
// where a form would escape each of its bytes into three), and only ok,
// error_code, description, retry_after and result.message_id are read from
// the answer. tgbotapi builds every other call.

// hotMaxAnswer bounds the answer body read; a message answer is a few KB.
const hotMaxAnswer = 1 << 20

// jsonHeader is the header of every hand-built call. Neither transport
// changes a request's header (http.Client copies it before it adds one).
var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// outgoing is one hand-built request body. It goes back to the pool only when
// its builder released it and the transport closed every reader of it: the
// transport may read a body after Do returns, and re-read it (GetBody) when a
// kept-alive connection turned out dead.
type outgoing struct {
	buf  bytes.Buffer
	refs atomic.Int32
}

var outgoingPool = sync.Pool{New: func() any { return new(outgoing) }}

func getOutgoing() *outgoing {
	o := outgoingPool.Get().(*outgoing)
	o.refs.Store(1)
	return o
}

func (o *outgoing) release() {
	if o.refs.Add(-1) != 0 {
		return
	}
	if o.buf.Cap() > 64<<10 {
		return // let an unusually big one go
	}
	o.buf.Reset()
	outgoingPool.Put(o)
}

// reader returns a new reader of the body, holding a reference until closed.
func (o *outgoing) reader() *outgoingBody {
	o.refs.Add(1)
	b := &outgoingBody{o: o}
	b.r.Reset(o.buf.Bytes())
	return b
}

type outgoingBody struct {
	r      bytes.Reader
	o      *outgoing
	closed atomic.Bool
}

func (b *outgoingBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *outgoingBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.o.release()
	}
	return nil
}

// answerBufs hold answer bodies while they are decoded.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// hotAnswer is the part of a Bot API answer the hot path reads.
type hotAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
	Result hotResult `json:"result"`
}

// hotResult is a result as the hot path needs it: true, or a Message of
// which only message_id is kept.
type hotResult struct{ messageID int }

// UnmarshalJSON implements json.Unmarshaler.
func (r *hotResult) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil // true
	}
	var m struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.messageID = m.MessageID
	return nil
}

// hotSendMessage is sendMessage (https://core.telegram.org/bots/api#sendmessage)
// of text to chatID, with m's keyboard when m is not nil.
func (c *Client) hotSendMessage(chatID int64, text string, m *Message, ln lane) apiCall {
	o := getOutgoing()
	b := o.buf.AvailableBuffer()
	b = append(b, `{"chat_id":`...)
	b = strconv.AppendInt(b, chatID, 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, text)
	if m != nil && (len(m.Inline) > 0 || len(m.Reply) > 0 || m.RemoveReply) {
		b = append(b, `,"reply_markup":`...)
		b = appendMarkupJSON(b, m)
	}
	b = append(b, '}')
	o.buf.Write(b)
	return c.hotCall("sendMessage", c.urlSendMessage, chatID, ln, limitChat, false, o)
}

// hotEditText is editMessageText (https://core.telegram.org/bots/api#editmessagetext)
// with an inline keyboard (none when inline is empty).
func (c *Client) hotEditText(chatID int64, messageID int, text string, inline [][]Button, ln lane) apiCall {
	o := getOutgoing()
	b := o.buf.AvailableBuffer()
	b = append(b, `{"chat_id":`...)
	b = strconv.AppendInt(b, chatID, 10)
	b = append(b, `,"message_id":`...)
	b = strconv.AppendInt(b, int64(messageID), 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, text)
	if len(inline) > 0 {
		b = append(b, `,"reply_markup":`...)
		b = appendInlineJSON(b, inline)
	}
	b = append(b, '}')
	o.buf.Write(b)
	return c.hotCall("editMessageText", c.urlEditText, chatID, ln, limitNone, true, o)
}

// hotAnswerCallback is answerCallbackQuery
// (https://core.telegram.org/bots/api#answercallbackquery).
func (c *Client) hotAnswerCallback(callbackID, text string) apiCall {
	o := getOutgoing()
	b := o.buf.AvailableBuffer()
	b = append(b, `{"callback_query_id":`...)
	b = appendJSONString(b, callbackID)
	if text != "" {
		b = append(b, `,"text":`...)
		b = appendJSONString(b, text)
	}
	b = append(b, '}')
	o.buf.Write(b)
	return c.hotCall("answerCallbackQuery", c.urlAnswerCallback, 0, laneReply, limitNone, true, o)
}

// hotRequest is a hand-built call's method, address and body.
type hotRequest struct {
	method string
	u      *url.URL
	o      *outgoing
}

func (c *Client) hotCall(method string, u *url.URL, chatID int64, ln lane, scope limitScope, idempotent bool, o *outgoing) apiCall {
	h := &hotRequest{method: method, u: u, o: o}
	return apiCall{method: method, chatID: chatID, lane: ln, scope: scope, idempotent: idempotent,
		release: o.release, hot: h,
		run: func(ctx context.Context) (answer, error) { return c.post(ctx, h) }}
}

// request is h as an HTTP request under ctx. Built by hand: http.NewRequest
// parses the URL on every call, which was a sixth of post's time.
func (h *hotRequest) request(ctx context.Context) *http.Request {
	target := *h.u
	return (&http.Request{
		Method: http.MethodPost, URL: &target, Host: target.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        jsonHeader, // read only, by every request
		Body:          h.o.reader(),
		GetBody:       func() (io.ReadCloser, error) { return h.o.reader(), nil },
		ContentLength: int64(h.o.buf.Len()),
	}).WithContext(ctx)
}

// post makes one attempt of a hand-built call.
func (c *Client) post(ctx context.Context, h *hotRequest) (answer, error) {
	var resp *http.Response
	var err error
	if c.direct != nil {
		ctx, cancel := withCallDeadline(ctx)
		defer cancel() // the answer is read before post returns
		if resp, err = c.direct.RoundTrip(h.request(ctx)); err != nil {
			return answer{}, c.transportErr(h, err)
		}
	} else if resp, err = c.httpClient.Do(h.request(ctx)); err != nil {
		return answer{}, redactToken(err, c.token)
	}
	defer resp.Body.Close()
	return c.readAnswer(h.method, resp)
}

// postPair makes one attempt of a and b, pipelined on one connection of the
// direct transport; the outcome of each is what post would give.
func (c *Client) postPair(ctx context.Context, a, b *hotRequest) (ansA answer, errA error, ansB answer, errB error) {
	ctx, cancel := withCallDeadline(ctx)
	defer cancel()
	methods := [2]string{a.method, b.method}
	i := 0
	ansA, errA, ansB, errB = c.direct.roundTripPair(a.request(ctx), b.request(ctx), func(resp *http.Response) (answer, error) {
		m := methods[min(i, 1)]
		i++
		return c.readAnswer(m, resp)
	})
	wrap := func(h *hotRequest, err error) error {
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			return err
		}
		return c.transportErr(h, err)
	}
	return ansA, wrap(a, errA), ansB, wrap(b, errB)
}

// withCallDeadline gives a call on the direct transport, which has no
// http.Client.Timeout, its default deadline when ctx has none.
func withCallDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultHTTPTimeout)
}

// transportErr is err of a round trip of h as http.Client words it, without
// the token.
func (c *Client) transportErr(h *hotRequest, err error) error {
	return redactToken(&url.Error{Op: "Post", URL: h.u.String(), Err: err}, c.token)
}

// readAnswer reads and decodes the answer to a hand-built call of method.
func (c *Client) readAnswer(method string, resp *http.Response) (answer, error) {
	rb := answerBufs.Get().(*bytes.Buffer)
	defer func() {
		if rb.Cap() <= 64<<10 {
			rb.Reset()
			answerBufs.Put(rb)
		}
	}()
	if _, err := rb.ReadFrom(io.LimitReader(resp.Body, hotMaxAnswer)); err != nil {
		return answer{}, redactToken(err, c.token)
	}
	var a hotAnswer
	if !decodeAnswer(rb.Bytes(), &a) {
		var slow hotAnswer // its own: handing a to encoding/json would put it on the heap every call
		if err := json.Unmarshal(rb.Bytes(), &slow); err != nil {
			if resp.StatusCode >= 500 {
				return answer{}, &APIError{Method: method, Code: resp.StatusCode}
			}
			return answer{}, fmt.Errorf("undecodable answer (HTTP %d): %w", resp.StatusCode, err)
		}
		a = slow
	}
	if !a.OK {
		code := a.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return answer{}, &APIError{Method: method, Code: code, Description: c.redactText(a.Description),
			RetryAfter: time.Duration(a.Parameters.RetryAfter) * time.Second}
	}
	return answer{messageID: a.Result.messageID}, nil
}

// appendMarkupJSON appends m's keyboard as reply_markup JSON: inline, else
// reply, else remove; nothing when m has none (see markupOf).
func appendMarkupJSON(b []byte, m *Message) []byte {
	switch {
	case len(m.Inline) > 0:
		return appendInlineJSON(b, m.Inline)
	case len(m.Reply) > 0:
		b = append(b, `{"keyboard":[`...)
		for i, row := range m.Reply {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			for j, k := range row {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"text":`...)
				b = appendJSONString(b, k.Text)
				if k.RequestContact {
					b = append(b, `,"request_contact":true`...)
				}
				if k.RequestLocation {
					b = append(b, `,"request_location":true`...)
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		return append(b, `],"resize_keyboard":true}`...)
	case m.RemoveReply:
		return append(b, `{"remove_keyboard":true}`...)
	}
	return b
}

// appendInlineJSON appends an inline keyboard; a button with a URL opens it,
// any other sends its Data back as a callback.
func appendInlineJSON(b []byte, rows [][]Button) []byte {
	b = append(b, `{"inline_keyboard":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, k := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"text":`...)
			b = appendJSONString(b, k.Text)
			if k.URL != "" {
				b = append(b, `,"url":`...)
				b = appendJSONString(b, k.URL)
			} else {
				b = append(b, `,"callback_data":`...)
				b = appendJSONString(b, k.Data)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		ch := s[i]
		if ch < utf8.RuneSelf {
			switch {
			case ch == '"' || ch == '\\':
				b = append(b, '\\', ch)
			case ch == '\n':
				b = append(b, '\\', 'n')
			case ch == '\r':
				b = append(b, '\\', 'r')
			case ch == '\t':
				b = append(b, '\\', 't')
			case ch < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&15])
			default:
				b = append(b, ch)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

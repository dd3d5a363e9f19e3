package bot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// countWrites makes tr's new connections count their writes.
func countWrites(tr *directTransport) *atomic.Int32 {
	var writes atomic.Int32
	dial := tr.dial
	tr.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeCounter{Conn: c, writes: &writes}, nil
	}
	return &writes
}

// TestAnswerAndEditPipelined: a press's callback answer and edit go in one
// write on one connection, and each gets what AnswerCallback and Send
// would: the toast shown, the message edited; an edit that changes nothing
// is no error.
func TestAnswerAndEditPipelined(t *testing.T) {
	f := newFixture(t, nil)
	writes := countWrites(f.client.direct)
	ctx := context.Background()
	chat, user := bottest.Private(31)
	id, err := f.client.Send(ctx, Message{ChatID: chat.ID, Text: "مرحله یک", Inline: [][]Button{{{Text: "بعدی", Data: "n"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"مرحله دو", "مرحله دو"} {
		upd := f.srv.PressButton(chat, user, id, "n")
		writes.Store(0)
		cbErr, got, err := f.client.AnswerAndEdit(ctx, bottest.CallbackQueryID(upd), "ثبت شد", Message{ChatID: chat.ID, EditMessageID: id, Text: text,
			Inline: [][]Button{{{Text: "بازگشت", Data: "b"}}}})
		if cbErr != nil || err != nil || got != id {
			t.Fatalf("press %d: AnswerAndEdit = %v, %d, %v; want the edited message %d", i, cbErr, got, err, id)
		}
		if n := writes.Load(); n != 1 {
			t.Errorf("press %d: %d writes for the answer and the edit, want 1", i, n)
		}
		if a := f.srv.CallbackAnswer(upd); !a.Answered || a.Text != "ثبت شد" {
			t.Errorf("press %d: callback answer = %+v", i, a)
		}
	}
	if m, _ := f.srv.Message(chat.ID, id); m.Text != "مرحله دو" || m.Edits != 1 || len(m.Inline) != 1 || m.Inline[0][0].CallbackData != "b" {
		t.Errorf("the message is %+v; want it edited once to the second step", m)
	}
	if !f.client.direct.pipelines() {
		t.Error("pipelining was turned off")
	}
}

// TestAnswerAndEditFaults: a fault on either call of the pair is handled
// as it is for the call alone: a 429 on the edit is waited out and the edit
// sent again, an old query's 400 is the answer's error only, and an
// answer lost with its connection is sent again with the edit.
func TestAnswerAndEditFaults(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	chat, user := bottest.Private(32)
	id, err := f.client.Send(ctx, Message{ChatID: chat.ID, Text: "پرسش", Inline: [][]Button{{{Text: "بله", Data: "y"}}}})
	if err != nil {
		t.Fatal(err)
	}
	press := func(text string) (int, error, error) {
		t.Helper()
		upd := f.srv.PressButton(chat, user, id, "y")
		cbErr, _, err := f.client.AnswerAndEdit(ctx, bottest.CallbackQueryID(upd), "", Message{ChatID: chat.ID, EditMessageID: id, Text: text})
		return upd, cbErr, err
	}

	f.srv.FailNext("editMessageText", 1, bottest.Fault{Code: http.StatusTooManyRequests, RetryAfter: 3})
	upd, cbErr, err := press("پاسخ یک")
	if cbErr != nil || err != nil || !f.srv.CallbackAnswer(upd).Answered {
		t.Fatalf("after a 429 on the edit: %v, %v, answered %v", cbErr, err, f.srv.CallbackAnswer(upd).Answered)
	}
	if got := f.waits.got(); len(got) == 0 || got[len(got)-1] < 3*time.Second {
		t.Errorf("waits = %v; want the edit to wait out retry_after 3s", got)
	}
	if m, _ := f.srv.Message(chat.ID, id); m.Text != "پاسخ یک" {
		t.Errorf("after the 429 the message is %q", m.Text)
	}

	f.srv.FailNext("answerCallbackQuery", 1, bottest.Fault{Code: http.StatusBadRequest, Description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
	_, cbErr, err = press("پاسخ دو")
	if !errors.Is(cbErr, ErrBadRequest) || err != nil {
		t.Fatalf("an old query: answer %v, edit %v; want ErrBadRequest and the edit done", cbErr, err)
	}
	if m, _ := f.srv.Message(chat.ID, id); m.Text != "پاسخ دو" {
		t.Errorf("after the old query the message is %q", m.Text)
	}

	answers, edits := f.srv.Calls("answerCallbackQuery"), f.srv.Calls("editMessageText")
	f.srv.FailNext("answerCallbackQuery", 1, bottest.Fault{DropConnection: true})
	upd, cbErr, err = press("پاسخ سه")
	if cbErr != nil || err != nil || !f.srv.CallbackAnswer(upd).Answered {
		t.Fatalf("after a dropped connection: %v, %v, answered %v", cbErr, err, f.srv.CallbackAnswer(upd).Answered)
	}
	if m, _ := f.srv.Message(chat.ID, id); m.Text != "پاسخ سه" {
		t.Errorf("after the dropped connection the message is %q", m.Text)
	}
	if a, e := f.srv.Calls("answerCallbackQuery")-answers, f.srv.Calls("editMessageText")-edits; a != 2 || e < 1 || e > 2 {
		t.Errorf("after a dropped connection: %d answers, %d edits; want the answer twice and the edit done once or twice", a, e)
	}
	if !f.client.direct.pipelines() {
		t.Error("a connection dropped before any answer turned pipelining off")
	}
}

// TestDirectTransportPairCut: a first answer that closes its connection
// leaves the second call's outcome unknown (its error says so), and
// pipelining stays on: the server answered as HTTP allows.
func TestDirectTransportPairCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	tr := newDirectTransport(newTransport())
	defer tr.CloseIdleConnections()
	a, b := echoRequest(t, srv.URL, "a"), echoRequest(t, srv.URL, "b")
	ansA, errA, _, errB := tr.roundTripPair(a, b, readEcho)
	if errA != nil || string(ansA.result) != "a" || !errors.Is(errB, errPairCut) {
		t.Errorf("pair = %q, %v / %v; want a's answer and b cut", ansA.result, errA, errB)
	}
	if !tr.pipelines() || len(idleConns(tr)) != 0 {
		t.Errorf("pipelines %v, %d idle connections; want on, none kept", tr.pipelines(), len(idleConns(tr)))
	}
}

// TestDirectTransportPairUnanswered: a server that answers the first of
// two pipelined requests and never the second turns pipelining off.
func TestDirectTransportPairUnanswered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		io.Copy(io.Discard, c) // the second request is read and never answered
	}()
	tr := newDirectTransport(newTransport())
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	url := "http://" + ln.Addr().String()
	a, b := echoRequest(t, url, "a").WithContext(ctx), echoRequest(t, url, "b").WithContext(ctx)
	ansA, errA, _, errB := tr.roundTripPair(a, b, readEcho)
	if errA != nil || string(ansA.result) != "a" || errB == nil {
		t.Errorf("pair = %q, %v / %v; want a's answer and b failed", ansA.result, errA, errB)
	}
	if tr.pipelines() {
		t.Error("pipelining is still on after a second answer that never came")
	}
}

// echoRequest is a hot-path-like POST of body to url.
func echoRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/botT/answerCallbackQuery", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return req
}

// readEcho reads an echoed body as the answer's result.
func readEcho(resp *http.Response) (answer, error) {
	b, err := io.ReadAll(resp.Body)
	return answer{result: b}, err
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
)

// recorder stands for a platform's sender: what the router asked to send,
// failing the sends listed in fail (by position).
type recorder struct {
	sent     []bot.Message
	answered []string
	fail     map[int]error
}

func (r *recorder) Send(_ context.Context, m bot.Message) (int, error) {
	n := len(r.sent)
	r.sent = append(r.sent, m)
	if err := r.fail[n]; err != nil {
		return 0, err
	}
	return 100 + n, nil
}

func (r *recorder) AnswerCallback(_ context.Context, id, text string) error {
	r.answered = append(r.answered, id+":"+text)
	return nil
}

// scripted is a conversation engine that answers with fixed outputs or an error.
type scripted struct {
	outs     []conversations.Out
	err      error
	prompted []int
}

func (s *scripted) Handle(context.Context, conversations.Key, conversations.Input) ([]conversations.Out, error) {
	return s.outs, s.err
}

func (s *scripted) Prompted(_ context.Context, _ conversations.Key, id int) error {
	s.prompted = append(s.prompted, id)
	return nil
}

func private(text string) bot.Update {
	return bot.Update{Platform: bot.Telegram, ID: 7, Kind: bot.KindMessage, ChatID: 42, ChatType: bot.ChatPrivate,
		From: bot.User{ID: 42}, Text: text}
}

// Every error becomes a Persian sentence; only EINVALID carries its own.
func TestErrorsBecomePersian(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"internal", errors.New("redis: connection refused"), msgInternal},
		{"conflict", fmt.Errorf("x: %w", models.Errorf(models.ECONFLICT, "lost race")), msgBusy},
		{"forbidden", models.Errorf(models.EFORBIDDEN, "person 3 is not a member"), msgForbidden},
		{"not found", models.Errorf(models.ENOTFOUND, "action 9 not found"), msgNotFound},
		{"invalid", models.Errorf(models.EINVALID, "شماره معتبر نیست."), "شماره معتبر نیست."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: &scripted{err: tt.err}})
			if err := r.Handle(context.Background(), private("سلام")); err != nil {
				t.Fatalf("Handle = %v, want nil: the person was told", err)
			}
			if len(rec.sent) != 1 || rec.sent[0].Text != tt.want {
				t.Fatalf("sent %+v, want one message %q", rec.sent, tt.want)
			}
		})
	}
}

// A send refused with 400 is not retried forever, a blocked person ends
// the delivery, any other failure is returned so the update is tried again.
func TestDeliveryPolicy(t *testing.T) {
	outs := []conversations.Out{{Text: "یک"}, {Text: "دو", Prompt: true}, {Text: "سه"}}
	tests := []struct {
		name     string
		fail     map[int]error
		wantErr  bool
		wantSent int
	}{
		{"all delivered", nil, false, 3},
		{"bad request skipped", map[int]error{0: fmt.Errorf("send: %w", bot.ErrBadRequest)}, false, 3},
		{"blocked stops", map[int]error{1: fmt.Errorf("send: %w", bot.ErrBlocked)}, false, 2},
		{"network error retried", map[int]error{1: errors.New("connection reset")}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: tt.fail}
			conv := &scripted{outs: outs}
			r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: conv})
			err := r.Handle(context.Background(), private("سلام"))
			if (err != nil) != tt.wantErr {
				t.Errorf("Handle error = %v, want error %v", err, tt.wantErr)
			}
			if len(rec.sent) != tt.wantSent {
				t.Errorf("sends tried = %d, want %d", len(rec.sent), tt.wantSent)
			}
			if tt.fail == nil && (len(conv.prompted) != 1 || conv.prompted[0] != 101) {
				t.Errorf("prompt ids remembered = %v, want [101]", conv.prompted)
			}
		})
	}
}

// In a group only our own commands get an answer, once, with a link.
func TestGroupCommands(t *testing.T) {
	rec := &recorder{}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Bale: rec},
		BotUsernames: map[bot.Platform]string{bot.Bale: "mahalle_bot"}, Conversations: &scripted{}})
	for _, text := range []string{"سلام", "/start@other_bot", "/help@Mahalle_Bot", "/start"} {
		u := bot.Update{Platform: bot.Bale, Kind: bot.KindMessage, ChatID: -5, ChatType: bot.ChatSupergroup, Text: text}
		if strings.HasPrefix(text, "/") {
			u.Command = strings.TrimPrefix(strings.SplitN(text, "@", 2)[0], "/")
		}
		if err := r.Handle(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.sent) != 2 {
		t.Fatalf("group answers = %d, want 2 (our two commands):\n%+v", len(rec.sent), rec.sent)
	}
	if got := rec.sent[0].Inline[0][0].URL; got != "https://ble.ir/mahalle_bot" {
		t.Errorf("link = %q, want Bale's", got)
	}
}

// pairRecorder is a recorder that also answers a press and edits in one go.
type pairRecorder struct {
	recorder
	pairs  []string // callback id:edited message id
	cbFail error
}

func (p *pairRecorder) AnswerAndEdit(ctx context.Context, callbackID, text string, m bot.Message) (error, int, error) {
	p.pairs = append(p.pairs, fmt.Sprintf("%s:%d", callbackID, m.EditMessageID))
	p.answered = append(p.answered, callbackID+":"+text)
	id, err := p.Send(ctx, m)
	return p.cbFail, id, err
}

// A press's answer and the edit that follows it go to the sender as one
// pair, with the same outcome as apart: the prompt id remembered, a retry
// sends neither again; a lone answer, or one before a new message, goes
// alone.
func TestDeliveryPairsAnswerAndEdit(t *testing.T) {
	press := bot.Update{Platform: bot.Telegram, ID: 8, Kind: bot.KindCallback, ChatID: 42, ChatType: bot.ChatPrivate,
		From: bot.User{ID: 42}, MessageID: 5, Callback: &bot.Callback{ID: "cb1", Data: "x"}}
	outs := []conversations.Out{{AnswerCallback: "cb1"}, {Edit: 5, Text: "مرحلهٔ بعد", Prompt: true}, {Text: "پیام تازه"}}
	rec := &pairRecorder{cbFail: fmt.Errorf("answer: %w", bot.ErrBadRequest)}
	conv := &scripted{outs: outs}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: conv})
	ctx := bot.WithDelivered(context.Background(), &bot.Delivered{})
	if err := r.Handle(ctx, press); err != nil {
		t.Fatal(err)
	}
	if len(rec.pairs) != 1 || rec.pairs[0] != "cb1:5" || len(rec.sent) != 2 || rec.sent[1].Text != "پیام تازه" {
		t.Fatalf("pairs %v, sent %+v; want the answer with the edit of 5, then the new message", rec.pairs, rec.sent)
	}
	if len(conv.prompted) != 1 || conv.prompted[0] != 100 {
		t.Errorf("prompt ids remembered = %v, want [100]", conv.prompted)
	}
	// Tried again (the update's second attempt): what was delivered is not
	// sent again, the old query's 400 included.
	if err := r.Handle(ctx, press); err != nil {
		t.Fatal(err)
	}
	if len(rec.pairs) != 1 || len(rec.answered) != 1 || len(rec.sent) != 3 {
		t.Errorf("second attempt: pairs %v, answers %v, %d sends; want only the new message again", rec.pairs, rec.answered, len(rec.sent))
	}

	// An answer followed by a new message goes alone.
	rec = &pairRecorder{}
	r = NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: &scripted{outs: []conversations.Out{{AnswerCallback: "cb2", Note: "ثبت شد"}, {Text: "پیام"}}}})
	if err := r.Handle(context.Background(), press); err != nil {
		t.Fatal(err)
	}
	if len(rec.pairs) != 0 || len(rec.answered) != 1 || rec.answered[0] != "cb2:ثبت شد" || len(rec.sent) != 1 {
		t.Errorf("pairs %v, answers %v, sent %d; want the answer alone, then the message", rec.pairs, rec.answered, len(rec.sent))
	}
}

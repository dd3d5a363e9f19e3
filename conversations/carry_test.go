package conversations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/conversations"
)

// A draft written before the engine kept its bookkeeping apart ("_arg" and
// "<step>_q" among the answers) goes on: the argument reaches Submit, and
// the old keys never show as answers.
func TestOldDraftCarriedOver(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	var got conversations.Submission
	flow := textFlow(1, []string{"a", "b"}, fx.store, fx.place, fx.commit)
	submit := flow.Submit
	flow.Submit = func(ctx context.Context, sub conversations.Submission) (string, error) {
		got = sub
		return submit(ctx, sub)
	}
	e := fx.engine(flow)
	k := conversations.Key{Platform: "tg", ChatID: 41, UserID: 41}
	old := conversations.State{
		Flow: "t", FlowVersion: 1, Run: "oldrun", Step: "b", Nonce: "ab12",
		Answers: map[string]conversations.Answer{
			"a":       {Text: "پاسخ الف"},
			"_arg":    {Text: "42"},
			"place_q": {Text: "نمونه"},
		},
		Trail:   []string{"a"},
		Expires: time.Now().Add(time.Hour).Unix(),
	}
	if _, err := fx.convs.Save(ctx, k, 0, &old, time.Hour); err != nil {
		t.Fatal(err)
	}
	outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 41, Text: "پاسخ ب"})
	if err != nil {
		t.Fatal(err)
	}
	if s := texts(outs); !strings.Contains(s, "خلاصه") || strings.Contains(s, "_arg") || strings.Contains(s, "place_q") {
		t.Fatalf("after the old draft's last answer: %q", s)
	}
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 41, CallbackID: "c", CallbackData: buttonData(t, outs, "تأیید")}); err != nil {
		t.Fatal(err)
	}
	if got.Arg != "42" || got.Answers["a"].Text != "پاسخ الف" || got.Answers["b"].Text != "پاسخ ب" {
		t.Errorf("submission = %+v", got)
	}
	for key := range got.Answers {
		if strings.HasPrefix(key, "_") || strings.HasSuffix(key, "_q") {
			t.Errorf("bookkeeping %q among the answers", key)
		}
	}
	if got.Hidden["place.q"].Text != "نمونه" {
		t.Errorf("hidden = %+v, want the old search text kept", got.Hidden)
	}
}

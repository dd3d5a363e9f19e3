package main

import (
	"context"
	"time"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
)

// botQueue is the Redis queue of conversations seen as bot.Queue: bot/ does
// not import Redis, and conversations does not speak bot's types. Its Done
// also writes what the engine set aside for the chat
// (conversations.Config.DeferWrites), the update's transition and its
// prompt's id: two round trips less per update.
type botQueue struct {
	q      *conversations.Queue
	engine *conversations.Engine // its Config.DeferWrites is set
}

var _ bot.BatchQueue = botQueue{}

// Push implements bot.Queue.
func (b botQueue) Push(ctx context.Context, k bot.ChatKey, id int, raw []byte) error {
	return b.q.Push(ctx, string(k.Platform), k.ChatID, id, raw)
}

// PushAll implements bot.BatchQueue.
func (b botQueue) PushAll(ctx context.Context, owner string, lease time.Duration, items []bot.Pushed) ([]bot.Head, error) {
	in := make([]conversations.Pushed, len(items))
	for i, it := range items {
		in[i] = conversations.Pushed{Platform: string(it.Key.Platform), ChatID: it.Key.ChatID, ID: it.ID, Raw: it.Raw}
	}
	heads, err := b.q.PushAll(ctx, owner, lease, in)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Head, len(heads))
	for i, h := range heads {
		if h.Claimed {
			out[i] = bot.Head{Queued: bot.Queued{ID: h.ID, Raw: h.Raw}, Claim: bot.Taken}
		}
	}
	return out, nil
}

// Pending implements bot.Queue.
func (b botQueue) Pending(ctx context.Context) ([]bot.ChatKey, error) {
	chats, err := b.q.Pending(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bot.ChatKey, len(chats))
	for i, c := range chats {
		out[i] = bot.ChatKey{Platform: bot.Platform(c.Platform), ChatID: c.ChatID}
	}
	return out, nil
}

// Take implements bot.Queue.
func (b botQueue) Take(ctx context.Context, k bot.ChatKey, owner string, lease time.Duration) (bot.Queued, bot.Claim, error) {
	return claimOf(b.q.Take(ctx, string(k.Platform), k.ChatID, owner, lease))
}

// Done implements bot.Queue.
func (b botQueue) Done(ctx context.Context, k bot.ChatKey, owner string, id int, lease time.Duration) (bot.Queued, bot.Claim, error) {
	writes := b.engine.TakeWrites(string(k.Platform), k.ChatID)
	n, raw, st, applied, err := b.q.DoneWith(ctx, string(k.Platform), k.ChatID, owner, id, lease, writes)
	b.engine.WritesDone(writes, applied)
	return claimOf(n, raw, st, err)
}

func claimOf(id int, raw []byte, st conversations.TakeStatus, err error) (bot.Queued, bot.Claim, error) {
	claim := bot.Empty
	switch st {
	case conversations.TakeBusy:
		claim = bot.Busy
	case conversations.TakeTaken:
		claim = bot.Taken
	}
	return bot.Queued{ID: id, Raw: raw}, claim, err
}

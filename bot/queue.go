package bot

import (
	"context"
	"slices"
	"sync"
	"time"
)

// ChatKey names one chat's queue: the platform and the chat id, or the
// sender's id for an update without a chat (a button on an inline-mode
// message), whose other updates come from their private chat.
type ChatKey struct {
	Platform Platform
	ChatID   int64
}

// Group reports whether the key is a group's (negative chat ids).
func (k ChatKey) Group() bool { return k.ChatID < 0 }

// chatKeyOf returns the queue an update belongs to.
func chatKeyOf(u Update) ChatKey {
	id := u.ChatID
	if id == 0 {
		id = u.From.ID
	}
	return ChatKey{Platform: u.Platform, ChatID: id}
}

// Queued is one update waiting in its chat's queue, as the Bot API sent it.
type Queued struct {
	ID  int
	Raw []byte
}

// Queue is the durable per-chat queue between intake (the poller, the
// webhook) and the workers. It is declared here, where it is consumed; the
// Redis implementation lives in conversations. A chat is handled by one
// owner at a time, under a lease, so that replicas sharing one queue keep
// each chat's updates in order.
type Queue interface {
	// Push appends update id to its chat's queue, durably, unless it is
	// there already; the chat is then listed by Pending.
	Push(ctx context.Context, k ChatKey, id int, raw []byte) error
	// Pending lists the chats whose queues may hold updates.
	Pending(ctx context.Context) ([]ChatKey, error)
	// Take claims the chat for owner (or renews owner's claim) for lease and
	// returns its oldest update (Taken); Busy when another owner holds the
	// chat; Empty when the queue is empty (the claim is then released).
	Take(ctx context.Context, k ChatKey, owner string, lease time.Duration) (Queued, Claim, error)
	// Done removes the handled update id from the chat's queue and then does
	// what Take does, in one step.
	Done(ctx context.Context, k ChatKey, owner string, id int, lease time.Duration) (Queued, Claim, error)
}

// BatchQueue is a Queue that also pushes many updates in one round trip and,
// in the same step, claims the chats nobody holds. The Redis queue is one;
// the poller and the webhook use it when the Queue is one.
type BatchQueue interface {
	Queue
	// PushAll does Push for each of items. Each chat that no owner held
	// is claimed for owner for lease, and its oldest update returned in
	// heads[i] (Claim Taken), for items[i] of that chat; heads[i].Claim
	// is Empty otherwise. After an error some items may be queued and
	// some chats claimed: pushing again is harmless.
	PushAll(ctx context.Context, owner string, lease time.Duration, items []Pushed) (heads []Head, err error)
}

// Pushed is one update for BatchQueue.PushAll.
type Pushed struct {
	Key ChatKey
	ID  int
	Raw []byte
}

// Head is what BatchQueue.PushAll found for one update.
type Head struct {
	Queued
	Claim Claim // Taken: the chat is claimed and Queued is its oldest update
}

// Claim is what Queue.Take found.
type Claim int

// The outcomes of Queue.Take.
const (
	Empty Claim = iota // nothing queued; the claim is released
	Busy               // another owner holds the chat
	Taken              // the oldest update is returned and the chat is claimed
)

// MemQueue is a Queue in process memory: for tests and tools. It is not
// durable: a crash loses the updates it holds, which the Bot API already
// counts as delivered.
type MemQueue struct {
	mu     sync.Mutex
	items  map[ChatKey][]Queued
	owners map[ChatKey]memLease
	now    func() time.Time
}

type memLease struct {
	owner string
	until time.Time
}

// NewMemQueue returns an empty MemQueue.
func NewMemQueue() *MemQueue {
	return &MemQueue{items: map[ChatKey][]Queued{}, owners: map[ChatKey]memLease{}, now: time.Now}
}

var _ Queue = (*MemQueue)(nil)

// Push implements Queue.
func (m *MemQueue) Push(_ context.Context, k ChatKey, id int, raw []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.items[k]
	i, found := slices.BinarySearchFunc(q, id, func(e Queued, id int) int { return e.ID - id })
	if found {
		return nil
	}
	m.items[k] = slices.Insert(q, i, Queued{ID: id, Raw: slices.Clone(raw)})
	return nil
}

// Pending implements Queue.
func (m *MemQueue) Pending(context.Context) ([]ChatKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ChatKey, 0, len(m.items))
	for k, q := range m.items {
		if len(q) > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// Total counts the updates queued for every chat.
func (m *MemQueue) Total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, q := range m.items {
		n += len(q)
	}
	return n
}

// Take implements Queue.
func (m *MemQueue) Take(_ context.Context, k ChatKey, owner string, lease time.Duration) (Queued, Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l, ok := m.owners[k]; ok && l.owner != owner && now.Before(l.until) {
		return Queued{}, Busy, nil
	}
	q := m.items[k]
	if len(q) == 0 {
		delete(m.owners, k)
		delete(m.items, k)
		return Queued{}, Empty, nil
	}
	m.owners[k] = memLease{owner: owner, until: now.Add(lease)}
	return q[0], Taken, nil
}

// Done implements Queue.
func (m *MemQueue) Done(ctx context.Context, k ChatKey, owner string, id int, lease time.Duration) (Queued, Claim, error) {
	m.mu.Lock()
	m.items[k] = slices.DeleteFunc(m.items[k], func(e Queued) bool { return e.ID == id })
	m.mu.Unlock()
	return m.Take(ctx, k, owner, lease)
}

// Len counts the updates queued for k.
func (m *MemQueue) Len(k ChatKey) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items[k])
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Notifier sends, on one platform, a message that is not a reply: the
// sender's notice lane, which yields to replies.
type Notifier interface {
	Notify(ctx context.Context, m bot.Message) (int, error)
}

// Outbox is the store's side of delivering notices (see models.Notice).
type Outbox interface {
	ClaimNotices(ctx context.Context, opt models.ClaimOptions) ([]models.Batch, error)
	NoticesDelivered(ctx context.Context, ids []uint, platform string, messageID int) error
	NoticesFailed(ctx context.Context, ids []uint, reason string, stop bool) error
	NoticesReleased(ctx context.Context, ids []uint) error
}

// NotifierConfig wires a [Notices] worker.
type NotifierConfig struct {
	Outbox    Outbox
	Notifiers map[bot.Platform]Notifier
	Quiet     models.QuietHours // the install's default quiet hours (QUIET_HOURS)
	Lease     time.Duration     // a claimed row is sent again after this; default 2 minutes
	Batch     int               // rows claimed at a time; default 50
	Interval  time.Duration     // how often the outbox is read; default 2 seconds
	Logger    *slog.Logger

	// Hooks for crash tests: BeforeSend and AfterSend run around each send;
	// when one returns false the worker stops at once, as a killed process
	// would, leaving the batch unmarked.
	BeforeSend, AfterSend func(models.Batch) bool
}

// Notices delivers the outbox: it claims due rows, sends each message
// through the Notifier of the platform the recipient last wrote from, and
// marks the rows delivered, or failed for a retry with backoff; a 403 stops
// a row for good. Delivery is at least once: a crash between a send and its
// mark sends the message again once the lease expires.
type Notices struct {
	cfg NotifierConfig
	log *slog.Logger
}

// errCrashed is returned by Tick when a crash hook stopped it.
var errCrashed = errors.New("handlers: notifier stopped by a crash hook")

// NewNotices returns a Notices worker.
func NewNotices(cfg NotifierConfig) *Notices {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notices{cfg: cfg, log: log}
}

// Run delivers notices until ctx is done. A failing round is logged and
// tried again at the next interval.
func (n *Notices) Run(ctx context.Context) error {
	t := time.NewTicker(n.cfg.Interval)
	defer t.Stop()
	for first := true; ; first = false {
		rep, err := n.Tick(ctx)
		if errors.Is(err, errCrashed) {
			return err
		} else if err != nil && ctx.Err() == nil {
			n.log.Error("notifier: round failed", slog.Any("err", err))
		} else if first && err == nil {
			// What waited in the outbox while the bot was down is out.
			n.log.Info("notifier: first round done", slog.Int("messages", rep.Messages), slog.Int("failed", rep.Failed))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// TickReport counts what one round did.
type TickReport struct {
	Messages  int // messages sent
	Notices   int // notices they carried
	Failed    int // messages that failed (to be tried again, or stopped)
	Unreached int // messages stopped because the person blocked the bot
}

// Tick runs one round: claim the due notices, send and mark them. It returns what it did.
func (n *Notices) Tick(ctx context.Context) (TickReport, error) {
	var rep TickReport
	batches, err := n.cfg.Outbox.ClaimNotices(ctx, models.ClaimOptions{Limit: n.cfg.Batch, Lease: n.cfg.Lease, Quiet: n.cfg.Quiet})
	if err != nil {
		return rep, err
	}
	for i, b := range batches {
		if ctx.Err() != nil {
			// Shutting down: give the rest back rather than leave them
			// leased until after the restart.
			var ids []uint
			for _, b := range batches[i:] {
				for _, x := range b.Notices {
					ids = append(ids, x.ID)
				}
			}
			mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return rep, n.cfg.Outbox.NoticesReleased(mark, ids)
		}
		if err := n.deliver(ctx, b, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// deliver sends one batch and marks it. The marks use a context that
// outlives a shutdown, so that a message sent is marked sent.
func (n *Notices) deliver(ctx context.Context, b models.Batch, rep *TickReport) error {
	ids := make([]uint, len(b.Notices))
	for i, x := range b.Notices {
		ids[i] = x.ID
	}
	if n.cfg.BeforeSend != nil && !n.cfg.BeforeSend(b) {
		return errCrashed
	}
	mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	sender, ok := n.cfg.Notifiers[bot.Platform(b.Platform)]
	if !ok {
		rep.Failed++
		return n.cfg.Outbox.NoticesFailed(mark, ids, "no sender for platform "+b.Platform, false)
	}
	msg := render(b)
	// A send under way finishes even when the process is stopping, so
	// that it is marked: a message cut off after the platform took it
	// would be sent again.
	sendCtx, cancelSend := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	id, err := sender.Notify(sendCtx, msg)
	cancelSend()
	if n.cfg.AfterSend != nil && !n.cfg.AfterSend(b) {
		return errCrashed
	}
	switch {
	case err == nil:
		rep.Messages++
		rep.Notices += len(ids)
		return n.cfg.Outbox.NoticesDelivered(mark, ids, b.Platform, id)
	case errors.Is(err, bot.ErrBlocked):
		rep.Unreached++
		n.log.Info("notifier: recipient blocked the bot", slog.String("platform", b.Platform), slog.Uint64("person_id", uint64(b.PersonID)))
		return n.cfg.Outbox.NoticesFailed(mark, ids, "blocked (403)", true)
	default:
		rep.Failed++
		reason := failReason(err)
		n.log.Warn("notifier: send failed", slog.String("platform", b.Platform), slog.Uint64("person_id", uint64(b.PersonID)), slog.String("reason", reason))
		return n.cfg.Outbox.NoticesFailed(mark, ids, reason, false)
	}
}

// failReason names a failed send for the delivery report, without the
// platform's text, which may quote the message.
func failReason(err error) string {
	switch {
	case errors.Is(err, bot.ErrTooManyRequests):
		return "too many requests (429)"
	case errors.Is(err, bot.ErrBadRequest):
		return "bad request (400)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "send failed"
}

// digestItems is how many notices a digest lists; it counts them all.
const digestItems = 10

// render turns a batch into the message to send: one notice with its
// buttons, or a digest with counts and the oldest notices first.
func render(b models.Batch) bot.Message {
	m := bot.Message{ChatID: b.ChatID}
	if !b.Digest && len(b.Notices) == 1 {
		x := b.Notices[0]
		m.Text = x.Text
		for _, btn := range x.Buttons {
			if data, ok := menuData(btn.Data); ok {
				m.Inline = append(m.Inline, []bot.Button{{Text: btn.Label, Data: data}})
			}
		}
		return m
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "خلاصهٔ پیام‌های شما: %s پیام تازه", persian.FormatNumber(int64(len(b.Notices))))
	counts := map[string]int{}
	var kinds []string
	for _, x := range b.Notices {
		if counts[x.Kind] == 0 {
			kinds = append(kinds, x.Kind)
		}
		counts[x.Kind]++
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %s", persian.FormatNumber(int64(counts[k])), kindName(k)))
	}
	sb.WriteString(" (" + strings.Join(parts, "، ") + ")\n")
	for i, x := range b.Notices {
		if i == digestItems {
			fmt.Fprintf(&sb, "\nو %s مورد دیگر.", persian.FormatNumber(int64(len(b.Notices)-digestItems)))
			break
		}
		line := strings.Join(strings.Fields(x.Text), " ")
		if r := []rune(line); len(r) > 300 {
			line = string(r[:300]) + "…"
		}
		fmt.Fprintf(&sb, "\n• %s", line) // a Persian word first on the line, so it reads right to left
		if i < 5 {
			for _, btn := range x.Buttons {
				if data, ok := menuData(btn.Data); ok {
					m.Inline = append(m.Inline, []bot.Button{{Text: fmt.Sprintf("%s (%s)", btn.Label, persian.FormatNumber(int64(i+1))), Data: data}})
				}
			}
		}
	}
	m.Text = sb.String()
	return m
}

// kindName is how a digest counts notices of a kind.
func kindName(kind string) string {
	switch kind {
	case models.KindActionSubmitted:
		return "اقدام برای بررسی"
	case models.KindDuplicateWarning:
		return "هشدار کار تکراری"
	case models.KindMembershipRequest:
		return "درخواست عضویت"
	case models.KindSuggestion:
		return "پیشنهاد"
	case models.KindMembershipApproved, models.KindMembershipRejected, models.KindMembershipEnded, models.KindActionDecision:
		return "نتیجهٔ بررسی"
	case models.KindStaffAssigned, models.KindStaffAssignedBy, models.KindStaffEnded:
		return "انتصاب"
	case models.KindCouncilDigest:
		return "خلاصهٔ نظرهای ساکنان"
	}
	return "پیام"
}

// menuData is the callback data that starts the flow a notice's button
// names ("review:42"): a menu button the engine accepts at any time. A value
// too long for a button gives none (ok false): no dead button.
func menuData(value string) (string, bool) {
	d, err := conversations.MenuCallback(value)
	return d, err == nil
}

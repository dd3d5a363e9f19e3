package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

const outboxUsage = `usage: mahalle outbox [STATUS]

Prints the delivery report: how many notices are in each status, then the
newest 100 rows (of STATUS when given: pending, sending, delivered, failed,
unreachable, unrouted), each with its kind, recipient, attempts and last
error. Notice texts are not printed: they may name people.`

// statusFa names each notice status in Persian.
var statusFa = map[string]string{
	models.NoticePending:     "در صف",
	models.NoticeSending:     "در حال ارسال",
	models.NoticeDelivered:   "رسیده",
	models.NoticeFailed:      "ناموفق",
	models.NoticeUnreachable: "دست‌نیافتنی",
	models.NoticeUnrouted:    "در انتظار گیرنده",
	models.NoticeRouted:      "به گیرندگان سپرده",
}

// outbox runs `mahalle outbox [STATUS]`. It returns exitOK, exitFail when
// the database fails, and exitConfig on bad usage.
func (a *app) outbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	statuses := []string{models.NoticePending, models.NoticeSending, models.NoticeDelivered, models.NoticeFailed,
		models.NoticeUnreachable, models.NoticeUnrouted, models.NoticeRouted}
	f := models.NoticeFilter{Limit: 100}
	switch {
	case len(args) == 1 && slices.Contains(statuses, args[0]):
		f.Status = args[0]
	case len(args) == 0:
	default:
		fmt.Fprintln(stderr, outboxUsage)
		return exitConfig
	}
	counts, err := a.store.NoticeCounts(ctx)
	if err != nil {
		a.log.Error("outbox report failed", slog.Any("err", err))
		return exitFail
	}
	fa, en := []string{}, []string{}
	for _, st := range statuses {
		if n := counts[st]; n > 0 {
			fa = append(fa, fmt.Sprintf("%s %s", persian.FormatNumber(n), statusFa[st]))
			en = append(en, fmt.Sprintf("%s %d", st, n))
		}
	}
	if len(en) == 0 {
		fa, en = []string{"خالی"}, []string{"empty"}
	}
	fmt.Fprintf(stdout, "صف پیام‌ها: %s\n", strings.Join(fa, "، "))
	fmt.Fprintf(stdout, "outbox: %s\n", strings.Join(en, ", "))
	ns, err := a.store.Notices(ctx, f)
	if err != nil {
		a.log.Error("outbox report failed", slog.Any("err", err))
		return exitFail
	}
	for _, n := range ns {
		to := "-"
		switch {
		case n.PersonID != nil:
			to = fmt.Sprintf("person:%d", *n.PersonID)
		case n.Platform != "":
			to = fmt.Sprintf("%s:%d", n.Platform, n.UserID)
		}
		at := n.UpdatedAt.In(persian.Tehran).Format("2006-01-02 15:04")
		last := n.LastError
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\tattempts=%d\t%s\t%s\n", n.ID, n.Status, n.Kind, to, n.Attempts, at, last)
	}
	return exitOK
}

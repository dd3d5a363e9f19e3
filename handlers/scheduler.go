package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/mahalle/mahalle/models"
)

// Scheduled is the periodic work kept in the database: raising overdue
// items and queuing subscription digests and councils' digests of
// residents' comments and confirmations. Each run picks up where the last
// one stopped, so it survives restarts and never raises an item twice.
type Scheduled interface {
	Escalate(ctx context.Context, e models.Escalation) (int, error)
	SendDigests(ctx context.Context) (int, error)
	SendCouncilDigests(ctx context.Context) (int, error)
}

// Scheduler runs the scheduled work every Every.
type Scheduler struct {
	Work       Scheduled
	Escalation models.Escalation
	Every      time.Duration // [1 minute]
	Logger     *slog.Logger
}

// Run runs the work at once and then every Every until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick runs the scheduled work once. A failure is logged and tried again at
// the next tick: the work is idempotent.
func (s *Scheduler) Tick(ctx context.Context) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if n, err := s.Work.Escalate(ctx, s.Escalation); err != nil {
		log.Error("handlers: escalate", slog.Any("err", err))
	} else if n > 0 {
		log.Info("escalated overdue items", slog.Int("items", n))
	}
	if n, err := s.Work.SendDigests(ctx); err != nil {
		log.Error("handlers: digests", slog.Any("err", err))
	} else if n > 0 {
		log.Info("queued subscription digests", slog.Int("digests", n))
	}
	if n, err := s.Work.SendCouncilDigests(ctx); err != nil {
		log.Error("handlers: council digests", slog.Any("err", err))
	} else if n > 0 {
		log.Info("queued council digests", slog.Int("councils", n))
	}
}

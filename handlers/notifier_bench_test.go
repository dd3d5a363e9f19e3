package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/handlers"
	"github.com/mahalle/mahalle/models"
)

// BenchmarkNotifier measures the outbox's own cost: queue b.N suggestions
// (each writes its notice in the suggestion's transaction), then deliver
// them through a notice lane that answers at once. It reports notices
// delivered per second of delivery.
//
//	go test -run '^$' -bench Notifier -benchtime 2000x ./handlers
func BenchmarkNotifier(b *testing.B) {
	w := newWorld(b)
	for i := range b.N {
		sg := models.Suggestion{Key: fmt.Sprintf("b%d", i), Platform: "tg", UserID: 5000 + residents.Add(1), PlaceID: w.place.ID, CommitteeID: w.committee.ID, Text: "پیشنهاد"}
		if err := w.s.CreateSuggestion(b.Context(), &sg); err != nil {
			b.Fatal(err)
		}
	}
	n := handlers.NewNotices(handlers.NotifierConfig{Outbox: w.s, Notifiers: map[bot.Platform]handlers.Notifier{bot.Telegram: w.tg}, Batch: 100})
	b.ResetTimer()
	start := time.Now()
	delivered := 0
	for delivered < b.N {
		rep, err := n.Tick(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if rep.Notices == 0 {
			b.Fatalf("delivered %d of %d, then nothing", delivered, b.N)
		}
		delivered += rep.Notices
	}
	b.ReportMetric(float64(delivered)/time.Since(start).Seconds(), "notices/s")
}

package bot

import (
	"testing"
	"time"
)

// BenchmarkLocalReserveChat is the cost a new message pays with the
// in-process limits; compare sharedlimits.BenchmarkReserveChat.
func BenchmarkLocalReserveChat(b *testing.B) {
	now := time.Now()
	l := newSendLimiter(Limits{}, now)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := l.reserveChat(int64(i%1000), 1, now); err != nil {
			b.Fatal(err)
		}
	}
}

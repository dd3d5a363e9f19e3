package bottest

import (
	"context"
	"net/url"
	"testing"
)

// TestServerErrors: about the share asked for fails with a 5xx and has no
// effect, other methods are never failed, and a failed call is not recorded.
func TestServerErrors(t *testing.T) {
	s := New(t, WithServerErrors(ServerErrors{Share: 0.05, Seed: 7}))
	ctx := context.Background()
	const n = 2000
	failed := 0
	for range n {
		code, got := call(t, ctx, s, "sendMessage", url.Values{"chat_id": {"81"}, "text": {"سلام"}})
		switch {
		case code >= 500 && !got.Ok && got.ErrorCode == code:
			failed++
		case code != 200 || !got.Ok:
			t.Fatalf("sendMessage: %d %+v", code, got)
		}
	}
	if failed < n*3/100 || failed > n*7/100 {
		t.Errorf("%d of %d calls failed, want about 5 %%", failed, n)
	}
	if got := s.ServerErrorCount(); got != failed {
		t.Errorf("ServerErrorCount = %d, want %d", got, failed)
	}
	if got, want := s.SentCount(81), n-failed; got != want {
		t.Errorf("SentCount = %d, want %d (a failed call has no effect)", got, want)
	}
	for range 200 {
		if code, got := call(t, ctx, s, "getMe", nil); code != 200 || !got.Ok {
			t.Fatalf("getMe failed: %d %+v", code, got)
		}
	}
}

package conversations

import (
	"context"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// TestMenuLabelsShareOneQuery: three labels that show counts of one query
// (a coordinator's «بررسی اقدام‌ها (۳)», «درخواست‌های عضویت (۱)», «پیشنهادهای
// رسیده (۲)») run it once per drawing of the menu, and again for the next.
func TestMenuLabelsShareOneQuery(t *testing.T) {
	queries := 0
	count := func(ctx context.Context) int {
		return Memo(ctx, "counts", func() int { queries++; return 3 })
	}
	var flows []*Flow
	for _, name := range []string{"a", "b", "c"} {
		flows = append(flows, &Flow{Name: name, Menu: name, MenuLabel: func(ctx context.Context, v models.Viewer) string {
			if count(ctx) == 3 {
				return name + " (۳)"
			}
			return name
		}})
	}
	e := &Engine{cfg: Config{Flows: flows}}
	got := e.entries(context.Background(), models.Viewer{})
	if len(got) != 3 || got[0].label != "a (۳)" {
		t.Fatalf("entries = %+v", got)
	}
	if queries != 1 {
		t.Errorf("one menu ran the query %d times, want 1", queries)
	}
	e.entries(context.Background(), models.Viewer{})
	if queries != 2 {
		t.Errorf("a second menu ran it %d times in all, want 2 (no memo across menus)", queries)
	}
	// Outside a menu, Memo just calls.
	if n := count(context.Background()); n != 3 || queries != 3 {
		t.Errorf("Memo outside a menu = %d after %d queries", n, queries)
	}
}

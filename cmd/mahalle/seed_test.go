package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// TestSeedDemoOnlyWhenAsked runs `mahalle seed` as an operator would: a real
// install gets every county of Iran and no demo place; `seed --demo` adds the
// demo places, and running it again changes nothing.
func TestSeedDemoOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	env := backendEnv(t)
	demoPlaces := func() int {
		t.Helper()
		s, err := models.Open(t.Context(), env["DATABASE_URL"], env["DATA_DIR"], nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ms, err := s.SearchPlaces(context.Background(), "نمونه", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"seed"}, 0},
		{[]string{"seed", "--demo"}, 36},
		{[]string{"seed", "--demo"}, 36},
	} {
		var out bytes.Buffer
		if code := run(t.Context(), tt.args, testSystem(env, &out, &out)); code != exitOK {
			t.Fatalf("mahalle %v = %d\n%s", tt.args, code, out.String())
		}
		if got := demoPlaces(); got != tt.want {
			t.Errorf("after mahalle %v: %d demo places, want %d", tt.args, got, tt.want)
		}
	}
}

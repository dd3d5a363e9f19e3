package models

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestQueryLogging: a query that fails is logged at error level with its
// SQL and without its parameters (they may hold a phone number); a query
// that succeeds in time writes nothing.
func TestQueryLogging(t *testing.T) {
	var buf bytes.Buffer
	s, err := Open(t.Context(), "", t.TempDir(), slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf.Reset()
	if err := s.db.WithContext(t.Context()).Exec("SELECT 1 WHERE 1 = ?", 1).Error; err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("a query that succeeded logged %q", buf.String())
	}
	const phone = "09121234567"
	if err := s.db.WithContext(t.Context()).Exec("SELECT * FROM no_such_table WHERE phone = ?", phone).Error; err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	out := buf.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "no_such_table") {
		t.Errorf("the failed query's log = %q, want an error line naming its SQL", out)
	}
	if strings.Contains(out, phone) {
		t.Errorf("the failed query's log holds its parameter: %q", out)
	}
	// Scan traces through GORM's recorder, which fills in parameters.
	buf.Reset()
	var n []int
	if err := s.db.WithContext(t.Context()).Raw("SELECT 1 FROM no_such_table WHERE phone = ?", phone).Scan(&n).Error; err == nil {
		t.Fatal("a scan of a missing table succeeded")
	}
	if out := buf.String(); !strings.Contains(out, "no_such_table") || strings.Contains(out, phone) {
		t.Errorf("the failed scan's log = %q, want its SQL without its parameter", out)
	}
}

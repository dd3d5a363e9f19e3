package models_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// TestImportRosterEncodings imports the test roster as spreadsheets save
// it: UTF-8 with a byte order mark, UTF-16 with and without one, and
// Windows-1256; a file in another code page is refused with a message
// naming the problem and how to save as UTF-8.
func TestImportRosterEncodings(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Windows-1256 has Arabic yeh and kaf but not the Persian ones, nor
	// Persian digits; the import folds the letters back.
	arabic := strings.NewReplacer("ی", "ي", "ک", "ك",
		"۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9").Replace(string(src))
	cp1256, err := charmap.Windows1256.NewEncoder().String(arabic)
	if err != nil {
		t.Fatal(err)
	}
	utf16 := func(bom unicode.BOMPolicy, e unicode.Endianness) string {
		s, err := unicode.UTF16(e, bom).NewEncoder().String(string(src))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tt := range []struct {
		name string
		file string
	}{
		{"utf-8 with bom", "\uFEFF" + string(src)},
		{"utf-16le with bom", utf16(unicode.UseBOM, unicode.LittleEndian)},
		{"utf-16be with bom", utf16(unicode.UseBOM, unicode.BigEndian)},
		{"utf-16le without bom", utf16(unicode.IgnoreBOM, unicode.LittleEndian)},
		{"windows-1256", cp1256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := modelstest.Open(t)
			rep, err := s.ImportRoster(t.Context(), strings.NewReader(tt.file), models.RosterOptions{})
			if err != nil || rep.Created != 4 {
				t.Fatalf("import = %+v, %v; want 4 created", rep, err)
			}
			m, err := s.MembershipsByPhone(t.Context(), "09123333333")
			if err != nil || len(m) != 1 || m[0].PersonName != "زهرا کریمی" {
				t.Errorf("Zahra's memberships = %+v, %v; want one, her name in Persian letters", m, err)
			}
		})
	}

	t.Run("latin-1 refused", func(t *testing.T) {
		t.Parallel()
		s := modelstest.Open(t)
		latin1 := bytes.ReplaceAll(src[:bytes.IndexByte(src, '\n')+1], []byte("province"), []byte("provinc\xe9\xe8\xe0"))
		rep, err := s.ImportRoster(t.Context(), bytes.NewReader(latin1), models.RosterOptions{})
		if models.ErrorCode(err) != models.EINVALID || len(rep.Errors) != 1 {
			t.Fatalf("import = %+v, %v; want refused", rep, err)
		}
		e := rep.Errors[0]
		if !strings.Contains(e.Fa, "UTF-8") || !strings.Contains(e.Fa, "کدگذاری") || !strings.Contains(e.En, "not UTF-8") ||
			!strings.Contains(e.En, "Save As") {
			t.Errorf("refusal = %+v; want the encoding named and how to save as UTF-8, in Persian and English", e)
		}
	})
}

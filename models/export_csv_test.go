package models_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

func TestExportNeutralisesAndKeepsAnonymity(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx, people := t.Context(), c.cast(t)
	named := models.Suggestion{Key: "x1", Platform: "tg", UserID: 60601, PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID,
		Text: "=HYPERLINK(\"http://x\")  درمانگاه", SenderName: "+رضا"}
	anon := models.Suggestion{Key: "x2", Platform: "tg", UserID: 60602, PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID,
		Text: "@همه شب‌ها صدای بلند می‌آید", Anonymous: true, SenderName: "نرگس صالحی"}
	for _, sg := range []*models.Suggestion{&named, &anon} {
		if err := c.s.CreateSuggestion(ctx, sg); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.s.ExportSuggestions(ctx, people.chair, &bytes.Buffer{}); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Errorf("export by a chair = %v, want EFORBIDDEN", err)
	}
	var buf bytes.Buffer
	if err := c.s.ExportSuggestions(ctx, people.county, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, leak := range []string{"نرگس", "60601", "60602"} {
		if strings.Contains(out, leak) {
			t.Errorf("export contains %q:\n%s", leak, out)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("export = %d records, %v:\n%s", len(recs), err, out)
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	if recs[2][7] != "بی‌نام" {
		t.Errorf("anonymous sender column = %q", recs[2][7])
	}
	if err := c.s.ExportSuggestions(ctx, people.otherCounty, &buf); err != nil {
		t.Fatal(err)
	}
	var actions bytes.Buffer
	a := c.newAction(t, "exp")
	a.Title = "-حذف"
	if err := c.s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	if err := c.s.ExportActions(ctx, people.province, &actions); err != nil || !strings.Contains(actions.String(), "'-حذف") {
		t.Errorf("actions export = %q, %v", actions.String(), err)
	}
}

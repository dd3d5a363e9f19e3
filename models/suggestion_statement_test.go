package models_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// TestCreateSuggestionOneStatement stores the same suggestions on two stores
// set up alike, through PostgreSQL's single statement (CreateSuggestion) and
// through the transactional path SQLite takes, and compares what the two
// databases hold column by column: the suggestions, audit entries and outbox
// rows must be the same but for their ids (the ids in the notices' keys and
// buttons must be their own suggestion's).
func TestCreateSuggestionOneStatement(t *testing.T) {
	if os.Getenv(modelstest.EnvDatabaseURL) == "" {
		t.Skip("the single statement is PostgreSQL's: set " + modelstest.EnvDatabaseURL)
	}
	t.Parallel()
	type store struct {
		name       string
		c          *council
		create     func(context.Context, *models.Store, *models.Suggestion) error
		codes      []string // what the code generator gives next
		statements func() int64
	}
	one, tx := &store{name: "one statement", c: newCouncil(t)}, &store{name: "transaction", c: newCouncil(t)}
	one.create = func(ctx context.Context, s *models.Store, sg *models.Suggestion) error {
		return s.CreateSuggestion(ctx, sg)
	}
	one.statements = models.CountStatements(one.c.s).Load
	tx.create = models.CreateSuggestionInTransaction
	for _, st := range []*store{one, tx} {
		models.SetCodeGenerator(st.c.s, func() (string, error) {
			if len(st.codes) == 0 {
				return "", errors.New("no code queued")
			}
			code := st.codes[0]
			st.codes = st.codes[1:]
			return code, nil
		})
	}

	// reach gives the roster's people of arak accounts, and the province a
	// coordinator, who mutes account 105.
	reach := func(t *testing.T, c *council) {
		ctx := t.Context()
		for i, phone := range []string{phoneMaryam, phoneAli, phoneZahra} {
			if _, _, err := c.s.LinkPhone(ctx, "tg", int64(i+1), 0, phone); err != nil {
				t.Fatal(err)
			}
		}
		const phone = "09350000001"
		if _, err := c.s.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: phone, Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}); err != nil {
			t.Fatal(err)
		}
		p, _, err := c.s.LinkPhone(ctx, "tg", 91, 0, phone)
		if err != nil {
			t.Fatal(err)
		}
		coordinator := models.Viewer{Platform: "tg", UserID: 91, PersonID: p.ID,
			Staff: []models.StaffScope{{Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}}}
		if err := c.s.MuteAccount(ctx, coordinator, "tg", 105, "پیام‌های تکراری"); err != nil {
			t.Fatal(err)
		}
	}
	lat, lon := 34.09, 49.69
	arak1 := func(c *council) models.PlaceMatch { return c.arak1 }
	arak2 := func(c *council) models.PlaceMatch { return c.arak2 }
	ashtian1 := func(c *council) models.PlaceMatch { return c.ashtian1 }
	steps := []struct {
		name       string
		before     func(*testing.T, *council)
		place      func(*council) models.PlaceMatch
		committee  string            // its code
		sg         models.Suggestion // without PlaceID and CommitteeID
		codes      []string
		notices    int   // outbox rows it adds
		stored     bool  // a suggestion and its audit entry are added (implied by notices > 0)
		statements int64 // the single statement path's, with the context query
	}{
		{name: "nobody at all: one unrouted row", place: arak2, committee: "health",
			sg:    models.Suggestion{Key: "nobody", Platform: "tg", UserID: 101, Text: "پیشنهاد"},
			codes: []string{"S-22222"}, notices: 1, statements: 2},
		{name: "council: chair and secretary", before: reach, place: arak1, committee: "health",
			sg: models.Suggestion{Key: "council", Platform: "tg", UserID: 102, Text: "چراغ کوچه   خاموش است",
				PhotoFileIDs: models.StringList{"photo-a", "photo-b"}, Lat: &lat, Lon: &lon, SenderName: "علی"},
			codes: []string{"S-22223"}, notices: 2, statements: 2},
		{name: "council: a committee member", place: arak2, committee: "civil",
			sg:    models.Suggestion{Key: "member", Platform: "bale", UserID: 103, Text: "جوی آب"},
			codes: []string{"S-22224"}, notices: 1, statements: 2},
		{name: "no council: the coordinators", place: ashtian1, committee: "health",
			sg:    models.Suggestion{Key: "chain", Platform: "tg", UserID: 104, Text: "درمانگاه"},
			codes: []string{"S-22225"}, notices: 1, statements: 2},
		{name: "muted sender: stored, routed to nobody", place: arak1, committee: "health",
			sg:    models.Suggestion{Key: "muted", Platform: "tg", UserID: 105, Text: "باز هم"},
			codes: []string{"S-22226"}, stored: true, statements: 2},
		{name: "anonymous", place: arak1, committee: "culture",
			sg:    models.Suggestion{Key: "anonymous", Platform: "tg", UserID: 106, Text: "کتابخانه", Anonymous: true, SenderName: "نباید ذخیره شود"},
			codes: []string{"S-22227"}, notices: 2, statements: 2},
		{name: "voice only", place: arak1, committee: "health",
			sg:    models.Suggestion{Key: "voice", Platform: "bale", UserID: 107, VoiceFileID: "voice-1"},
			codes: []string{"S-22228"}, notices: 2, statements: 2},
		{name: "replay: no new rows", place: arak1, committee: "health",
			sg:    models.Suggestion{Key: "council", Platform: "tg", UserID: 102, Text: "دوباره"},
			codes: []string{"S-22229"}, statements: 3}, // and the key looked up
		{name: "code collision: a new code", place: arak1, committee: "health",
			sg:    models.Suggestion{Key: "collision", Platform: "tg", UserID: 108, Text: "کد تکراری"},
			codes: []string{"S-22223", "S-2222A"}, notices: 2, statements: 4}, // and the key looked up, and the insert again
	}
	for _, step := range steps {
		var got [2]models.Suggestion
		for i, st := range []*store{one, tx} {
			ctx := t.Context()
			*st.c.now = st.c.now.Add(time.Minute)
			if step.before != nil {
				step.before(t, st.c)
			}
			before := counts(t, st.c.s)
			st.codes = step.codes
			got[i] = step.sg
			got[i].PlaceID, got[i].CommitteeID = step.place(st.c).ID, st.c.committees[step.committee].ID
			var statements int64
			if st.statements != nil {
				statements = st.statements()
			}
			if err := st.create(ctx, st.c.s, &got[i]); err != nil {
				t.Fatalf("%s, %s: %v", step.name, st.name, err)
			}
			if st.statements != nil {
				if n := st.statements() - statements; n != step.statements {
					t.Errorf("%s, %s: %d statements, want %d", step.name, st.name, n, step.statements)
				}
			}
			if len(st.codes) != 0 {
				t.Errorf("%s, %s: codes %v left unused", step.name, st.name, st.codes)
			}
			added, want := counts(t, st.c.s), before
			if step.notices > 0 || step.stored {
				want = [3]int{before[0] + 1, before[1] + 1, before[2] + step.notices}
			}
			if added != want {
				t.Errorf("%s, %s: suggestions, audit entries, notices = %v, want %v", step.name, st.name, added, want)
			}
		}
		// What the call returns: the same, but for the id.
		if got[0].ID == 0 || got[1].ID == 0 {
			t.Errorf("%s: ids %d and %d", step.name, got[0].ID, got[1].ID)
		}
		got[0].ID, got[1].ID = 0, 0
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("%s: returned\n%+v (one statement)\n%+v (transaction)", step.name, got[0], got[1])
		}
	}

	a, b := tables(t, one.c.s), tables(t, tx.c.s)
	for _, table := range []string{"suggestions", "audit_entries", "outbox"} {
		if len(a[table]) != len(b[table]) {
			t.Errorf("%s: %d rows (one statement), %d (transaction)", table, len(a[table]), len(b[table]))
			continue
		}
		for i := range a[table] {
			for col, va := range a[table][i] {
				if vb, ok := b[table][i][col]; !ok || !reflect.DeepEqual(va, vb) {
					t.Errorf("%s row %d, %s: %#v (one statement), %#v (transaction)", table, i+1, col, va, vb)
				}
			}
		}
	}
	// The rows compared are the ones the steps should write.
	var unrouted, toPeople int
	for _, n := range a["outbox"] {
		switch {
		case n["kind"] != models.KindSuggestion:
		case n["status"] == models.NoticeUnrouted && n["route_county_id"] != nil && n["route_province_id"] != nil && n["person_id"] == nil:
			unrouted++
		case n["status"] == models.NoticePending && n["person_id"] != nil:
			toPeople++
		}
	}
	if unrouted != 1 || toPeople != 10 {
		t.Errorf("suggestion notices: %d unrouted, %d to people; want 1 and 10", unrouted, toPeople)
	}
}

// counts returns how many suggestions, audit entries and outbox rows s holds.
func counts(t *testing.T, s *models.Store) [3]int {
	t.Helper()
	var n [3]int
	for i, table := range []string{"suggestions", "audit_entries", "outbox"} {
		var c int64
		if err := models.DB(s).Table(table).Count(&c).Error; err != nil {
			t.Fatal(err)
		}
		n[i] = int(c)
	}
	return n
}

// tables returns the rows of the suggestions, audit entries and outbox of
// s, oldest first, column by column, without their ids; where they name a
// suggestion by its id (an entity id, a notice's dedup key or button), they
// name it by its code.
func tables(t *testing.T, s *models.Store) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, table := range []string{"suggestions", "audit_entries", "outbox"} {
		var rows []map[string]any
		if err := models.DB(s).Table(table).Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = rows
	}
	codes := map[string]string{}
	for _, r := range out["suggestions"] {
		codes[fmt.Sprint(r["id"])] = r["code"].(string)
	}
	ref := func(id string) string {
		if code, ok := codes[id]; ok {
			return "<" + code + ">"
		}
		return "<unknown suggestion " + id + ">"
	}
	inKey := regexp.MustCompile(`^suggestion:(\d+)`)
	inButton := regexp.MustCompile(`"inbox:(\d+)"`)
	for table, rows := range out {
		for _, r := range rows {
			delete(r, "id")
			if table == "suggestions" || r["entity"] != models.EntitySuggestion {
				continue
			}
			r["entity_id"] = ref(fmt.Sprint(r["entity_id"]))
			if table != "outbox" {
				continue
			}
			r["dedup_key"] = inKey.ReplaceAllStringFunc(r["dedup_key"].(string), func(m string) string {
				return "suggestion:" + ref(inKey.FindStringSubmatch(m)[1])
			})
			r["buttons"] = inButton.ReplaceAllStringFunc(r["buttons"].(string), func(m string) string {
				return `"inbox:` + ref(inButton.FindStringSubmatch(m)[1]) + `"`
			})
		}
	}
	return out
}

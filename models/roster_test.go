package models_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

func importString(t *testing.T, s *models.Store, csv string, opts models.RosterOptions) (models.RosterReport, error) {
	t.Helper()
	return s.ImportRoster(t.Context(), strings.NewReader(csv), opts)
}

func TestImportRoster(t *testing.T) {
	t.Parallel()
	c := newCouncil(t) // imports testdata/roster.csv
	s, ctx := c.s, t.Context()

	vs, err := s.MembershipsByPhone(ctx, "09122222222")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("Ali's memberships = %+v, want 1", vs)
	}
	ali := vs[0]
	if ali.Status != models.MembershipActive || ali.Source != models.SourceRoster || ali.Position != models.PositionSecretary ||
		ali.CommitteeID != c.committees["culture"].ID || ali.PlaceID != c.arak1.ID || ali.PersonName != "علی رضایی" ||
		!ali.Since.Equal(*c.now) || ali.Until != nil {
		t.Errorf("Ali's membership = %+v", ali)
	}
	// Arabic letters in the file are stored as Persian ones.
	zahra, err := s.ActiveMembership(ctx, c.zahra)
	if err != nil || zahra.PersonName != "زهرا کریمی" || zahra.CommitteeName != "عمران و خدمات محلی" || zahra.PlaceID != c.arak2.ID {
		t.Errorf("Zahra's membership = %+v, %v", zahra, err)
	}
	hasan, err := s.ActiveMembership(ctx, c.hasan)
	if err != nil || hasan.Position != models.PositionMember || hasan.CommitteeName != "محیط زیست" || hasan.CountyName != "آشتیان" {
		t.Errorf("Hasan's membership = %+v, %v", hasan, err)
	}
	if es, err := s.AuditEntries(ctx, models.EntityMembership, ali.ID); err != nil || len(es) != 1 ||
		es[0].Action != models.AuditCreate || es[0].ActorPlatform != "cli" {
		t.Errorf("membership audit = %+v, %v", es, err)
	}
	if es, err := s.AuditEntries(ctx, models.EntityPerson, c.ali); err != nil || len(es) != 1 || es[0].Action != models.AuditCreate {
		t.Errorf("person audit = %+v, %v", es, err)
	}

	// Importing the same file again changes nothing.
	rep := importFile(t, s, "testdata/roster.csv", models.RosterOptions{})
	if want := (models.RosterReport{Rows: 4, Unchanged: 4}); !equalReport(rep, want) {
		t.Errorf("re-import = %+v, want %+v", rep, want)
	}
	if vs, _ := s.MembershipsByPhone(ctx, "09122222222"); len(vs) != 1 {
		t.Errorf("memberships after re-import = %d, want 1", len(vs))
	}
	if es, _ := s.AuditEntries(ctx, models.EntityMembership, ali.ID); len(es) != 1 {
		t.Errorf("membership audit after re-import = %d entries, want 1", len(es))
	}
}

func equalReport(a, b models.RosterReport) bool {
	return a.Rows == b.Rows && a.Created == b.Created && a.Updated == b.Updated && a.Unchanged == b.Unchanged &&
		a.Skipped == b.Skipped && slices.Equal(a.Errors, b.Errors)
}

func TestImportRosterEditedRowKeepsHistory(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	before, err := s.ActiveMembership(ctx, c.ali)
	if err != nil {
		t.Fatal(err)
	}
	*c.now = c.now.AddDate(0, 2, 0)
	edited := `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,مریم احمدی‌نژاد,09121111111,رئیس,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,علی رضایی,09122222222,عضو,امنیت عمومی
مرکزی,اراک,محله نمونه ۲ اراک,زهرا کریمی,09123333333,عضو,عمران و خدمات محلی
`
	rep, err := importString(t, s, edited, models.RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (models.RosterReport{Rows: 3, Updated: 2, Unchanged: 1}); !equalReport(rep, want) {
		t.Errorf("import of edited rows = %+v, want %+v", rep, want)
	}

	history, err := s.MembershipsByPhone(ctx, "09122222222")
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 {
		t.Fatalf("Ali's memberships = %+v, want the new one and the ended one", history)
	}
	now, old := history[0], history[1]
	if now.Status != models.MembershipActive || now.Position != models.PositionMember || now.CommitteeID != c.committees["security"].ID ||
		!now.Since.Equal(*c.now) || now.Until != nil {
		t.Errorf("new membership = %+v", now)
	}
	if old.ID != before.ID || old.Status != models.MembershipEnded || old.Position != models.PositionSecretary ||
		old.Until == nil || !old.Until.Equal(*c.now) || !old.Since.Equal(before.Since) {
		t.Errorf("old membership = %+v, want %d ended at %v", old, before.ID, *c.now)
	}
	maryam, err := s.ActiveMembership(ctx, c.maryam)
	if err != nil || maryam.PersonName != "مریم احمدی‌نژاد" {
		t.Errorf("renamed person = %+v, %v", maryam, err)
	}
	if es, _ := s.AuditEntries(ctx, models.EntityPerson, c.maryam); len(es) != 2 || es[1].Action != models.AuditEdit {
		t.Errorf("person audit after the rename = %+v", es)
	}
	// Hasan is not in this file: his membership is left alone.
	if _, err := s.ActiveMembership(ctx, c.hasan); err != nil {
		t.Errorf("Hasan's membership after an import without him: %v", err)
	}
	// And the edited file imported again changes nothing.
	rep, err = importString(t, s, edited, models.RosterOptions{})
	if err != nil || !equalReport(rep, models.RosterReport{Rows: 3, Unchanged: 3}) {
		t.Errorf("second import of the edited file = %+v, %v", rep, err)
	}
}

// badRoster has one valid row (line 2) and an invalid row of each kind.
const badRoster = `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,نرگس صالحی,09126666666,عضو,بهداشت و درمان
آتلانتیس,اراک,محله نمونه ۱ اراک,کاوه,09127777771,عضو,بهداشت و درمان
مرکزی,تهران,محله نمونه ۱ اراک,کاوه,09127777772,عضو,بهداشت و درمان
مرکزی,اراک,ن,کاوه,09127777773,عضو,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,کاوه,02112345678,عضو,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,کاوه,09127777775,شهردار,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,کاوه,09127777776,عضو,ورزش
مرکزی,اراک,محله نمونه ۱ اراک,ک,09127777777,عضو,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,,09127777778,عضو,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,نرگس صالحی,09126666666,عضو,امور فرهنگی
مرکزی,اراک,محله نمونه ۲ اراک,نرگس,09126666666,عضو,امور فرهنگی
مرکزی,اراک,محله نمونه ۲ اراک,پریا,09127777779,رئیس,امور فرهنگی
مرکزی,اراک,محله نمونه ۲ اراک,سارا,09127777770,chair,culture
`

// badRosterLines are the line and a piece of the English message of each
// error of badRoster.
var badRosterLines = []struct {
	line int
	en   string
}{
	{3, "province"},
	{4, "county"},
	{5, "place"},
	{6, "phone"},
	{7, "position"},
	{8, "committee"},
	{9, "full name"},
	{10, "full_name is empty"},
	{11, "already listed for this council on line 2"},
	{12, `name "نرگس صالحی" on line 2`},
	{14, "already has a chair on line 13"},
}

func checkBadRosterErrors(t *testing.T, rep models.RosterReport) {
	t.Helper()
	if len(rep.Errors) != len(badRosterLines) {
		t.Fatalf("errors = %+v, want %d", rep.Errors, len(badRosterLines))
	}
	for i, want := range badRosterLines {
		got := rep.Errors[i]
		if got.Line != want.line || !strings.Contains(got.En, want.en) || got.Fa == "" || !strings.ContainsAny(got.Fa, "آابپتسشکگی") {
			t.Errorf("error %d = %+v, want line %d mentioning %q with a Persian message", i, got, want.line, want.en)
		}
	}
}

func TestImportRosterInvalidImportsNothing(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	rep, err := importString(t, s, badRoster, models.RosterOptions{})
	if models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("ImportRoster = %v, want EINVALID", err)
	}
	checkBadRosterErrors(t, rep)
	if rep.Rows != 13 || rep.Skipped != 11 || rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != 0 {
		t.Errorf("report = %+v, want 13 rows, 11 invalid, nothing imported", rep)
	}
	if _, err := s.MembershipsByPhone(ctx, "09126666666"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("the valid row was imported although others were invalid: %v", err)
	}
}

func TestImportRosterSkipInvalid(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	rep, err := importString(t, s, badRoster, models.RosterOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	checkBadRosterErrors(t, rep)
	if rep.Rows != 13 || rep.Skipped != 11 || rep.Created != 2 || rep.Updated != 0 || rep.Unchanged != 0 {
		t.Errorf("report = %+v, want 2 created and 11 skipped", rep)
	}
	vs, err := s.MembershipsByPhone(ctx, "09126666666")
	if err != nil || len(vs) != 1 || vs[0].CommitteeName != "بهداشت و درمان" {
		t.Errorf("the valid row's membership = %+v, %v", vs, err)
	}
	vs, err = s.MembershipsByPhone(ctx, "09127777779")
	if err != nil || len(vs) != 1 || vs[0].Position != models.PositionChair || vs[0].PlaceID != c.arak2.ID {
		t.Errorf("the first chair of arak 2 = %+v, %v", vs, err)
	}
}

func TestImportRosterAddsMissingPlaces(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	rep, err := importString(t, s, `province,county,place,full_name,phone,position,committee
مرکزی,اراک,کوی گلستان,پروین اعتصامی,09125550001,رئیس,بهداشت و درمان
مرکزی,اراک,کوي  گلستان,سهراب سپهری,09125550002,دبیر,امور فرهنگی
`, models.RosterOptions{})
	if err != nil || rep.PlacesAdded != 1 || rep.Created != 2 {
		t.Fatalf("import = %+v, %v; want one place added and two memberships", rep, err)
	}
	vs, err := s.MembershipsByPhone(ctx, "09125550002")
	if err != nil || len(vs) != 1 || vs[0].PlaceName != "کوی گلستان" {
		t.Fatalf("membership = %+v, %v", vs, err)
	}
	p, err := s.Place(ctx, vs[0].PlaceID)
	if err != nil || !p.Confirmed || p.CountyID != c.arak1.CountyID {
		t.Errorf("the added place = %+v, %v; want confirmed, in Arak", p, err)
	}
}

func TestImportRosterPersianHeaders(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	// A BOM, Persian headers in another order, an extra column, a blank line.
	file := "\uFEFFردیف,نام و نام خانوادگی,تلفن همراه,سمت,کمیته,استان,شهرستان,محله\n" +
		"1,مریم احمدی,0912 111 1111,رییس,کمیته بهداشت و درمان,مرکزی,اراک,محله نمونه ۱ اراک\n" +
		"\n" +
		"2,نیما,۰۹۱۲۹۹۹۹۹۹۹,عضو,حمایت معیشتی,مرکزی,اراک,محله نمونه ۱ اراک\n"
	rep, err := importString(t, c.s, file, models.RosterOptions{})
	if err != nil {
		t.Fatalf("ImportRoster = %v (%+v)", err, rep)
	}
	if want := (models.RosterReport{Rows: 2, Created: 1, Unchanged: 1}); !equalReport(rep, want) {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
}

func TestImportRosterMalformed(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	for _, tc := range []struct {
		name string
		file string
		line int
		en   string
	}{
		{"empty", "", 1, "empty"},
		{"column missing", "province,county,place,full_name,phone,position\nمرکزی,اراک,x,y,09121111111,عضو\n", 1, `no column "committee"`},
		{"column twice", "province,county,place,full_name,phone,position,committee,استان\n", 1, `"province" appears twice`},
		{"bad quoting", "province,county,place,full_name,phone,position,committee\nمرکزی,اراک,\"x,y\n", 2, "malformed CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := importString(t, c.s, tc.file, models.RosterOptions{SkipInvalid: true})
			if models.ErrorCode(err) != models.EINVALID {
				t.Fatalf("ImportRoster = %v, want EINVALID", err)
			}
			if len(rep.Errors) != 1 || rep.Errors[0].Line != tc.line || !strings.Contains(rep.Errors[0].En, tc.en) || rep.Errors[0].Fa == "" {
				t.Errorf("errors = %+v, want one on line %d mentioning %q", rep.Errors, tc.line, tc.en)
			}
		})
	}
}

func TestImportRosterActivatesRequest(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	m, err := s.RequestMembership(ctx, models.MembershipRequest{Platform: "tg", UserID: 88, Name: "نیما", Phone: "09129999999",
		PlaceID: c.arak1.ID, CommitteeID: c.committees["livelihood"].ID})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := importString(t, s, "province,county,place,full_name,phone,position,committee\n"+
		"مرکزی,اراک,محله نمونه ۱ اراک,نیما,09129999999,عضو,livelihood\n", models.RosterOptions{})
	if err != nil || !equalReport(rep, models.RosterReport{Rows: 1, Updated: 1}) {
		t.Fatalf("import = %+v, %v; want 1 updated", rep, err)
	}
	got, err := s.Membership(ctx, m.ID)
	if err != nil || got.Status != models.MembershipActive {
		t.Errorf("requested membership after the roster = %+v, %v; want it active", got, err)
	}
}

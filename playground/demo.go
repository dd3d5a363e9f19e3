package playground

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/mahalle/mahalle/models"
)

// Store is what seeding the demo needs from models.Store.
type Store interface {
	SeedDemo(ctx context.Context) error
	ImportRoster(ctx context.Context, r io.Reader, opts models.RosterOptions) (models.RosterReport, error)
	LinkPhone(ctx context.Context, platform string, userID, chatID int64, phone string) (models.Person, []models.MembershipView, error)
	CreateAction(ctx context.Context, actor models.Actor, a *models.Action) error
	SetActionStatus(ctx context.Context, actor models.Actor, id uint, status, note string) (models.Action, error)
	CreateSuggestion(ctx context.Context, sg *models.Suggestion) error
}

// Files stores a file on the Bot API server and returns its file_id, as
// bottest.Server.PutFile does.
type Files interface {
	PutFile(name string, data []byte) string
}

// GrantCoordinator makes a persona the coordinator of a county. The
// coordinator role lives outside this package; cmd/mahalle passes the role
// store's grant here once it exists.
type GrantCoordinator func(ctx context.Context, p Persona, countyName string) error

// Platform is the platform the playground plays: Telegram.
const Platform = "tg"

// Demo places: the seed's example places (their names say «نمونه»).
const (
	demoProvince = "مرکزی"
	demoCounty   = "اراک"
	demoPlace1   = "محله نمونه ۱ اراک"
	demoPlace2   = "محله نمونه ۲ اراک"
)

// DemoPlace is a place the page offers for sharing a location.
type DemoPlace struct {
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// DemoPlaces are the seed's example places near Arak, by their seed
// coordinates (see models/seed/places.csv).
var DemoPlaces = []DemoPlace{
	{demoPlace1, 34.094, 49.694},
	{demoPlace2, 34.086, 49.686},
	{"روستای نمونه ۱ اراک", 34.140, 49.640},
	{"محله نمونه ۱ آشتیان", 34.524, 50.014},
}

// rosterRow is one line of the demo roster besides the personas.
type rosterRow struct{ place, name, phone, position, committee string }

var extraRoster = []rosterRow{
	{demoPlace1, "علی رضایی (نمونه)", "09120001006", "دبیر", "امور فرهنگی"},
	{demoPlace1, "حسن موسوی (نمونه)", "09120001007", "عضو", "محیط زیست"},
	{demoPlace2, "رضا کاظمی (نمونه)", "09120001008", "رئیس", "امنیت عمومی"},
	{demoPlace2, "فاطمه نوری (نمونه)", "09120001009", "دبیر", "حمایت معیشتی"},
}

// Seed fills a database already holding the reference data with the demo:
// the councils of two example places (the member and chair personas on
// the first), three actions reported by the chair with generated photos
// (two verified, one awaiting review) and two open suggestions. now dates
// them. A nil grant leaves the coordinator persona a resident.
func Seed(ctx context.Context, st Store, files Files, now time.Time, grant GrantCoordinator) error {
	if err := st.SeedDemo(ctx); err != nil {
		return fmt.Errorf("playground: demo places: %w", err)
	}
	var csv strings.Builder
	csv.WriteString("province,county,place,full_name,phone,position,committee\n")
	for _, p := range Personas {
		if p.OnRoster {
			fmt.Fprintf(&csv, "%s,%s,%s,%s (نمونه),%s,%s,%s\n", demoProvince, demoCounty, demoPlace1, p.Name+" "+familyName(p.Key), p.Phone, p.Position, p.Committee)
		}
	}
	for _, r := range extraRoster {
		fmt.Fprintf(&csv, "%s,%s,%s,%s,%s,%s,%s\n", demoProvince, demoCounty, r.place, r.name, r.phone, r.position, r.committee)
	}
	if _, err := st.ImportRoster(ctx, strings.NewReader(csv.String()), models.RosterOptions{}); err != nil {
		return fmt.Errorf("playground: demo roster: %w", err)
	}

	chair, _ := PersonaByKey(Chair)
	person, views, err := st.LinkPhone(ctx, Platform, chair.UserID, chair.UserID, chair.Phone)
	if err != nil {
		return fmt.Errorf("playground: link the chair: %w", err)
	}
	if len(views) == 0 {
		return fmt.Errorf("playground: the chair has no membership after the roster import")
	}
	place := views[0].PlaceID
	actor := models.Actor{Platform: Platform, UserID: chair.UserID}
	reviewer := models.Actor{Platform: "cli"}

	for i, d := range demoActions {
		photos := make([]string, d.photos)
		for j := range photos {
			photos[j] = files.PutFile(fmt.Sprintf("demo-%d-%d.png", i+1, j+1), demoPNG(i*3+j))
		}
		benef := d.benef
		a := &models.Action{
			Key:              fmt.Sprintf("playground-demo-action-%d", i+1),
			PlaceID:          place,
			CommitteeID:      views[0].CommitteeID,
			Title:            d.title,
			Description:      d.desc,
			Date:             now.AddDate(0, 0, -d.daysAgo),
			Photos:           photos,
			Beneficiaries:    &benef,
			ReporterPersonID: person.ID,
		}
		if err := st.CreateAction(ctx, actor, a); err != nil {
			return fmt.Errorf("playground: demo action %d: %w", i+1, err)
		}
		if d.verified {
			if _, err := st.SetActionStatus(ctx, reviewer, a.ID, models.ActionVerified, "نمونه: بررسی شد."); err != nil {
				return fmt.Errorf("playground: verify demo action %d: %w", i+1, err)
			}
		}
	}
	for i, text := range demoSuggestions {
		sg := &models.Suggestion{
			Key: fmt.Sprintf("playground-demo-suggestion-%d", i+1), Platform: Platform, UserID: 9001 + int64(i),
			PlaceID: place, CommitteeID: views[0].CommitteeID, Text: text, SenderName: "ساکن نمونه",
		}
		if err := st.CreateSuggestion(ctx, sg); err != nil {
			return fmt.Errorf("playground: demo suggestion %d: %w", i+1, err)
		}
	}
	if grant != nil {
		coord, _ := PersonaByKey(Coordinator)
		if err := grant(ctx, coord, demoCounty); err != nil {
			return fmt.Errorf("playground: coordinator: %w", err)
		}
	}
	return nil
}

func familyName(key string) string {
	switch key {
	case Member:
		return "کریمی"
	case Chair:
		return "احمدی"
	}
	return "نمونه"
}

var demoActions = []struct {
	title, desc string
	photos      int
	benef       int64
	daysAgo     int
	verified    bool
}{
	{"نمونه: معاینه رایگان فشار خون سالمندان", "نمونه: با همکاری خانه بهداشت، فشار خون ۸۰ سالمند محله در مسجد جامع اندازه گرفته شد.", 2, 80, 12, true},
	{"نمونه: آموزش کمک‌های اولیه به مادران", "نمونه: دو جلسه آموزش کمک‌های اولیه در سرای محله برگزار شد.", 1, 35, 6, true},
	{"نمونه: پویش واکسیناسیون کودکان", "نمونه: فهرست کودکان جامانده از واکسن تهیه و به مرکز بهداشت داده شد.", 1, 50, 2, false},
}

var demoSuggestions = []string{
	"نمونه: چراغ‌های کوچه شهید رجایی شب‌ها خاموش است؛ لطفاً پیگیری کنید.",
	"نمونه: پیشنهاد می‌کنم کلاس ورزش صبحگاهی برای سالمندان در پارک محله برگزار شود.",
}

// demoPNG draws a small picture (sky, ground, a house) whose colours vary
// with n, so the demo photos differ and are plainly illustrations.
func demoPNG(n int) []byte {
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hue := []color.RGBA{{0x4f, 0x9d, 0xde, 255}, {0xf2, 0xa6, 0x5a, 255}, {0x7b, 0xc0, 0x7f, 255}, {0xb3, 0x8c, 0xd9, 255}}[n%4]
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(int(hue.R) * (h - y/2) / h), uint8(int(hue.G) * (h - y/2) / h), uint8(int(hue.B) * (h - y/2) / h), 255}
			switch {
			case y > h*2/3:
				c = color.RGBA{0x6a, 0x8e, 0x4e, 255} // ground
			case x > 110+n%3*20 && x < 210+n%3*20 && y > 100 && y <= h*2/3:
				c = color.RGBA{0xe8, 0xdc, 0xc4, 255} // wall
				if x > 145+n%3*20 && x < 175+n%3*20 && y > 125 {
					c = color.RGBA{0x7a, 0x4a, 0x2a, 255} // door
				}
			case y > 60 && y <= 100 && abs(x-(160+n%3*20)) < (y-60)*5/4:
				c = color.RGBA{0xb0, 0x3a, 0x2e, 255} // roof
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // writing to memory does not fail
	return b.Bytes()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

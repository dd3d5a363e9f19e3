// Package playground lets a newcomer try Mahalle with no bot token and no
// internet: a Bot API server in the process (bot/bottest), demo data marked
// as examples («نمونه»), and a web page that plays a phone-sized chat for
// each role, live over Server-Sent Events. cmd/mahalle starts it when no
// token is set; nothing here reads the environment or opens a database.
package playground

// Persona is one person the page can act as: their own user id, their
// own private chat (a private chat's id is the user's id) and a phone.
type Persona struct {
	Key       string `json:"key"`
	Role      string `json:"role"` // Persian, as the switcher shows it
	Name      string `json:"name"` // Persian first name the bot sees
	Hint      string `json:"hint"` // Persian: what to try as this persona
	UserID    int64  `json:"user_id"`
	Phone     string `json:"phone"` // Iranian mobile, shared by the contact button
	OnRoster  bool   `json:"on_roster"`
	Position  string `json:"-"` // roster position, when OnRoster
	Committee string `json:"-"` // roster committee (Persian name), when OnRoster
}

// Persona keys.
const (
	Resident    = "resident"
	Member      = "member"
	Chair       = "chair"
	Coordinator = "coordinator"
	Admin       = "admin"
)

// Personas are the people of the playground, in the switcher's order.
// The member is on the roster but not yet registered, so sharing the
// contact shows how a member joins; the chair is registered and reported
// the demo actions.
var Personas = []Persona{
	{Key: Resident, Role: "ساکن محله", Name: "نرگس", UserID: 1001, Phone: "09120001001",
		Hint: "پیشنهادی بفرستید و کد پیگیری بگیرید."},
	{Key: Member, Role: "عضو شورا", Name: "زهرا", UserID: 1002, Phone: "09120001002", OnRoster: true,
		Position: "عضو", Committee: "عمران و خدمات محلی",
		Hint: "با «عضو شورا هستم» و فرستادن شماره، عضو شوید و اقدامی گزارش کنید."},
	{Key: Chair, Role: "رئیس شورا", Name: "مریم", UserID: 1003, Phone: "09120001003", OnRoster: true,
		Position: "رئیس", Committee: "بهداشت و درمان",
		Hint: "اقدام‌های شورا را ببینید؛ گزارش‌های نمونه را شما فرستاده‌اید."},
	{Key: Coordinator, Role: "هماهنگ‌کننده شهرستان", Name: "حمید", UserID: 1004, Phone: "09120001004",
		Hint: "هشدارها و بررسی اقدام‌ها برای هماهنگ‌کننده در راه است؛ فعلاً منوی عمومی را می‌بینید."},
	{Key: Admin, Role: "مدیر سامانه", Name: "سارا", UserID: 1005, Phone: "09120001005",
		Hint: "شماره شما در ADMIN_PHONES این زمین بازی است؛ ابزارهای مدیر همراه کار هماهنگ‌کنندگان می‌آید و فعلاً منوی عمومی را می‌بینید."},
}

// PersonaByKey returns the persona with key k.
func PersonaByKey(k string) (Persona, bool) {
	for _, p := range Personas {
		if p.Key == k {
			return p, true
		}
	}
	return Persona{}, false
}

func personaByUser(id int64) (Persona, bool) {
	for _, p := range Personas {
		if p.UserID == id {
			return p, true
		}
	}
	return Persona{}, false
}

// AdminPhone is the admin persona's phone, for ADMIN_PHONES.
func AdminPhone() string {
	p, _ := PersonaByKey(Admin)
	return p.Phone
}

package models

import (
	"context"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Migration ids, in order. A migration, once released, is frozen: it declares
// its own snapshot structs (never the live types, which will change) and is
// never edited; a change to the schema is a new migration at the end.
const (
	MigrationReference   = "202611250001_reference"
	MigrationPeople      = "202611250002_people"
	MigrationSuggestions = "202611250003_suggestions"
	MigrationMembers     = "202611250004_members"
	MigrationOutbox      = "202611280005_outbox"
	MigrationPlaces      = "202611280006_places"
	MigrationReview      = "202611280007_review"
	MigrationMedia       = "202611280010_media_council_digest"
)

// Migrate applies every migration not yet applied, in order, in one
// transaction. On PostgreSQL a transaction-scoped advisory lock (per schema)
// makes concurrent starts of several processes take turns.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx, ""); err != nil {
		return fmt.Errorf("models: migrate: %w", err)
	}
	return nil
}

// MigrateTo applies the migrations up to and including id. It exists for
// upgrade tests: a database left at an older version, filled, then migrated.
// Returns EINVALID when no migration has that id.
func (s *Store) MigrateTo(ctx context.Context, id string) error {
	known := false
	for _, m := range migrations() {
		known = known || m.ID == id
	}
	if !known {
		return fmt.Errorf("models: migrate to %q: %w", id, Errorf(EINVALID, "unknown migration id %q", id))
	}
	if err := s.migrate(ctx, id); err != nil {
		return fmt.Errorf("models: migrate to %q: %w", id, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, to string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.backend == BackendPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('mahalle.migrate.' || current_schema()))").Error; err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		m := gormigrate.New(tx, &gormigrate.Options{
			TableName:                 "migrations",
			IDColumnName:              "id",
			IDColumnSize:              255,
			ValidateUnknownMigrations: true, // an older binary must not run on a newer schema
		}, migrations())
		if to == "" {
			return m.Migrate()
		}
		return m.MigrateTo(to)
	})
}

// migrations lists every migration in order.
func migrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		{ID: MigrationReference, Migrate: migrateReference},
		{ID: MigrationPeople, Migrate: migratePeople},
		{ID: MigrationSuggestions, Migrate: migrateSuggestions},
		{ID: MigrationMembers, Migrate: migrateMembers},
		{ID: MigrationOutbox, Migrate: migrateOutbox},
		{ID: MigrationPlaces, Migrate: migratePlaces},
		{ID: MigrationReview, Migrate: migrateReview},
		{ID: MigrationMedia, Migrate: migrateMedia},
	}
}

// ---- 202611250001_reference: the map and the programme's lists. Frozen. ----

type m0001Province struct {
	ID     uint   `gorm:"primaryKey"`
	Code   string `gorm:"size:64;not null;uniqueIndex:idx_provinces_code"`
	Name   string `gorm:"size:255;not null"`
	NameEn string `gorm:"size:255;not null"`
}

func (m0001Province) TableName() string { return "provinces" }

type m0001County struct {
	ID         uint           `gorm:"primaryKey"`
	ProvinceID uint           `gorm:"not null;uniqueIndex:idx_counties_province_code,priority:1"`
	Province   *m0001Province `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Code       string         `gorm:"size:64;not null;uniqueIndex:idx_counties_province_code,priority:2"`
	Name       string         `gorm:"size:255;not null"`
	NameEn     string         `gorm:"size:255;not null"`
}

func (m0001County) TableName() string { return "counties" }

type m0001Place struct {
	ID        uint         `gorm:"primaryKey"`
	CountyID  uint         `gorm:"not null;uniqueIndex:idx_places_county_name,priority:1"`
	County    *m0001County `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Kind      string       `gorm:"size:32;not null"`
	Name      string       `gorm:"size:255;not null;uniqueIndex:idx_places_county_name,priority:2"`
	SearchKey string       `gorm:"size:255;not null"`
	Lat       *float64     `gorm:"type:double precision"`
	Lon       *float64     `gorm:"type:double precision"`
	Example   bool         `gorm:"not null;default:false"`
}

func (m0001Place) TableName() string { return "places" }

type m0001Committee struct {
	ID         uint           `gorm:"primaryKey"`
	ProvinceID *uint          `gorm:"uniqueIndex:idx_committees_province_code,priority:1"`
	Province   *m0001Province `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Code       string         `gorm:"size:64;not null;uniqueIndex:idx_committees_province_code,priority:2"`
	Name       string         `gorm:"size:255;not null"`
	NameEn     string         `gorm:"size:255;not null"`
	Crisis     bool           `gorm:"not null;default:false"`
	Position   int            `gorm:"not null;default:0"`
}

func (m0001Committee) TableName() string { return "committees" }

type m0001Programme struct {
	ID     uint   `gorm:"primaryKey"`
	Code   string `gorm:"size:64;not null;uniqueIndex:idx_programmes_code"`
	Name   string `gorm:"size:255;not null"`
	NameEn string `gorm:"size:255;not null"`
}

func (m0001Programme) TableName() string { return "programmes" }

func migrateReference(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&m0001Province{}, &m0001County{}, &m0001Place{}, &m0001Committee{}, &m0001Programme{}); err != nil {
		return err
	}
	// NULLs are distinct in a unique index, so the default list (province_id
	// NULL) needs its own partial index to keep its codes unique.
	return tx.Exec("CREATE UNIQUE INDEX idx_committees_default_code ON committees (code) WHERE province_id IS NULL").Error
}

// ---- 202611250002_people: persons and their platform identities. Frozen. ----

type m0002Person struct {
	ID        uint      `gorm:"primaryKey"`
	Name      string    `gorm:"size:255;not null"`
	Phone     *string   `gorm:"size:32;uniqueIndex:idx_people_phone"`
	CreatedAt time.Time `gorm:"not null"`
}

func (m0002Person) TableName() string { return "people" }

type m0002Identity struct {
	ID           uint         `gorm:"primaryKey"`
	PersonID     *uint        `gorm:"index:idx_identities_person"`
	Person       *m0002Person `gorm:"constraint:OnUpdate:CASCADE,OnDelete:SET NULL"`
	Platform     string       `gorm:"size:16;not null;uniqueIndex:idx_identities_platform_user,priority:1"`
	UserID       int64        `gorm:"not null;uniqueIndex:idx_identities_platform_user,priority:2"`
	ChatID       int64        `gorm:"not null"`
	Username     string       `gorm:"size:255;not null"`
	LanguageCode string       `gorm:"size:64;not null"`
	BlockedAt    *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (m0002Identity) TableName() string { return "identities" }

func migratePeople(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&m0002Person{}, &m0002Identity{})
}

// ---- 202611250003_suggestions: residents' suggestions and the audit log. Frozen. ----

type m0003Suggestion struct {
	ID           uint            `gorm:"primaryKey"`
	Code         string          `gorm:"size:16;not null;uniqueIndex:idx_suggestions_code"`
	Key          string          `gorm:"column:idempotency_key;size:255;not null;uniqueIndex:idx_suggestions_key"`
	Platform     string          `gorm:"size:16;not null;index:idx_suggestions_sender,priority:1"`
	UserID       int64           `gorm:"not null;default:0;index:idx_suggestions_sender,priority:2"`
	PlaceID      uint            `gorm:"not null;index:idx_suggestions_place"`
	Place        *m0001Place     `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	CommitteeID  uint            `gorm:"not null;index:idx_suggestions_committee"`
	Committee    *m0001Committee `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Text         string          `gorm:"type:text;not null"`
	VoiceFileID  string          `gorm:"size:255;not null"`
	PhotoFileIDs string          `gorm:"type:text;not null"` // newline-joined
	Lat          *float64        `gorm:"type:double precision"`
	Lon          *float64        `gorm:"type:double precision"`
	Anonymous    bool            `gorm:"not null;default:false"`
	SenderName   string          `gorm:"size:255;not null"`
	Status       string          `gorm:"size:16;not null;index:idx_suggestions_status"`
	CreatedAt    time.Time       `gorm:"not null;index:idx_suggestions_created"`
	UpdatedAt    time.Time       `gorm:"not null"`
}

func (m0003Suggestion) TableName() string { return "suggestions" }

type m0003AuditEntry struct {
	ID            uint      `gorm:"primaryKey"`
	At            time.Time `gorm:"not null;index:idx_audit_entries_at"`
	ActorPlatform string    `gorm:"size:16;not null"`
	ActorUserID   int64     `gorm:"not null;default:0"`
	Action        string    `gorm:"size:32;not null"`
	Entity        string    `gorm:"size:32;not null;index:idx_audit_entries_entity,priority:1"`
	EntityID      uint      `gorm:"not null;index:idx_audit_entries_entity,priority:2"`
	Detail        string    `gorm:"type:text;not null"`
}

func (m0003AuditEntry) TableName() string { return "audit_entries" }

func migrateSuggestions(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&m0003Suggestion{}, &m0003AuditEntry{})
}

// ---- 202611250004_members: councils, memberships, actions, alerts. Frozen. ----

type m0004Council struct {
	ID        uint        `gorm:"primaryKey"`
	PlaceID   uint        `gorm:"not null;uniqueIndex:idx_councils_place"`
	Place     *m0001Place `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	CreatedAt time.Time   `gorm:"not null"`
}

func (m0004Council) TableName() string { return "councils" }

type m0004Membership struct {
	ID          uint            `gorm:"primaryKey"`
	PersonID    uint            `gorm:"not null;index:idx_memberships_person"`
	Person      *m0002Person    `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	CouncilID   uint            `gorm:"not null;index:idx_memberships_council"`
	Council     *m0004Council   `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Position    string          `gorm:"size:16;not null"`
	CommitteeID uint            `gorm:"not null;index:idx_memberships_committee"`
	Committee   *m0001Committee `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Since       time.Time       `gorm:"not null"`
	Until       *time.Time
	Status      string    `gorm:"size:16;not null;index:idx_memberships_status"`
	Source      string    `gorm:"size:16;not null"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (m0004Membership) TableName() string { return "memberships" }

type m0004Alert struct {
	ID          uint         `gorm:"primaryKey"`
	Kind        string       `gorm:"size:32;not null"`
	CountyID    uint         `gorm:"not null;index:idx_alerts_county"`
	County      *m0001County `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	PlaceID     uint         `gorm:"not null"`
	Place       *m0001Place  `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	EntityID    uint         `gorm:"not null"`
	CreatedAt   time.Time    `gorm:"not null"`
	DeliveredAt *time.Time   `gorm:"index:idx_alerts_delivered"`
}

func (m0004Alert) TableName() string { return "alerts" }

type m0004Action struct {
	ID               uint            `gorm:"primaryKey"`
	Code             string          `gorm:"size:16;not null;uniqueIndex:idx_actions_code"`
	Key              string          `gorm:"column:idempotency_key;size:255;not null;uniqueIndex:idx_actions_key"`
	CouncilID        uint            `gorm:"not null;index:idx_actions_council"`
	Council          *m0004Council   `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	PlaceID          uint            `gorm:"not null;index:idx_actions_place_date,priority:1"`
	Place            *m0001Place     `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	CommitteeID      uint            `gorm:"not null;index:idx_actions_committee"`
	Committee        *m0001Committee `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Programmes       string          `gorm:"type:text;not null"` // newline-joined programme codes
	Title            string          `gorm:"size:255;not null"`
	Description      string          `gorm:"type:text;not null"`
	Date             time.Time       `gorm:"not null;index:idx_actions_place_date,priority:2;index:idx_actions_date"`
	Lat              *float64        `gorm:"type:double precision"`
	Lon              *float64        `gorm:"type:double precision"`
	Photos           string          `gorm:"type:text;not null"` // newline-joined file ids
	Beneficiaries    *int64
	Cost             *int64
	CostUnit         string       `gorm:"size:8;not null"`
	Partners         string       `gorm:"type:text;not null"`
	Status           string       `gorm:"size:24;not null;index:idx_actions_status"`
	Progress         int          `gorm:"not null;default:0"`
	ReviewNote       string       `gorm:"type:text;not null"`
	ReporterPersonID uint         `gorm:"not null;index:idx_actions_reporter"`
	Reporter         *m0002Person `gorm:"foreignKey:ReporterPersonID;constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	DuplicateWarned  bool         `gorm:"not null;default:false"`
	DuplicateChoice  string       `gorm:"size:8;not null"`
	DuplicateOf      *uint
	Duplicate        *m0004Action `gorm:"foreignKey:DuplicateOf;constraint:OnUpdate:CASCADE,OnDelete:SET NULL"`
	CreatedAt        time.Time    `gorm:"not null"`
	UpdatedAt        time.Time    `gorm:"not null"`
}

func (m0004Action) TableName() string { return "actions" }

type m0004ActionUpdate struct {
	ID       uint         `gorm:"primaryKey"`
	Key      string       `gorm:"column:idempotency_key;size:255;not null;uniqueIndex:idx_action_updates_key"`
	ActionID uint         `gorm:"not null;index:idx_action_updates_action"`
	Action   *m0004Action `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	Progress int          `gorm:"not null"`
	Note     string       `gorm:"type:text;not null"`
	Photos   string       `gorm:"type:text;not null"` // newline-joined file ids
	At       time.Time    `gorm:"not null"`
	PersonID uint         `gorm:"not null"`
	Person   *m0002Person `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
}

func (m0004ActionUpdate) TableName() string { return "action_updates" }

func migrateMembers(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&m0004Council{}, &m0004Membership{}, &m0004Alert{}, &m0004Action{}, &m0004ActionUpdate{}); err != nil {
		return err
	}
	// A person holds at most one open (pending or active) membership of a
	// council; history rows are ended, so they never collide.
	return tx.Exec("CREATE UNIQUE INDEX idx_memberships_open ON memberships (person_id, council_id) WHERE status <> 'ended'").Error
}

// ---- 202611280005_outbox: staff roles, the outbox, notice preferences. Frozen. ----

type m0005StaffAssignment struct {
	ID                 uint           `gorm:"primaryKey"`
	Phone              string         `gorm:"size:32;not null;index:idx_staff_phone"`
	PersonID           *uint          `gorm:"index:idx_staff_person"`
	Person             *m0002Person   `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Role               string         `gorm:"size:16;not null"`
	ProvinceID         *uint          `gorm:"index:idx_staff_province"`
	Province           *m0001Province `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	CountyID           *uint          `gorm:"index:idx_staff_county"`
	County             *m0001County   `gorm:"constraint:OnUpdate:CASCADE,OnDelete:RESTRICT"`
	Status             string         `gorm:"size:16;not null;index:idx_staff_status"`
	Since              time.Time      `gorm:"not null"`
	Until              *time.Time
	AssignedByPersonID *uint
	AssignedBy         *m0002Person `gorm:"foreignKey:AssignedByPersonID;constraint:OnUpdate:CASCADE,OnDelete:SET NULL"`
	AssignedByPlatform string       `gorm:"size:16;not null"`
	AssignedByUserID   int64        `gorm:"not null;default:0"`
	CreatedAt          time.Time    `gorm:"not null"`
	UpdatedAt          time.Time    `gorm:"not null"`
}

func (m0005StaffAssignment) TableName() string { return "staff_assignments" }

type m0005Notice struct {
	ID              uint         `gorm:"primaryKey"`
	PersonID        *uint        `gorm:"index:idx_outbox_person"`
	Person          *m0002Person `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	Platform        string       `gorm:"size:16;not null"`
	UserID          int64        `gorm:"not null;default:0"`
	RouteCountyID   *uint
	RouteProvinceID *uint
	Kind            string    `gorm:"size:32;not null"`
	Entity          string    `gorm:"size:32;not null"`
	EntityID        uint      `gorm:"not null;default:0"`
	Text            string    `gorm:"type:text;not null"`
	Buttons         string    `gorm:"type:text;not null"` // JSON
	Urgent          bool      `gorm:"not null;default:false"`
	Digest          bool      `gorm:"not null;default:false"`
	DedupKey        string    `gorm:"size:255;not null;uniqueIndex:idx_outbox_dedup"`
	NotBefore       time.Time `gorm:"not null"`
	Attempts        int       `gorm:"not null;default:0"`
	NextAttemptAt   time.Time `gorm:"not null;index:idx_outbox_due,priority:2"`
	Status          string    `gorm:"size:16;not null;index:idx_outbox_due,priority:1"`
	LeaseUntil      *time.Time
	SentPlatform    string `gorm:"size:16;not null"`
	SentMessageID   int    `gorm:"not null;default:0"`
	DeliveredAt     *time.Time
	FailedAt        *time.Time
	LastError       string    `gorm:"type:text;not null"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (m0005Notice) TableName() string { return "outbox" }

type m0005NoticePrefs struct {
	PersonID   uint         `gorm:"primaryKey;autoIncrement:false"`
	Person     *m0002Person `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	Mode       string       `gorm:"size:16;not null"`
	DigestHour int          `gorm:"not null;default:0"`
	Quiet      string       `gorm:"size:16;not null"` // "" = the install's default, "none", or "22-07"
	UpdatedAt  time.Time    `gorm:"not null"`
}

func (m0005NoticePrefs) TableName() string { return "notice_prefs" }

// m0005Identity is the identity column this migration adds.
type m0005Identity struct {
	LastSeenAt *time.Time
}

func (m0005Identity) TableName() string { return "identities" }

// m0005Alert is the alerts table of 202611250004, read once to move its rows.
type m0005Alert struct {
	ID          uint
	Kind        string
	CountyID    uint
	PlaceID     uint
	EntityID    uint
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

func (m0005Alert) TableName() string { return "alerts" }

func migrateOutbox(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&m0005StaffAssignment{}, &m0005Notice{}, &m0005NoticePrefs{}); err != nil {
		return err
	}
	// One open (pending or active) assignment per phone, role and scope.
	if err := tx.Exec("CREATE UNIQUE INDEX idx_staff_open ON staff_assignments (phone, role, COALESCE(province_id, 0), COALESCE(county_id, 0)) WHERE status <> 'ended'").Error; err != nil {
		return err
	}
	// The platform a person last wrote from gets their notices.
	if err := tx.Migrator().AddColumn(&m0005Identity{}, "LastSeenAt"); err != nil {
		return err
	}
	// The alerts of 202611250004 become outbox rows: delivered ones keep
	// their time; the rest wait, unrouted, for the county's coordinators
	// (the notifier routes them, climbing to the province and the admins).
	var alerts []m0005Alert
	if err := tx.Order("id").Find(&alerts).Error; err != nil {
		return err
	}
	for _, a := range alerts {
		var provinceID uint
		if err := tx.Table("counties").Select("province_id").Where("id = ?", a.CountyID).Scan(&provinceID).Error; err != nil {
			return err
		}
		county, province := a.CountyID, provinceID
		n := m0005Notice{
			RouteCountyID: &county, RouteProvinceID: &province,
			Kind: a.Kind, Entity: m0005AlertEntity(a.Kind), EntityID: a.EntityID,
			Text: m0005AlertText(a.Kind), Buttons: "[]",
			DedupKey:  fmt.Sprintf("alert:%d", a.ID),
			NotBefore: a.CreatedAt, NextAttemptAt: a.CreatedAt, Status: "unrouted",
			CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt,
		}
		if a.DeliveredAt != nil {
			n.Status, n.DeliveredAt = "delivered", a.DeliveredAt
		}
		if err := tx.Create(&n).Error; err != nil {
			return err
		}
	}
	return tx.Migrator().DropTable("alerts")
}

func m0005AlertEntity(kind string) string {
	if kind == "membership_request" {
		return "membership"
	}
	return "action"
}

func m0005AlertText(kind string) string {
	switch kind {
	case "membership_request":
		return "درخواست عضویت تازه‌ای در شهرستان شما ثبت شده و در انتظار بررسی است."
	case "duplicate_warning":
		return "اقدامی با هشدار کار تکراری ثبت شده است؛ لطفاً بررسی کنید."
	}
	return "اقدام تازه‌ای در شهرستان شما برای بررسی ثبت شده است."
}

// ---- 202611280006_places: every county's anchor, unconfirmed places, seed versions. Frozen. ----

type m0006County struct {
	OsmID  *int64   `gorm:"uniqueIndex:idx_counties_osm_id"`
	Lat    *float64 `gorm:"type:double precision"`
	Lon    *float64 `gorm:"type:double precision"`
	MinLon *float64 `gorm:"type:double precision"`
	MinLat *float64 `gorm:"type:double precision"`
	MaxLon *float64 `gorm:"type:double precision"`
	MaxLat *float64 `gorm:"type:double precision"`
}

func (m0006County) TableName() string { return "counties" }

type m0006Place struct {
	CountyID  uint   `gorm:"not null;index:idx_places_county_search,priority:1"`
	SearchKey string `gorm:"size:255;not null;index:idx_places_county_search,priority:2"`
	// Confirmed is true for every place that existed before: they were
	// seeded by an operator, not typed by a resident.
	Confirmed bool `gorm:"not null;default:true"`
}

func (m0006Place) TableName() string { return "places" }

type m0006SeedVersion struct {
	Name     string    `gorm:"primaryKey;size:64"`
	Digest   string    `gorm:"size:64;not null"`
	SeededAt time.Time `gorm:"not null"`
}

func (m0006SeedVersion) TableName() string { return "seed_versions" }

func migratePlaces(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, f := range []string{"OsmID", "Lat", "Lon", "MinLon", "MinLat", "MaxLon", "MaxLat"} {
		if err := m.AddColumn(&m0006County{}, f); err != nil {
			return err
		}
	}
	if err := m.CreateIndex(&m0006County{}, "idx_counties_osm_id"); err != nil {
		return err
	}
	if err := m.AddColumn(&m0006Place{}, "Confirmed"); err != nil {
		return err
	}
	if err := m.CreateIndex(&m0006Place{}, "idx_places_county_search"); err != nil {
		return err
	}
	return m.CreateTable(&m0006SeedVersion{})
}

// ---- 202611280007_review: decisions, the suggestion inbox, residents taking part. Frozen. ----

type m0007Action struct {
	ReviewedBy *uint        `gorm:"index:idx_actions_reviewed_by"`
	Reviewer   *m0002Person `gorm:"foreignKey:ReviewedBy;constraint:OnUpdate:CASCADE,OnDelete:SET NULL"`
	ReviewedAt *time.Time
	RemindedAt *time.Time
}

func (m0007Action) TableName() string { return "actions" }

type m0007Membership struct {
	DecidedBy    *uint
	DecidedAt    *time.Time
	DecisionNote string `gorm:"type:text;not null;default:''"`
}

func (m0007Membership) TableName() string { return "memberships" }

type m0007Suggestion struct {
	Muted      bool      `gorm:"not null;default:false"`
	ClockSince time.Time `gorm:"index:idx_suggestions_clock"`
	Escalated  int       `gorm:"not null;default:0"`
	AnsweredAt *time.Time
}

func (m0007Suggestion) TableName() string { return "suggestions" }

type m0007Claim struct {
	ID       uint      `gorm:"primaryKey"`
	Entity   string    `gorm:"size:16;not null;uniqueIndex:idx_claims_item,priority:1"`
	EntityID uint      `gorm:"not null;uniqueIndex:idx_claims_item,priority:2"`
	PersonID uint      `gorm:"not null"`
	Until    time.Time `gorm:"not null"`
}

func (m0007Claim) TableName() string { return "claims" }

type m0007SuggestionEvent struct {
	ID           uint             `gorm:"primaryKey"`
	SuggestionID uint             `gorm:"not null;index:idx_suggestion_events_suggestion"`
	Suggestion   *m0003Suggestion `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	At           time.Time        `gorm:"not null"`
	Kind         string           `gorm:"size:16;not null"`
	Status       string           `gorm:"size:16;not null"`
	Text         string           `gorm:"type:text;not null"`
	Photo        string           `gorm:"size:255;not null"`
	ActionID     *uint
	ByRole       string `gorm:"size:64;not null"`
	ByPersonID   *uint
}

func (m0007SuggestionEvent) TableName() string { return "suggestion_events" }

type m0007Comment struct {
	ID           uint         `gorm:"primaryKey"`
	Key          string       `gorm:"column:idempotency_key;size:255;not null;uniqueIndex:idx_comments_key"`
	ActionID     uint         `gorm:"not null;index:idx_comments_action"`
	Action       *m0004Action `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	Platform     string       `gorm:"size:8;not null;index:idx_comments_account,priority:1"`
	UserID       int64        `gorm:"not null;index:idx_comments_account,priority:2"`
	Text         string       `gorm:"type:text;not null"`
	Hidden       bool         `gorm:"not null;default:false"`
	HiddenReason string       `gorm:"type:text;not null"`
	HiddenBy     *uint
	CreatedAt    time.Time `gorm:"not null"`
}

func (m0007Comment) TableName() string { return "comments" }

type m0007Confirmation struct {
	ID        uint         `gorm:"primaryKey"`
	ActionID  uint         `gorm:"not null;uniqueIndex:idx_confirmations_one,priority:1"`
	Action    *m0004Action `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	Platform  string       `gorm:"size:8;not null;uniqueIndex:idx_confirmations_one,priority:2;index:idx_confirmations_account,priority:1"`
	UserID    int64        `gorm:"not null;uniqueIndex:idx_confirmations_one,priority:3;index:idx_confirmations_account,priority:2"`
	Answer    string       `gorm:"size:8;not null"`
	Photo     string       `gorm:"size:255;not null"`
	CreatedAt time.Time    `gorm:"not null"`
	UpdatedAt time.Time    `gorm:"not null"`
}

func (m0007Confirmation) TableName() string { return "confirmations" }

type m0007Subscription struct {
	ID           uint        `gorm:"primaryKey"`
	Platform     string      `gorm:"size:8;not null;uniqueIndex:idx_subscriptions_one,priority:1"`
	UserID       int64       `gorm:"not null;uniqueIndex:idx_subscriptions_one,priority:2"`
	PlaceID      uint        `gorm:"not null;uniqueIndex:idx_subscriptions_one,priority:3;index:idx_subscriptions_place"`
	Place        *m0001Place `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	CreatedAt    time.Time   `gorm:"not null"`
	LastDigestAt time.Time   `gorm:"not null"`
}

func (m0007Subscription) TableName() string { return "subscriptions" }

type m0007Mute struct {
	ID        uint      `gorm:"primaryKey"`
	Platform  string    `gorm:"size:8;not null;uniqueIndex:idx_mutes_account,priority:1"`
	UserID    int64     `gorm:"not null;uniqueIndex:idx_mutes_account,priority:2"`
	Reason    string    `gorm:"type:text;not null"`
	ByPerson  uint      `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (m0007Mute) TableName() string { return "mutes" }

type m0007HomePlace struct {
	ID        uint        `gorm:"primaryKey"`
	Platform  string      `gorm:"size:8;not null;uniqueIndex:idx_home_places_account,priority:1"`
	UserID    int64       `gorm:"not null;uniqueIndex:idx_home_places_account,priority:2"`
	PlaceID   uint        `gorm:"not null"`
	Place     *m0001Place `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	UpdatedAt time.Time   `gorm:"not null"`
}

func (m0007HomePlace) TableName() string { return "home_places" }

func migrateReview(tx *gorm.DB) error {
	add := func(model any, fields ...string) error {
		for _, f := range fields {
			if err := tx.Migrator().AddColumn(model, f); err != nil {
				return fmt.Errorf("add %s: %w", f, err)
			}
		}
		return nil
	}
	if err := add(&m0007Action{}, "ReviewedBy", "ReviewedAt", "RemindedAt"); err != nil {
		return err
	}
	if err := add(&m0007Membership{}, "DecidedBy", "DecidedAt", "DecisionNote"); err != nil {
		return err
	}
	if err := add(&m0007Suggestion{}, "Muted", "ClockSince", "Escalated", "AnsweredAt"); err != nil {
		return err
	}
	// The clock of every suggestion already stored starts when it was sent.
	if err := tx.Exec("UPDATE suggestions SET clock_since = created_at").Error; err != nil {
		return err
	}
	if err := tx.Exec("CREATE INDEX idx_suggestions_clock ON suggestions (clock_since)").Error; err != nil {
		return err
	}
	return tx.Migrator().CreateTable(&m0007Claim{}, &m0007SuggestionEvent{}, &m0007Comment{}, &m0007Confirmation{},
		&m0007Subscription{}, &m0007Mute{}, &m0007HomePlace{})
}

// 202611280010: the platform each photo was received on and its copies
// uploaded to the other platform (a file_id is valid only for the bot that
// received it), and when each council last got its digest of residents'
// comments and confirmations.

type m0010MediaFile struct {
	FileID     string    `gorm:"size:255;primaryKey"`
	Platform   string    `gorm:"size:8;not null"`
	ReceivedAt time.Time `gorm:"not null"`
}

func (m0010MediaFile) TableName() string { return "media_files" }

type m0010MediaCopy struct {
	FileID     string    `gorm:"size:255;primaryKey"`
	Platform   string    `gorm:"size:8;primaryKey"`
	CopyFileID string    `gorm:"size:255;not null"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (m0010MediaCopy) TableName() string { return "media_copies" }

type m0010CouncilDigest struct {
	CouncilID uint          `gorm:"primaryKey;autoIncrement:false"`
	Council   *m0004Council `gorm:"constraint:OnUpdate:CASCADE,OnDelete:CASCADE"`
	LastAt    time.Time     `gorm:"not null"`
}

func (m0010CouncilDigest) TableName() string { return "council_digests" }

func migrateMedia(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&m0010MediaFile{}, &m0010MediaCopy{}, &m0010CouncilDigest{})
}

package models

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Notice kinds: why a message nobody asked for is sent.
const (
	KindMembershipRequest  = "membership_request"  // a person asked to join a council; to the county's coordinators and the chair
	KindMembershipApproved = "membership_approved" // to the member (urgent)
	KindMembershipRejected = "membership_rejected" // to the person who asked (urgent)
	KindActionSubmitted    = "action_submitted"    // an action waits for review; to the county's coordinators
	KindDuplicateWarning   = "duplicate_warning"   // an action was submitted after a duplicate warning
	KindSuggestion         = "suggestion"          // a resident's suggestion reached the council
	KindStaffAssigned      = "staff_assigned"      // to the person given a staff role (urgent)
	KindStaffAssignedBy    = "staff_assigned_by"   // to whoever assigned it
	KindStaffEnded         = "staff_ended"         // to the person whose staff role ended (urgent)
	KindMembershipEnded    = "membership_ended"    // the chair ended a member's seat; to that member (urgent)
	KindActionDecision     = "action_decision"     // a review decision, to the reporter (urgent)
)

// Notice statuses. A row moves pending → sending → delivered; a failed send
// goes back to pending with a later NextAttemptAt, or to failed after
// maxNoticeAttempts; a 403 makes it unreachable. Unrouted rows wait for a
// recipient: the county's coordinators, then the province's, then the admins.
const (
	NoticePending     = "pending"
	NoticeSending     = "sending" // claimed under a lease; sent again when the lease expires
	NoticeDelivered   = "delivered"
	NoticeFailed      = "failed"
	NoticeUnreachable = "unreachable" // the person blocked the bot, or has no account to write to
	NoticeUnrouted    = "unrouted"
	NoticeRouted      = "routed" // an unrouted row, copied to its recipients
)

// maxNoticeAttempts is how many sends a notice gets before it is failed.
const maxNoticeAttempts = 10

// Backoff between attempts: noticeBackoff·2^(attempts-1), at most noticeMaxBackoff.
const (
	noticeBackoff    = 30 * time.Second
	noticeMaxBackoff = time.Hour
)

// Button is an inline button under a notice: a label and the callback data
// that opens the item (for example a menu value "review:42").
type Button struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// ButtonList is a notice's buttons, kept as JSON in one column.
type ButtonList []Button

// Value implements driver.Valuer.
func (l ButtonList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Button(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *ButtonList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("models: scan button list: unexpected %T", src)
	}
	var out []Button
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("models: scan button list: %w", err)
	}
	*l = out
	return nil
}

// Notice is one row of the outbox: a message that is not a reply, written
// in the same transaction as the event that causes it, for one recipient —
// a person (reached on the platform they last wrote from) or one platform
// account. It doubles as the delivery report: status, attempts, last error.
type Notice struct {
	ID              uint
	PersonID        *uint  // the recipient person; nil for an account recipient or an unrouted row
	Platform        string // the recipient account, when PersonID is nil
	UserID          int64
	RouteCountyID   *uint // unrouted rows: whose coordinators should receive it
	RouteProvinceID *uint
	Kind            string
	Entity          string // what it is about: EntityAction, EntityMembership, …
	EntityID        uint
	Text            string // Persian
	Buttons         ButtonList
	Urgent          bool // sent at once, even in quiet hours and to a digest reader
	Digest          bool // held for the recipient's daily digest
	DedupKey        string
	NotBefore       time.Time
	Attempts        int
	NextAttemptAt   time.Time
	Status          string
	LeaseUntil      *time.Time
	SentPlatform    string
	SentMessageID   int
	DeliveredAt     *time.Time
	FailedAt        *time.Time
	LastError       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName pins the table name for GORM.
func (Notice) TableName() string { return "outbox" }

// enqueue adds n in tx, once per DedupKey: a second row with the same key
// (a replay of the cause) is ignored.
func enqueue(tx *gorm.DB, now time.Time, n Notice) error {
	return enqueueAll(tx, now, []Notice{n})
}

// enqueueAll is enqueue of every notice, in one statement; none is no
// statement. The IDs GORM sets on ns are not to be trusted: with rows left
// out by a conflict they land on the wrong elements.
func enqueueAll(tx *gorm.DB, now time.Time, ns []Notice) error {
	if len(ns) == 0 {
		return nil
	}
	stampNotices(now, ns)
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ns).Error; err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// stampNotices sets what a notice is queued with: due at NotBefore (now
// when unset), pending unless it has a status, created now.
func stampNotices(now time.Time, ns []Notice) {
	for i := range ns {
		n := &ns[i]
		if n.NotBefore.IsZero() {
			n.NotBefore = now
		}
		if n.Status == "" {
			n.Status = NoticePending
		}
		n.NextAttemptAt = n.NotBefore
		n.CreatedAt, n.UpdatedAt = now, now
	}
}

// notifyPeople queues n for each person (once each), keyed key + ":p<id>",
// in one statement.
func notifyPeople(tx *gorm.DB, now time.Time, people []uint, key string, n Notice) error {
	return enqueueAll(tx, now, peopleNotices(people, key, n))
}

// peopleNotices returns n for each person (once each), keyed key + ":p<id>".
func peopleNotices(people []uint, key string, n Notice) []Notice {
	ns := make([]Notice, 0, len(people))
	seen := map[uint]bool{}
	for _, id := range people {
		if seen[id] {
			continue
		}
		seen[id] = true
		m := n
		m.PersonID = &id
		m.DedupKey = fmt.Sprintf("%s:p%d", key, id)
		ns = append(ns, m)
	}
	return ns
}

// notifyCoordinators queues n for the county's coordinators, or, when it has
// none, the province's, or else the admins. With nobody at all it is kept
// unrouted, and [Store.RouteNotices] delivers it once someone is appointed:
// a notice is never dropped for want of a recipient. countyID 0 starts at
// the province.
func notifyCoordinators(tx *gorm.DB, now time.Time, countyID, provinceID uint, key string, n Notice) error {
	_, chain, err := recipients(tx, nil, countyID, provinceID)
	if err != nil {
		return err
	}
	return notifyChain(tx, now, chain, countyID, provinceID, key, n)
}

// notifyChain queues n for chain, what recipients found of the coordinator
// chain of countyID and provinceID, or keeps it unrouted when chain is empty.
func notifyChain(tx *gorm.DB, now time.Time, chain []uint, countyID, provinceID uint, key string, n Notice) error {
	return enqueueAll(tx, now, chainNotices(chain, countyID, provinceID, key, n))
}

// chainNotices returns the rows notifyChain queues: n for each person of
// chain, or, when it is empty, n once, unrouted, waiting for the coordinators
// of countyID or provinceID.
func chainNotices(chain []uint, countyID, provinceID uint, key string, n Notice) []Notice {
	if len(chain) > 0 {
		return peopleNotices(chain, key, n)
	}
	if countyID != 0 {
		n.RouteCountyID = &countyID
	}
	if provinceID != 0 {
		n.RouteProvinceID = &provinceID
	}
	n.Status = NoticeUnrouted
	n.DedupKey = key
	return []Notice{n}
}

// coordinatorChain returns the county's coordinators, or the province's when
// the county has none, or the admins when neither has any.
func coordinatorChain(tx *gorm.DB, countyID, provinceID uint) ([]uint, error) {
	_, chain, err := recipients(tx, nil, countyID, provinceID)
	return chain, err
}

// councilSeats names the council people a notice goes to first: those of
// the council of Place who hold one of Positions, or sit on Committee
// (when it is not 0 and, with NotOther, not «سایر»), and whom the bot can
// write to.
type councilSeats struct {
	Place     uint
	Positions []string
	Committee uint
	NotOther  bool
}

// sqlExpr is an SQL expression and the values of its placeholders.
type sqlExpr struct {
	sql  string
	args []any
}

// recipientTier is one person a notice may go to: tier 0 a council seat,
// 1 to 3 the county's coordinators, the province's, the admins.
type recipientTier struct {
	Tier     int
	PersonID uint
}

// recipients reads, in one query, the people of seats (none when seats is
// nil) and the coordinator chain: the county's coordinators, or the
// province's when the county has none, or the admins when neither has any.
// Both lists are ordered by person.
func recipients(tx *gorm.DB, seats *councilSeats, countyID, provinceID uint) (council, chain []uint, err error) {
	rows, err := recipientRows(tx, seats, countyID, provinceID)
	if err != nil {
		return nil, nil, err
	}
	council, chain = splitTiers(rows)
	return council, chain, nil
}

// recipientRows reads the rows recipients splits, ordered by tier and
// person.
func recipientRows(tx *gorm.DB, seats *councilSeats, countyID, provinceID uint) ([]recipientTier, error) {
	q, args := recipientsSQL(seats, sqlExpr{"?", []any{countyID}}, sqlExpr{"?", []any{provinceID}})
	var rows []recipientTier
	// Find, not Scan: see the init of store.go.
	if err := tx.Raw(q+" ORDER BY 1, 2", args...).Find(&rows).Error; err != nil {
		return nil, err
	}
	return rows, nil
}

// recipientsSQL is the query of recipients' rows (tier, person_id), its
// county and province given as expressions.
func recipientsSQL(seats *councilSeats, county, province sqlExpr) (string, []any) {
	staff := `SELECT CASE role WHEN ? THEN 1 WHEN ? THEN 2 ELSE 3 END AS tier, person_id FROM staff_assignments
		WHERE status = ? AND person_id IS NOT NULL AND ((role = ? AND county_id = ` + county.sql + `)
		OR (role = ? AND province_id = ` + province.sql + `) OR role = ?)`
	args := append([]any{RoleCounty, RoleProvince, StaffActive, RoleCounty}, county.args...)
	args = append(append(append(args, RoleProvince), province.args...), RoleAdmin)
	if seats == nil {
		return "SELECT DISTINCT * FROM (" + staff + ") AS s", args
	}
	seat := "memberships.position IN ?"
	seatArgs := []any{seats.Positions}
	switch {
	case seats.Committee != 0 && seats.NotOther:
		seat = "(memberships.position IN ? OR (memberships.committee_id = ? AND NOT EXISTS " +
			"(SELECT 1 FROM committees WHERE committees.id = ? AND committees.code = ?)))"
		seatArgs = append(seatArgs, seats.Committee, seats.Committee, CommitteeOther)
	case seats.Committee != 0:
		seat = "(memberships.position IN ? OR memberships.committee_id = ?)"
		seatArgs = append(seatArgs, seats.Committee)
	}
	q := `SELECT 0 AS tier, memberships.person_id FROM memberships JOIN councils ON councils.id = memberships.council_id
		WHERE councils.place_id = ? AND memberships.status = ? AND ` + seat + `
		AND EXISTS (SELECT 1 FROM identities WHERE identities.person_id = memberships.person_id AND identities.blocked_at IS NULL)
		UNION ` + staff
	return q, append(append([]any{seats.Place, MembershipActive}, seatArgs...), args...)
}

// splitTiers returns, from rows ordered by tier and person, the council's
// people and the first tier of the chain that has anyone.
func splitTiers(rows []recipientTier) (council, chain []uint) {
	chainTier := 0
	for _, r := range rows {
		switch {
		case r.Tier == 0:
			council = append(council, r.PersonID)
		case chainTier == 0 || r.Tier == chainTier:
			chainTier = r.Tier
			chain = append(chain, r.PersonID)
		}
	}
	return council, chain
}

// reachOf says whom a notice goes to, from its recipients' rows ordered by
// tier: the tier splitTiers sends it to.
func reachOf(rows []recipientTier) Reach {
	if len(rows) == 0 {
		return ReachWaiting
	}
	switch rows[0].Tier {
	case 0:
		return ReachCouncil
	case 1:
		return ReachCounty
	case 2:
		return ReachProvince
	default:
		return ReachAdmin
	}
}

// RouteNotices gives every unrouted notice to the recipients it now has
// (see notifyCoordinators) and returns how many it routed. ClaimNotices
// calls it first.
func (s *Store) RouteNotices(ctx context.Context) (int, error) {
	var rows []Notice
	db := s.db.WithContext(ctx)
	if err := db.Where("status = ?", NoticeUnrouted).Order("id").Limit(maxPageSize).Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("models: route notices: %w", err)
	}
	routed := 0
	for _, n := range rows {
		err := db.Transaction(func(tx *gorm.DB) error {
			var county, province uint
			if n.RouteCountyID != nil {
				county = *n.RouteCountyID
			}
			if n.RouteProvinceID != nil {
				province = *n.RouteProvinceID
			}
			people, err := coordinatorChain(tx, county, province)
			if err != nil || len(people) == 0 {
				return err
			}
			now := s.now()
			res := tx.Model(&Notice{}).Where("id = ? AND status = ?", n.ID, NoticeUnrouted).
				Updates(map[string]any{"status": NoticeRouted, "updated_at": now})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			m := n
			m.ID, m.Status, m.RouteCountyID, m.RouteProvinceID, m.NotBefore = 0, "", nil, nil, now
			routed++
			return notifyPeople(tx, now, people, n.DedupKey, m)
		})
		if err != nil {
			return routed, fmt.Errorf("models: route notices: %w", err)
		}
	}
	return routed, nil
}

// Batch is what one message carries: notices for one recipient, addressed
// to one platform account. A batch of more than one notice is a digest.
type Batch struct {
	PersonID uint // 0 for an account recipient
	Platform string
	ChatID   int64
	Digest   bool
	Notices  []Notice // oldest first
}

// ClaimOptions tune [Store.ClaimNotices].
type ClaimOptions struct {
	Limit int           // rows per claim; <= 0 means 50
	Lease time.Duration // how long a claimed row is ours before it is sent again; <= 0 means 2 minutes
	Quiet QuietHours    // the install's default quiet hours (QUIET_HOURS)
}

// ClaimNotices routes waiting notices ([Store.RouteNotices]), then claims
// the notices that are due and returns them grouped into the messages to
// send. A claimed row is marked "sending" with a lease and
// an attempt counted, in a transaction committed before it returns, so a
// crash after the send and before [Store.NoticesDelivered] sends it again
// once the lease has expired (at least once). On PostgreSQL concurrent
// claimers skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite has one
// writer. A non-urgent notice for a person in their quiet hours is moved to
// the hours' end, and one for a person reading a daily digest to their
// digest hour, where it is sent with the others in one message. A notice
// whose recipient has no account that can be written to is marked
// unreachable.
func (s *Store) ClaimNotices(ctx context.Context, opt ClaimOptions) ([]Batch, error) {
	if opt.Limit <= 0 {
		opt.Limit = 50
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if _, err := s.RouteNotices(ctx); err != nil {
		return nil, fmt.Errorf("models: claim notices: %w", err)
	}
	var out []Batch
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		out = nil
		now := s.now()
		q := tx.Where("(status = ? AND next_attempt_at <= ?) OR (status = ? AND lease_until < ?)",
			NoticePending, now, NoticeSending, now).Order("next_attempt_at, id").Limit(opt.Limit)
		if s.backend == BackendPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var rows []Notice
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		prefs, err := prefsOf(tx, rows)
		if err != nil {
			return err
		}
		targets := map[string]*Batch{}
		var order []string
		var claimed []uint
		type account struct {
			platform string
			chatID   int64
			ok       bool
		}
		accounts := map[string]account{} // by recipient, for this claim
		lease := now.Add(opt.Lease)
		for _, n := range rows {
			p := prefs[personOf(n)]
			if !n.Urgent && n.PersonID != nil {
				if hold, until := p.hold(n, now, opt.Quiet); hold {
					if err := tx.Model(&Notice{}).Where("id = ?", n.ID).Updates(map[string]any{
						"status": NoticePending, "next_attempt_at": until, "digest": p.Mode == NoticeDigest,
						"lease_until": nil, "updated_at": now}).Error; err != nil {
						return err
					}
					continue
				}
			}
			rk := fmt.Sprintf("%d/%s/%d", personOf(n), n.Platform, n.UserID)
			acc, seen := accounts[rk]
			if !seen {
				platform, chatID, ok, err := recipientAccount(tx, n)
				if err != nil {
					return err
				}
				acc = account{platform, chatID, ok}
				accounts[rk] = acc
			}
			platform, chatID := acc.platform, acc.chatID
			if !acc.ok {
				if err := tx.Model(&Notice{}).Where("id = ?", n.ID).Updates(map[string]any{
					"status": NoticeUnreachable, "failed_at": now, "lease_until": nil,
					"last_error": "no reachable account", "updated_at": now}).Error; err != nil {
					return err
				}
				continue
			}
			claimed = append(claimed, n.ID)
			n.Status, n.LeaseUntil, n.Attempts = NoticeSending, &lease, n.Attempts+1
			digest := n.Digest && !n.Urgent
			key := fmt.Sprintf("%s:%d", platform, chatID)
			if !digest {
				key = fmt.Sprintf("%s:n%d", key, n.ID)
			}
			b, ok := targets[key]
			if !ok {
				b = &Batch{PersonID: personOf(n), Platform: platform, ChatID: chatID, Digest: digest}
				targets[key] = b
				order = append(order, key)
			}
			b.Notices = append(b.Notices, n)
		}
		if len(claimed) > 0 {
			if err := tx.Model(&Notice{}).Where("id IN ?", claimed).Updates(map[string]any{
				"status": NoticeSending, "lease_until": lease, "attempts": gorm.Expr("attempts + 1"),
				"updated_at": now}).Error; err != nil {
				return err
			}
		}
		for _, k := range order {
			b := *targets[k]
			slices.SortFunc(b.Notices, func(a, c Notice) int { return a.CreatedAt.Compare(c.CreatedAt) })
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("models: claim notices: %w", err)
	}
	return out, nil
}

func personOf(n Notice) uint {
	if n.PersonID == nil {
		return 0
	}
	return *n.PersonID
}

// recipientAccount returns the platform account a notice goes to: for a
// person, the reachable account they last wrote from; for an account
// recipient, that account unless it is blocked.
func recipientAccount(tx *gorm.DB, n Notice) (platform string, chatID int64, ok bool, err error) {
	var ids []Identity
	q := tx.Where("blocked_at IS NULL")
	if n.PersonID != nil {
		q = q.Where("person_id = ?", *n.PersonID)
	} else {
		q = q.Where("platform = ? AND user_id = ?", n.Platform, n.UserID)
	}
	if err := q.Find(&ids).Error; err != nil {
		return "", 0, false, err
	}
	if len(ids) == 0 {
		return "", 0, false, nil
	}
	best := slices.MaxFunc(ids, func(a, b Identity) int { return lastSeen(a).Compare(lastSeen(b)) })
	return best.Platform, best.ChatID, true, nil
}

// lastSeen is when the person last wrote from the account, or, for an
// account not seen since LastSeenAt was kept, when it was last changed.
func lastSeen(id Identity) time.Time {
	if id.LastSeenAt != nil && id.LastSeenAt.After(id.UpdatedAt) {
		return *id.LastSeenAt
	}
	return id.UpdatedAt
}

// NoticesDelivered marks the notices delivered as message messageID on
// platform. A row no longer "sending" (delivered already) is left alone.
func (s *Store) NoticesDelivered(ctx context.Context, ids []uint, platform string, messageID int) error {
	now := s.now()
	err := s.db.WithContext(ctx).Model(&Notice{}).Where("id IN ? AND status = ?", ids, NoticeSending).
		Updates(map[string]any{"status": NoticeDelivered, "delivered_at": now, "lease_until": nil,
			"sent_platform": platform, "sent_message_id": messageID, "last_error": "", "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("models: notices delivered: %w", err)
	}
	return nil
}

// NoticesFailed records a failed send of the notices. With stop set (the
// person blocked the bot) they are marked unreachable and never tried again;
// otherwise each is tried again after an exponential backoff, and failed
// after maxNoticeAttempts attempts. reason is kept as LastError; it must
// not hold personal data.
func (s *Store) NoticesFailed(ctx context.Context, ids []uint, reason string, stop bool) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		if stop {
			return tx.Model(&Notice{}).Where("id IN ? AND status = ?", ids, NoticeSending).
				Updates(map[string]any{"status": NoticeUnreachable, "failed_at": now, "lease_until": nil,
					"last_error": reason, "updated_at": now}).Error
		}
		var rows []Notice
		if err := tx.Where("id IN ? AND status = ?", ids, NoticeSending).Find(&rows).Error; err != nil {
			return err
		}
		for _, n := range rows {
			upd := map[string]any{"status": NoticePending, "lease_until": nil, "last_error": reason,
				"next_attempt_at": now.Add(NoticeBackoff(n.Attempts)), "updated_at": now}
			if n.Attempts >= maxNoticeAttempts {
				upd = map[string]any{"status": NoticeFailed, "failed_at": now, "lease_until": nil,
					"last_error": reason, "updated_at": now}
			}
			if err := tx.Model(&Notice{}).Where("id = ?", n.ID).Updates(upd).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: notices failed: %w", err)
	}
	return nil
}

// NoticesReleased gives claimed notices back unsent, as a worker that is
// stopping does: they are due at once, and the claim's attempt is not
// counted.
func (s *Store) NoticesReleased(ctx context.Context, ids []uint) error {
	now := s.now()
	err := s.db.WithContext(ctx).Model(&Notice{}).Where("id IN ? AND status = ?", ids, NoticeSending).
		Updates(map[string]any{"status": NoticePending, "lease_until": nil, "next_attempt_at": now,
			"attempts": gorm.Expr("attempts - 1"), "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("models: notices released: %w", err)
	}
	return nil
}

// NoticeBackoff is the wait after the attempts-th failed send:
// 30s, 1m, 2m, … up to an hour.
func NoticeBackoff(attempts int) time.Duration {
	d := noticeBackoff
	for i := 1; i < attempts && d < noticeMaxBackoff; i++ {
		d *= 2
	}
	return min(d, noticeMaxBackoff)
}

// NoticeFilter selects rows of the delivery report.
type NoticeFilter struct {
	PersonID uint   // 0 = everyone
	Kind     string // "" = every kind
	Status   string // "" = every status
	Limit    int    // <= 0 means 20; capped at 100
}

// Notices returns outbox rows, the delivery report: each with its status,
// attempts and last error, newest first.
func (s *Store) Notices(ctx context.Context, f NoticeFilter) ([]Notice, error) {
	if f.Limit <= 0 {
		f.Limit = defaultPageSize
	}
	q := s.db.WithContext(ctx).Order("id DESC").Limit(min(f.Limit, maxPageSize))
	if f.PersonID != 0 {
		q = q.Where("person_id = ?", f.PersonID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	ns := []Notice{}
	if err := q.Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("models: notices: %w", err)
	}
	return ns, nil
}

// NoticeCounts returns how many outbox rows are in each status.
func (s *Store) NoticeCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := s.db.WithContext(ctx).Model(&Notice{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: notice counts: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

// similarityStopWords are words too common in action titles to say anything
// about the work: prepositions and conjunctions, the plural suffixes written
// after a ZWNJ, and words most titles carry (محله "neighborhood", اهالی
// "residents", ویژه "for", برگزاری "holding").
var similarityStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("و در به از با برای بین میان جهت تا را که ها های ی محله اهالی ویژه برگزاری") {
		m[persian.SearchKey(w)] = true
	}
	return m
}()

// titleWords splits s into the words compared by [Similarity]: normalised,
// folded as persian.SearchKey folds them, split at spaces, punctuation and
// ZWNJ, without stop words.
func titleWords(s string) []string {
	fields := strings.FieldsFunc(persian.Normalize(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	words := fields[:0]
	for _, f := range fields {
		w := stem(persian.SearchKey(f))
		if w == "" || similarityStopWords[w] {
			continue
		}
		words = append(words, w)
	}
	return words
}

// trigrams returns the set of character trigrams of s as PostgreSQL's
// pg_trgm makes them: each word padded with two spaces before and one after.
func trigrams(s string) map[string]struct{} {
	set := map[string]struct{}{}
	for _, w := range titleWords(s) {
		rs := []rune("  " + w + " ")
		for i := 0; i+3 <= len(rs); i++ {
			set[string(rs[i:i+3])] = struct{}{}
		}
	}
	return set
}

// Similarity returns the character-trigram similarity of two texts, from 0
// (nothing in common) to 1 (the same words): the size of the intersection of
// their trigram sets over the size of the union, after normalising both.
func Similarity(a, b string) float64 {
	return jaccard(trigrams(a), trigrams(b))
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common := 0
	for g := range a {
		if _, ok := b[g]; ok {
			common++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

// stem drops a plural suffix written without a ZWNJ (خانوارهای → خانوار),
// when at least three letters remain.
func stem(w string) string {
	for _, suffix := range []string{"های", "ها"} {
		if rest, ok := strings.CutSuffix(w, suffix); ok && utf8.RuneCountInString(rest) >= 3 {
			return rest
		}
	}
	return w
}

// SimilarityThreshold is the [Similarity] score from which two actions are
// taken for the same work. It was tuned on testdata/duplicate_titles.csv
// (31 pairs of the same work said differently, 31 pairs of different, often
// closely related, work): at 0.27 precision is 0.71 and recall 0.94. A false
// warning costs the reporter one tap; a missed duplicate costs public money
// twice, so the threshold favours recall.
const SimilarityThreshold = 0.27

// DuplicateWindow is how far before and after an action's date other
// actions are looked at for duplicates.
const DuplicateWindow = 90 * 24 * time.Hour

// maxSimilarCandidates bounds the actions scored by SimilarActions.
const maxSimilarCandidates = 2000

// Reasons an action is reported similar.
const (
	ReasonTitle   = "title"    // the titles are similar
	ReasonText    = "text"     // title and description together are similar
	ReasonSameDay = "same_day" // same committee, a shared programme, the same day
)

// SimilarAction is an existing action that looks like the same work as one
// being reported.
type SimilarAction struct {
	Action
	PlaceName string
	Score     float64 // [Similarity] of the texts, at least SimilarityThreshold
	Reason    string  // ReasonTitle, ReasonText or ReasonSameDay
}

// SimilarActions looks for actions that look like the work being reported:
// actions of the place, of the other places of its county and of the
// counties whose boundaries touch it ([Store.NeighbourCounties], in any
// province: work is done twice across a border too), dated within
// [DuplicateWindow] before or after date, not rejected, whose title (or
// title and description) has a [Similarity] of at least
// [SimilarityThreshold] with title (and description), or which share the
// committee, a programme and the day (in Tehran). It returns up to limit of
// them, best first (ties: the same place first, then the closest date).
// limit <= 0 means 3. Both backends give the same answer: the texts are
// compared here, not in SQL. Returns ENOTFOUND when the place does not
// exist.
func (s *Store) SimilarActions(ctx context.Context, placeID uint, committeeID uint, programmes []string, title, description string, date time.Time, limit int) ([]SimilarAction, error) {
	if limit <= 0 {
		limit = 3
	}
	db := s.db.WithContext(ctx)
	place, err := placeOf(db, placeID)
	if err != nil {
		return nil, fmt.Errorf("models: similar actions: %w", err)
	}
	// Whole seconds, as dates are stored: SQLite compares RFC 3339 text,
	// whose order is wrong within a second.
	from := date.Add(-DuplicateWindow).UTC().Truncate(time.Second)
	to := date.Add(DuplicateWindow).UTC().Truncate(time.Second)
	counties := []uint{place.CountyID}
	neighbours, err := s.NeighbourCounties(ctx, place.CountyID)
	if err != nil {
		return nil, fmt.Errorf("models: similar actions: %w", err)
	}
	for _, c := range neighbours {
		counties = append(counties, c.ID)
	}
	var rows []SimilarAction
	err = db.Table("actions").
		Select("actions.*, places.name AS place_name").
		Joins("JOIN places ON places.id = actions.place_id").
		Where("places.county_id IN ? AND actions.status <> ?", counties, ActionRejected).
		Where("actions.date >= ? AND actions.date <= ?", from, to).
		Order(clause.OrderBy{Expression: clause.Expr{
			SQL:                "CASE WHEN actions.place_id = ? THEN 0 WHEN places.county_id = ? THEN 1 ELSE 2 END, actions.date DESC, actions.id DESC",
			Vars:               []any{placeID, place.CountyID},
			WithoutParentheses: true,
		}}).
		Limit(maxSimilarCandidates).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: similar actions: %w", err)
	}

	qTitle := trigrams(title)
	qText := trigrams(title + " " + description)
	found := rows[:0]
	for _, r := range rows {
		r.Score, r.Reason = jaccard(qTitle, trigrams(r.Title)), ReasonTitle
		if strings.TrimSpace(description) != "" || strings.TrimSpace(r.Description) != "" {
			if sx := jaccard(qText, trigrams(r.Title+" "+r.Description)); sx > r.Score {
				r.Score, r.Reason = sx, ReasonText
			}
		}
		if r.Score < SimilarityThreshold && r.CommitteeID == committeeID && sameDay(r.Date, date) &&
			slices.ContainsFunc(programmes, func(p string) bool { return slices.Contains(r.Programmes, p) }) {
			r.Score, r.Reason = SimilarityThreshold, ReasonSameDay
		}
		if r.Score >= SimilarityThreshold {
			found = append(found, r)
		}
	}
	slices.SortStableFunc(found, func(a, b SimilarAction) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(boolRank(a.PlaceID != placeID), boolRank(b.PlaceID != placeID)); c != 0 {
			return c
		}
		return cmp.Compare(absDuration(a.Date.Sub(date)), absDuration(b.Date.Sub(date)))
	})
	return found[:min(limit, len(found))], nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// sameDay reports whether a and b fall on the same day in Tehran.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(persian.Tehran).Date()
	by, bm, bd := b.In(persian.Tehran).Date()
	return ay == by && am == bm && ad == bd
}

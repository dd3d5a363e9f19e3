package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mahalle/mahalle/persian"
)

// Kinds of search match.
const (
	MatchProvince = "province"
	MatchCounty   = "county"
	MatchPlace    = "place"
)

// Match ranks, best first.
const (
	RankExact    = iota // the whole name
	RankPrefix          // the name starts with the query
	RankContains        // the name contains the query, or every word of it (a place's words may be in its county's name)
	RankFuzzy           // the name contains the query with a small typo
)

// Match is one result of [Store.Search]: a province, a county or a place,
// with the names a person choosing it needs to see.
type Match struct {
	Kind         string // MatchProvince, MatchCounty or MatchPlace
	ID           uint   // of the province, county or place
	Name         string
	ProvinceID   uint
	ProvinceName string
	CountyID     uint   // for a county (its own id) or a place
	CountyName   string // for a county (its own name) or a place
	Confirmed    bool   // a place a coordinator confirmed (always true for provinces and counties)
	Example      bool   // a demo place
	Rank         int    // RankExact … RankFuzzy
	Distance     int    // edit distance, for RankFuzzy
}

// SearchOptions narrow a search.
type SearchOptions struct {
	Kinds      []string // any of MatchProvince, MatchCounty, MatchPlace; empty means all three
	ProvinceID uint     // only counties and places of this province; 0 for all
	CountyID   uint     // only places of this county; 0 for all
	Limit      int      // at most this many matches; <= 0 means 8, capped at 100
}

// SearchResult holds the best matches and how many there were in all, so a
// flow can say «و N مورد دیگر؛ حروف بیشتری بنویسید».
type SearchResult struct {
	Matches []Match
	Total   int
}

// Default and maximum number of matches a search returns.
const (
	defaultMatches = 8
	maxMatches     = 100
)

// searchEntry is a province, county or place as search keeps it: the
// match it yields and its name folded for matching.
type searchEntry struct {
	match     Match
	key       string   // persian.SearchKey of the name
	countyKey string   // for a place, its county's key (the word match uses it)
	parts     [][]rune // what a fuzzy match compares with (see fuzzyParts)
}

// searchIndex returns every province, county and place folded for search,
// from the reference cache, so a search folds nothing but the query.
func (s *Store) searchIndex(ctx context.Context) ([]searchEntry, error) {
	return cached(s, "search:index", func() ([]searchEntry, error) {
		provinces, err := s.Provinces(ctx)
		if err != nil {
			return nil, err
		}
		counties, err := s.allCounties(ctx)
		if err != nil {
			return nil, err
		}
		var places []Place
		if err := s.db.WithContext(ctx).Order("id").Find(&places).Error; err != nil {
			return nil, err
		}
		idx := make([]searchEntry, 0, len(provinces)+len(counties)+len(places))
		provinceName := make(map[uint]string, len(provinces))
		for _, p := range provinces {
			provinceName[p.ID] = p.Name
			key := persian.SearchKey(p.Name)
			idx = append(idx, searchEntry{
				match: Match{Kind: MatchProvince, ID: p.ID, Name: p.Name, ProvinceID: p.ID, ProvinceName: p.Name, Confirmed: true},
				key:   key, parts: fuzzyParts(p.Name, key),
			})
		}
		countyByID := make(map[uint]searchEntry, len(counties))
		for _, c := range counties {
			key := persian.SearchKey(c.Name)
			e := searchEntry{
				match: Match{Kind: MatchCounty, ID: c.ID, Name: c.Name, ProvinceID: c.ProvinceID, ProvinceName: provinceName[c.ProvinceID],
					CountyID: c.ID, CountyName: c.Name, Confirmed: true},
				key: key, parts: fuzzyParts(c.Name, key),
			}
			countyByID[c.ID] = e
			idx = append(idx, e)
		}
		for _, p := range places {
			c := countyByID[p.CountyID]
			idx = append(idx, searchEntry{
				match: Match{Kind: MatchPlace, ID: p.ID, Name: p.Name, ProvinceID: c.match.ProvinceID, ProvinceName: c.match.ProvinceName,
					CountyID: p.CountyID, CountyName: c.match.Name, Confirmed: p.Confirmed, Example: p.Example},
				key: p.SearchKey, countyKey: c.key, parts: fuzzyParts(p.Name, p.SearchKey),
			})
		}
		return idx, nil
	})
}

// Search finds provinces, counties and places by name, tolerant of what
// people type differently: Arabic ي/ك for Persian ی/ک, ZWNJ or space or
// none, digits in any script (all folded by persian.SearchKey), and small
// typos: one edit for queries of 4–6 letters, two for longer ones. Results
// are ranked exact > prefix > contains > fuzzy, then provinces before
// counties before places, then in Persian alphabetical order. It runs in Go
// over the cached reference data, so both backends give the same answer.
// Returns EINVALID when query has no letter or digit.
func (s *Store) Search(ctx context.Context, query string, opts SearchOptions) (SearchResult, error) {
	q := persian.SearchKey(query)
	if q == "" {
		return SearchResult{}, fmt.Errorf("models: search: %w", Errorf(EINVALID, "نام استان، شهرستان، محله یا روستا را بنویسید."))
	}
	words := searchWords(query)
	maxDist := typoBudget(q)
	kinds := opts.Kinds
	if len(kinds) == 0 {
		kinds = []string{MatchProvince, MatchCounty, MatchPlace}
	}
	idx, err := s.searchIndex(ctx)
	if err != nil {
		return SearchResult{}, fmt.Errorf("models: search: %w", err)
	}
	qr := []rune(q)
	var lev levenshteiner
	var ms []Match
	for i := range idx {
		e := &idx[i]
		m := e.match
		if !slices.Contains(kinds, m.Kind) ||
			(opts.CountyID != 0 && (m.Kind != MatchPlace || m.CountyID != opts.CountyID)) ||
			(opts.ProvinceID != 0 && (m.Kind == MatchProvince || m.ProvinceID != opts.ProvinceID)) {
			continue
		}
		if rank, dist, ok := e.matches(q, qr, words, maxDist, &lev); ok {
			m.Rank, m.Distance = rank, dist
			ms = append(ms, m)
		}
	}

	kindOrder := map[string]int{MatchProvince: 0, MatchCounty: 1, MatchPlace: 2}
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(
			cmp.Compare(a.Rank, b.Rank),
			cmp.Compare(a.Distance, b.Distance),
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			comparePersian(a.Name, b.Name),
			comparePersian(a.CountyName, b.CountyName),
			cmp.Compare(a.ID, b.ID),
		)
	})
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultMatches
	}
	limit = min(limit, maxMatches)
	return SearchResult{Matches: ms[:min(limit, len(ms))], Total: len(ms)}, nil
}

// FindPlaces is [Store.Search] for places only, within a county when
// countyID is not 0.
func (s *Store) FindPlaces(ctx context.Context, query string, countyID uint, limit int) (SearchResult, error) {
	return s.Search(ctx, query, SearchOptions{Kinds: []string{MatchPlace}, CountyID: countyID, Limit: limit})
}

// searchWords splits what a person typed into words and folds each, for
// matching a place by words found in its own name or its county's
// («نمونه اراک» finds «محله نمونه ۱ اراک»).
func searchWords(query string) []string {
	var ws []string
	for _, w := range strings.Fields(persian.Normalize(query)) {
		if k := persian.SearchKey(w); k != "" {
			ws = append(ws, k)
		}
	}
	if len(ws) < 2 {
		return nil
	}
	return ws
}

// typoBudget is how many edits a fuzzy match of the folded query q may
// need: none under 4 letters (too many names would match), one up to 6,
// two beyond.
func typoBudget(q string) int {
	switch n := utf8.RuneCountInString(q); {
	case n < 4:
		return 0
	case n <= 6:
		return 1
	default:
		return 2
	}
}

// matches matches the folded query q (qr as runes; words its folded
// words when there are several) against the entry.
func (e *searchEntry) matches(q string, qr []rune, words []string, maxDist int, lev *levenshteiner) (rank, dist int, ok bool) {
	switch {
	case e.key == q:
		return RankExact, 0, true
	case strings.HasPrefix(e.key, q):
		return RankPrefix, 0, true
	case strings.Contains(e.key, q):
		return RankContains, 0, true
	}
	if len(words) > 0 && allWordsIn(words, e.key, e.countyKey) {
		return RankContains, 0, true
	}
	if maxDist > 0 {
		if d := fuzzyDistance(qr, e.parts, maxDist, lev); d <= maxDist {
			return RankFuzzy, d, true
		}
	}
	return 0, 0, false
}

func allWordsIn(words []string, key, countyKey string) bool {
	for _, w := range words {
		if !strings.Contains(key, w) && !strings.Contains(countyKey, w) {
			return false
		}
	}
	return true
}

// fuzzyParts returns the parts of a name a person may have meant, folded
// by persian.SearchKey (key is the whole name's): the whole name, each word,
// and each two words side by side (written with or without a space).
func fuzzyParts(name, key string) [][]rune {
	parts := [][]rune{[]rune(key)}
	fields := strings.FieldsFunc(persian.Normalize(name), func(r rune) bool { return r == ' ' || r == '\u200c' })
	prev := ""
	for _, f := range fields {
		w := persian.SearchKey(f)
		if w == "" {
			continue
		}
		if w != key {
			parts = append(parts, []rune(w))
		}
		if prev != "" && prev+w != key {
			parts = append(parts, []rune(prev+w))
		}
		prev = w
	}
	return parts
}

// fuzzyDistance is the least edit distance between q and any of parts, or
// the start of one as long as q (a name typed in part).
func fuzzyDistance(q []rune, parts [][]rune, maxDist int, lev *levenshteiner) int {
	best := maxDist + 1
	for _, r := range parts {
		if abs(len(r)-len(q)) <= maxDist {
			best = min(best, lev.distance(q, r, maxDist))
		}
		if len(r) > len(q) {
			best = min(best, lev.distance(q, r[:len(q)], maxDist))
		}
		if best == 0 {
			break
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// levenshteiner computes edit distances, reusing its rows.
type levenshteiner struct{ prev, cur []int }

// distance returns the edit distance between a and b, or maxDist+1 once
// it must exceed maxDist.
func (l *levenshteiner) distance(a, b []rune, maxDist int) int {
	if abs(len(a)-len(b)) > maxDist {
		return maxDist + 1
	}
	if cap(l.prev) < len(b)+1 {
		l.prev, l.cur = make([]int, len(b)+1), make([]int, len(b)+1)
	}
	prev, cur := l.prev[:len(b)+1], l.cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > maxDist {
			return maxDist + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], maxDist+1)
}

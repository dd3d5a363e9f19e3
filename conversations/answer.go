package conversations

import "strconv"

// First returns the first chosen value (a choice's value, a file id), or "".
func (a Answer) First() string {
	if len(a.Values) == 0 {
		return ""
	}
	return a.Values[0]
}

// FormatID is how a record's id travels in an option value.
func FormatID(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// AnswerID reads the id chosen at step key, or 0.
func AnswerID(a map[string]Answer, key string) uint {
	n, err := strconv.ParseUint(a[key].First(), 10, 64)
	if err != nil {
		return 0
	}
	return uint(n)
}

// HiddenID reads an id kept under a hidden key ("_council", ...).
func HiddenID(a map[string]Answer, key string) uint { return uint(a[key].Number) }

// Page is the page a paged choice step shows (0 for the first).
func (st *State) Page(step string) int { return int(max(st.Hidden[step+pageSuffix].Number, 0)) }

// SetPage sets the page a paged choice step shows.
func (st *State) SetPage(step string, page int) {
	if st.Hidden == nil {
		st.Hidden = map[string]Answer{}
	}
	st.Hidden[step+pageSuffix] = Answer{Number: int64(page)}
}

// Located returns the point a step's Locate was given in this run (a
// shared location that chose the province and county), if any.
func (st *State) Located() (lat, lon float64, ok bool) {
	a, ok := st.Hidden[keyLocated]
	return a.Lat, a.Lon, ok
}

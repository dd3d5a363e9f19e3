package conversations

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/conversations/redistest"
	"github.com/mahalle/mahalle/models"
)

// newTestStore returns a Store on the test's Redis under a key prefix of its
// own, and the client beneath it. The test's keys are removed on cleanup.
func newTestStore(t testing.TB, cfg StoreConfig) (*Store, redis.UniversalClient) {
	t.Helper()
	rdb := redistest.Client(t)
	if cfg.Prefix == "" {
		cfg.Prefix = redistest.Prefix(t)
	}
	removeKeys(t, rdb, cfg.Prefix)
	return NewStore(rdb, cfg), rdb
}

// removeKeys deletes every key under prefix when the test ends (never FLUSHDB:
// other packages share the server).
func removeKeys(t testing.TB, rdb redis.UniversalClient, prefix string) {
	t.Helper()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		var keys []string
		flush := func() {
			if len(keys) == 0 {
				return
			}
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				t.Errorf("remove test keys: %v", err)
			}
			keys = keys[:0]
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 500 {
				flush()
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan test keys: %v", err)
		}
		flush()
	})
}

// sampleState is a conversation in the middle of a flow.
func sampleState() State {
	return State{
		Flow:        "report",
		FlowVersion: 2,
		Step:        "title",
		Answers: map[string]Answer{
			"committee": {Values: []string{"health"}},
			"date":      {Time: 1718400000},
		},
		Trail:   []string{"committee", "date"},
		Nonce:   "k3x9",
		Expires: 1718403600,
	}
}

// realisticState is a report with every step answered: 8 answers, a 300-character
// Persian description and three photos.
func realisticState() State {
	// Telegram file ids are ~80 characters of base64url that do not repeat.
	rnd := rand.New(rand.NewPCG(1, 2))
	photo := func() string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		b := []byte("AgACAgQAAxkBAAI")
		for len(b) < 80 {
			b = append(b, alphabet[rnd.IntN(len(alphabet))])
		}
		return string(b)
	}
	return State{
		Flow:        "report",
		FlowVersion: 3,
		Step:        "_summary",
		Answers: map[string]Answer{
			"committee":     {Values: []string{"health"}},
			"programmes":    {Values: []string{"karamat", "salam"}},
			"title":         {Text: "پاکسازی و درختکاری بوستان محله"},
			"description":   {Text: persianText(300)},
			"date":          {Time: 1718400000},
			"place":         {Lat: 35.715298, Lon: 51.404343},
			"photos":        {Values: []string{photo(), photo(), photo()}},
			"beneficiaries": {Number: 250},
		},
		Trail:   []string{"committee", "programmes", "title", "description", "date", "place", "photos", "beneficiaries"},
		Nonce:   "k3x9",
		Expires: 1718403600,
	}
}

// persianText returns the first n characters (runes) of a report's
// description, n at most 300.
func persianText(n int) string {
	const prose = "در این اقدام، کمیته بهداشت و درمان شورای پیشرفت محله با همکاری خانه بهداشت و داوطلبان " +
		"جمعیت هلال احمر، یک روز سلامت برای سالمندان و کودکان محله برگزار کرد. در این برنامه فشار خون و قند خون " +
		"بیش از دویست نفر اندازه‌گیری شد، کلاس آموزش تغذیه سالم برای مادران تشکیل شد و بسته‌های بهداشتی میان " +
		"خانواده‌های کم‌برخوردار توزیع گردید. برنامه بعدی در پایان ماه در مسجد جامع محله اجرا می‌شود."
	return string([]rune(prose)[:n])
}

func TestLoadEmpty(t *testing.T) {
	s, _ := newTestStore(t, StoreConfig{})
	got, err := s.Load(context.Background(), Key{Platform: "tg", ChatID: 42, UserID: 42}, 1)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := (Snapshot{}); !reflect.DeepEqual(got, want) {
		t.Errorf("Load on empty = %+v, want %+v", got, want)
	}
}

func TestCommitCreateUpdateDelete(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, StoreConfig{})
	k := Key{Platform: "bale", ChatID: -100123, UserID: 7}

	first := sampleState()
	second := sampleState()
	second.Step = "description"
	second.Answers["title"] = Answer{Text: "پاکسازی بوستان"}
	second.Trail = append(second.Trail, "title")

	steps := []struct {
		name        string
		updateID    int
		expect      int64
		next        *State
		wantVersion int64
	}{
		{"create", 10, 0, &first, 1},
		{"update", 11, 1, &second, 2},
		{"delete", 12, 2, nil, 0},
	}
	for _, step := range steps {
		got, err := s.Commit(ctx, k, step.updateID, step.expect, step.next, time.Hour)
		if err != nil {
			t.Fatalf("%s: Commit: %v", step.name, err)
		}
		if got != step.wantVersion {
			t.Errorf("%s: Commit version = %d, want %d", step.name, got, step.wantVersion)
		}
		snap, err := s.Load(ctx, k, step.updateID)
		if err != nil {
			t.Fatalf("%s: Load: %v", step.name, err)
		}
		var want State
		if step.next != nil {
			want = *step.next
		}
		want.Version = step.wantVersion
		if !reflect.DeepEqual(snap.State, want) {
			t.Errorf("%s: Load state = %+v, want %+v", step.name, snap.State, want)
		}
		if !snap.Seen {
			t.Errorf("%s: Load Seen = false after Commit of the same update, want true", step.name)
		}
	}

	_, err := s.Get(ctx, k)
	if got := models.ErrorCode(err); got != models.ENOTFOUND {
		t.Errorf("Get after delete: code %q (err %v), want %q", got, err, models.ENOTFOUND)
	}
}

func TestCommitConflict(t *testing.T) {
	tests := []struct {
		name   string
		create bool  // a state at version 1 exists before the commit
		expect int64 // the version the commit expects
	}{
		{"stale version", true, 0},
		{"future version", true, 2},
		{"expects a state that does not exist", false, 1},
		{"expects nothing but a state exists", true, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newTestStore(t, StoreConfig{})
			k := Key{Platform: "tg", ChatID: int64(100 + i), UserID: 1}
			before := sampleState()
			if tt.create {
				if _, err := s.Commit(ctx, k, 1, 0, &before, time.Hour); err != nil {
					t.Fatalf("create: %v", err)
				}
			}

			next := sampleState()
			next.Step = "other"
			for _, nextState := range []*State{&next, nil} {
				_, err := s.Commit(ctx, k, 2, tt.expect, nextState, time.Hour)
				if !errors.Is(err, ErrConflict) {
					t.Fatalf("Commit(expect %d, next %v) error = %v, want ErrConflict", tt.expect, nextState != nil, err)
				}
				if got := models.ErrorCode(err); got != models.ECONFLICT {
					t.Errorf("ErrorCode = %q, want %q", got, models.ECONFLICT)
				}
			}

			snap, err := s.Load(ctx, k, 2)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := State{}
			if tt.create {
				want = before
				want.Version = 1
			}
			if !reflect.DeepEqual(snap.State, want) {
				t.Errorf("state after conflict = %+v, want unchanged %+v", snap.State, want)
			}
			if snap.Seen {
				t.Errorf("Seen = true after a conflicting Commit, want false: nothing may be written")
			}
		})
	}
}

func TestCommitReplay(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 5, UserID: 5}
	st := sampleState()
	if _, err := s.Commit(ctx, k, 7, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	changed := sampleState()
	changed.Step = "again"
	_, err := s.Commit(ctx, k, 7, 1, &changed, time.Hour)
	if !errors.Is(err, ErrSeen) {
		t.Fatalf("replayed Commit error = %v, want ErrSeen", err)
	}
	if errors.Is(err, ErrConflict) {
		t.Errorf("replayed Commit error also matches ErrConflict; they must be distinguishable")
	}
	if got := models.ErrorCode(err); got != models.ECONFLICT {
		t.Errorf("ErrorCode(ErrSeen) = %q, want %q", got, models.ECONFLICT)
	}
	// ErrSeen wins over a version conflict: a replay is a replay.
	if _, err := s.Commit(ctx, k, 7, 0, &changed, time.Hour); !errors.Is(err, ErrSeen) {
		t.Errorf("replayed Commit with a stale version error = %v, want ErrSeen", err)
	}

	tests := []struct {
		updateID int
		wantSeen bool
	}{
		{7, true},
		{8, false},
	}
	for _, tt := range tests {
		snap, err := s.Load(ctx, k, tt.updateID)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if snap.Seen != tt.wantSeen {
			t.Errorf("Load(update %d).Seen = %v, want %v", tt.updateID, snap.Seen, tt.wantSeen)
		}
		if snap.State.Version != 1 || snap.State.Step != st.Step {
			t.Errorf("state after replay = version %d step %q, want version 1 step %q", snap.State.Version, snap.State.Step, st.Step)
		}
	}
}

func TestSave(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 21, UserID: 21}
	st := sampleState()
	if err := s.MarkBlocked(ctx, k.Platform, k.ChatID); err != nil {
		t.Fatalf("MarkBlocked: %v", err)
	}
	if _, err := s.Commit(ctx, k, 1, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.MarkBlocked(ctx, k.Platform, k.ChatID); err != nil {
		t.Fatalf("MarkBlocked: %v", err)
	}
	prompted := sampleState()
	prompted.PromptID = 4411

	tests := []struct {
		name        string
		expect      int64
		next        *State
		ttl         time.Duration
		wantVersion int64
		wantErr     error
	}{
		{"stale version", 0, &prompted, time.Hour, 0, ErrConflict},
		{"update", 1, &prompted, 20 * time.Minute, 2, nil},
		{"same version again", 1, &prompted, time.Hour, 0, ErrConflict},
		{"delete", 2, nil, 0, 0, nil},
		{"create", 0, &st, 5 * time.Minute, 1, nil},
	}
	for _, tt := range tests {
		got, err := s.Save(ctx, k, tt.expect, tt.next, tt.ttl)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: Save error = %v, want %v", tt.name, err, tt.wantErr)
		}
		if got != tt.wantVersion {
			t.Errorf("%s: Save version = %d, want %d", tt.name, got, tt.wantVersion)
		}
		if tt.wantErr != nil {
			continue
		}
		stored, err := s.Get(ctx, k)
		if tt.next == nil {
			if models.ErrorCode(err) != models.ENOTFOUND {
				t.Errorf("%s: Get error = %v, want ENOTFOUND", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: Get: %v", tt.name, err)
		}
		want := *tt.next
		want.Version = tt.wantVersion
		if !reflect.DeepEqual(stored, want) {
			t.Errorf("%s: stored %+v, want %+v", tt.name, stored, want)
		}
		assertTTL(t, rdb, stateKey(s.tag(k.Platform, k.ChatID), k.UserID), tt.ttl)
	}

	// Save records no update and leaves the blocked mark alone.
	snap, err := s.Load(ctx, k, 2)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if snap.Seen || !snap.Blocked {
		t.Errorf("after Save: Seen %v, Blocked %v; want false, true", snap.Seen, snap.Blocked)
	}
	if _, err := s.Save(ctx, Key{Platform: "TG"}, 0, &st, time.Hour); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("Save with a bad key error = %v, want EINVALID", err)
	}
	if _, err := s.Save(ctx, k, 1, &st, 0); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("Save with no ttl error = %v, want EINVALID", err)
	}
}

func TestMarkSeen(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 9, UserID: 9}
	for range 2 { // marking twice is not an error
		if err := s.MarkSeen(ctx, k, 30); err != nil {
			t.Fatalf("MarkSeen: %v", err)
		}
	}
	snap, err := s.Load(ctx, k, 30)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !snap.Seen {
		t.Errorf("Load.Seen = false after MarkSeen, want true")
	}
	st := sampleState()
	if _, err := s.Commit(ctx, k, 30, 0, &st, time.Hour); !errors.Is(err, ErrSeen) {
		t.Errorf("Commit of a marked update error = %v, want ErrSeen", err)
	}
	if _, err := s.Get(ctx, k); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("Get after refused Commit error = %v, want ENOTFOUND", err)
	}
}

func TestCommitRace(t *testing.T) {
	tests := []struct {
		name       string
		sameUpdate bool // every goroutine carries the same update (a double tap re-delivered)
	}{
		{"different updates", false},
		{"same update", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newTestStore(t, StoreConfig{})
			k := Key{Platform: "tg", ChatID: int64(300 + i), UserID: 1}
			st := sampleState()
			if _, err := s.Commit(ctx, k, 1, 0, &st, time.Hour); err != nil {
				t.Fatalf("create: %v", err)
			}

			const racers = 20
			var wins, conflicts, seen atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range racers {
				wg.Go(func() {
					next := sampleState()
					next.Step = "racer"
					updateID := 100 + g
					if tt.sameUpdate {
						updateID = 100
					}
					<-start
					_, err := s.Commit(ctx, k, updateID, 1, &next, time.Hour)
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, ErrConflict):
						conflicts.Add(1)
					case errors.Is(err, ErrSeen):
						seen.Add(1)
					default:
						t.Errorf("Commit: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()

			if got := wins.Load(); got != 1 {
				t.Errorf("winners = %d, want exactly 1 (conflicts %d, seen %d)", got, conflicts.Load(), seen.Load())
			}
			if got, want := wins.Load()+conflicts.Load()+seen.Load(), int64(racers); got != want {
				t.Errorf("outcomes = %d, want %d", got, want)
			}
			got, err := s.Get(ctx, k)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Version != 2 {
				t.Errorf("version after race = %d, want 2", got.Version)
			}
		})
	}
}

func TestTTLs(t *testing.T) {
	tests := []struct {
		name         string
		dedupTTL     time.Duration
		stateTTL     time.Duration
		wantDedupTTL time.Duration
	}{
		{"defaults", 0, 30 * time.Minute, 25 * time.Hour},
		{"too short a dedup ttl takes the default", time.Hour, 2 * time.Hour, 25 * time.Hour},
		{"configured", 48 * time.Hour, 90 * time.Second, 48 * time.Hour},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, rdb := newTestStore(t, StoreConfig{DedupTTL: tt.dedupTTL})
			k := Key{Platform: "tg", ChatID: int64(400 + i), UserID: 3}
			if err := s.MarkBlocked(ctx, k.Platform, k.ChatID); err != nil {
				t.Fatalf("MarkBlocked: %v", err)
			}
			tag := s.tag(k.Platform, k.ChatID)
			assertTTL(t, rdb, blockedKey(tag), BlockedTTL)

			st := sampleState()
			if _, err := s.Commit(ctx, k, 1, 0, &st, tt.stateTTL); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if err := s.MarkSeen(ctx, k, 2); err != nil {
				t.Fatalf("MarkSeen: %v", err)
			}
			assertTTL(t, rdb, stateKey(tag, k.UserID), tt.stateTTL)
			assertTTL(t, rdb, dedupKey(tag), tt.wantDedupTTL)
			for _, id := range []string{"1", "2"} {
				if err := rdb.ZScore(ctx, dedupKey(tag), id).Err(); err != nil {
					t.Errorf("update %s has no dedup mark: %v", id, err)
				}
			}
		})
	}
}

// assertTTL checks that key expires in (want-1min, want].
func assertTTL(t *testing.T, rdb redis.UniversalClient, key string, want time.Duration) {
	t.Helper()
	got, err := rdb.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	if got > want || got <= want-time.Minute {
		t.Errorf("TTL of %s = %v, want %v", key, got, want)
	}
}

func TestCommitRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, StoreConfig{})
	st := sampleState()
	tests := []struct {
		name   string
		k      Key
		expect int64
		ttl    time.Duration
	}{
		{"empty platform", Key{ChatID: 1, UserID: 1}, 0, time.Hour},
		{"platform breaking the hash tag", Key{Platform: "tg}x", ChatID: 1, UserID: 1}, 0, time.Hour},
		{"upper-case platform", Key{Platform: "TG", ChatID: 1, UserID: 1}, 0, time.Hour},
		{"negative version", Key{Platform: "tg", ChatID: 1, UserID: 1}, -1, time.Hour},
		{"no ttl", Key{Platform: "tg", ChatID: 1, UserID: 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Commit(ctx, tt.k, 1, tt.expect, &st, tt.ttl)
			if got := models.ErrorCode(err); got != models.EINVALID {
				t.Errorf("Commit error code = %q (err %v), want %q", got, err, models.EINVALID)
			}
		})
	}
	if _, err := s.Load(ctx, Key{Platform: "t:g"}, 1); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("Load with a bad platform error = %v, want EINVALID", err)
	}
	if err := s.MarkBlocked(ctx, "", 1); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("MarkBlocked with no platform error = %v, want EINVALID", err)
	}
}

func TestLoadCorruptState(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 11, UserID: 11}
	for _, raw := range []string{"no separator", "x|{}", "0|{}", "3|{not json"} {
		if err := rdb.Set(ctx, stateKey(s.tag(k.Platform, k.ChatID), k.UserID), raw, time.Minute).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if _, err := s.Load(ctx, k, 1); models.ErrorCode(err) != models.EINTERNAL {
			t.Errorf("Load of %q error = %v, want EINTERNAL", raw, err)
		}
		if _, err := s.Get(ctx, k); models.ErrorCode(err) != models.EINTERNAL {
			t.Errorf("Get of %q error = %v, want EINTERNAL", raw, err)
		}
	}
}

func TestBlockedMark(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 21, 8, 0, 0, 0, time.UTC)
	s, rdb := newTestStore(t, StoreConfig{Now: func() time.Time { return now }})
	k := Key{Platform: "tg", ChatID: 77, UserID: 77}
	other := Key{Platform: "tg", ChatID: 78, UserID: 78}
	st := sampleState()

	load := func(k Key, updateID int) Snapshot {
		t.Helper()
		snap, err := s.Load(ctx, k, updateID)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		return snap
	}
	if err := s.MarkBlocked(ctx, k.Platform, k.ChatID); err != nil {
		t.Fatalf("MarkBlocked: %v", err)
	}
	if !load(k, 1).Blocked {
		t.Errorf("Blocked = false after MarkBlocked, want true")
	}
	if load(other, 1).Blocked {
		t.Errorf("another chat is Blocked, want false")
	}
	if got, err := rdb.Get(ctx, blockedKey(s.tag(k.Platform, k.ChatID))).Int64(); err != nil || got != now.Unix() {
		t.Errorf("blocked mark value = %d, %v; want %d (the time it was set)", got, err, now.Unix())
	}

	// A refused Commit writes nothing, so the mark stays.
	if _, err := s.Commit(ctx, k, 1, 5, &st, time.Hour); !errors.Is(err, ErrConflict) {
		t.Fatalf("Commit error = %v, want ErrConflict", err)
	}
	if !load(k, 1).Blocked {
		t.Errorf("Blocked = false after a refused Commit, want true")
	}
	if _, err := s.Commit(ctx, k, 1, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if load(k, 2).Blocked {
		t.Errorf("Blocked = true after Commit, want false")
	}
}

// crc16 is CRC-16/XMODEM, the checksum Redis Cluster maps keys to slots with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// clusterSlot returns the Redis Cluster slot of key, honouring a hash tag.
func clusterSlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(key)) % 16384)
}

func TestClusterSlot(t *testing.T) {
	tests := []struct {
		key  string
		want int
	}{
		{"foo", 12182}, // CLUSTER KEYSLOT foo
		{"123456789", 0x31C3 % 16384},
		{"{user1000}.following", clusterSlot("user1000")},
		{"a{}b", int(crc16([]byte("a{}b")) % 16384)}, // an empty tag hashes the whole key
	}
	for _, tt := range tests {
		if got := clusterSlot(tt.key); got != tt.want {
			t.Errorf("clusterSlot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestKeysOfOneChatShareASlot(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: -1001234567890, UserID: 12345}
	st := sampleState()
	if _, err := s.Commit(ctx, k, 987654321, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.MarkSeen(ctx, k, 987654322); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	other := k
	other.UserID = 999
	if _, err := s.Commit(ctx, other, 987654323, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.MarkBlocked(ctx, k.Platform, k.ChatID); err != nil { // Commit cleared the first one
		t.Fatalf("MarkBlocked: %v", err)
	}

	var keys []string
	iter := rdb.Scan(ctx, 0, s.prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	if len(keys) != 4 { // 2 states, 1 dedup set, 1 blocked mark
		t.Fatalf("keys = %q, want 4", keys)
	}
	wantTag := "{tg:-1001234567890}"
	want := clusterSlot(wantTag)
	for _, key := range keys {
		if !strings.HasPrefix(key, s.prefix+":"+wantTag+":") {
			t.Errorf("key %q does not start with %q", key, s.prefix+":"+wantTag+":")
		}
		if got := clusterSlot(key); got != want {
			t.Errorf("slot of %q = %d, want %d", key, got, want)
		}
	}
}
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	hook := &redistest.RoundTrips{}
	rdb.AddHook(hook)
	k := Key{Platform: "tg", ChatID: 55, UserID: 55}
	// Open the pooled connection first: its handshake (HELLO, CLIENT
	// SETINFO) is not a round trip of Load.
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error { return p.Ping(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	hook.Take()

	st := sampleState()
	version := int64(0)
	for updateID := 1; updateID <= 3; updateID++ { // the first Commit (EVAL) and later ones (EVALSHA)
		snap, err := s.Load(ctx, k, updateID)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got := hook.Take(); len(got) != 1 {
			t.Errorf("update %d: Load took %d round trips %q, want 1", updateID, len(got), got)
		}
		if version, err = s.Commit(ctx, k, updateID, snap.State.Version, &st, time.Hour); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if got := hook.Take(); len(got) != 1 {
			t.Errorf("update %d: Commit took %d round trips %q, want 1", updateID, len(got), got)
		}
	}
	if version != 3 {
		t.Errorf("version = %d, want 3", version)
	}
	if err := s.MarkSeen(ctx, k, 4); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	if got := hook.Take(); len(got) != 1 {
		t.Errorf("MarkSeen took %d round trips %q, want 1", len(got), got)
	}
	for range 2 { // the first Save (EVAL) and a later one (EVALSHA)
		v, err := s.Save(ctx, k, version, &st, time.Hour)
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := hook.Take(); len(got) != 1 {
			t.Errorf("Save to version %d took %d round trips %q, want 1", v, len(got), got)
		}
		version = v
	}
}

// TestCommitAfterScriptFlush runs only on miniredis: flushing the script
// cache of a shared server would disturb other packages' tests.
func TestCommitAfterScriptFlush(t *testing.T) {
	if os.Getenv("TEST_REDIS_URL") != "" {
		t.Skip("SCRIPT FLUSH would disturb other tests on the shared Redis; covered on miniredis")
	}
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 66, UserID: 66}
	st := sampleState()
	if _, err := s.Commit(ctx, k, 1, 0, &st, time.Hour); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	got, err := s.Commit(ctx, k, 2, 1, &st, time.Hour)
	if err != nil {
		t.Fatalf("Commit after SCRIPT FLUSH: %v", err)
	}
	if got != 2 {
		t.Errorf("version = %d, want 2", got)
	}
}

// TestMemoryUsage measures what an open conversation costs in Redis with
// production key lengths (prefix "mh", a 10-digit private chat id). MEMORY
// USAGE exists only on a real server. The 2 KB budget for state and dedup marks
// is a target, not a limit the design guarantees, so the test logs the figure
// and fails only when a part outgrows its current allocation class.
func TestMemoryUsage(t *testing.T) {
	if os.Getenv("TEST_REDIS_URL") == "" {
		t.Skip("MEMORY USAGE needs a real Redis (TEST_REDIS_URL)")
	}
	ctx := context.Background()
	rdb := redistest.Client(t)
	s := NewStore(rdb, StoreConfig{}) // the production prefix; a random chat id keeps the keys apart
	chatID := 1_000_000_000 + rand.Int64N(8_000_000_000)
	k := Key{Platform: "tg", ChatID: chatID, UserID: chatID}
	tag := s.tag(k.Platform, k.ChatID)
	const updates = 10 // a report of 8 steps, its start and its confirmation
	const firstUpdate = 812345670
	t.Cleanup(func() {
		keys := []string{stateKey(tag, k.UserID), blockedKey(tag), dedupKey(tag)}
		if err := rdb.Del(context.Background(), keys...).Err(); err != nil {
			t.Errorf("remove test keys: %v", err)
		}
	})

	st := realisticState()
	version := int64(0)
	for i := range updates {
		var err error
		if version, err = s.Commit(ctx, k, firstUpdate+i, version, &st, 24*time.Hour); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	stateBytes, err := rdb.MemoryUsage(ctx, stateKey(tag, k.UserID)).Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	dedupBytes, err := rdb.MemoryUsage(ctx, dedupKey(tag)).Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	raw, err := rdb.Get(ctx, stateKey(tag, k.UserID)).Result()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	t.Logf("state value %d bytes; MEMORY USAGE: state key %d bytes, dedup set of %d marks %d bytes; together %d bytes",
		len(raw), stateBytes, updates, dedupBytes, stateBytes+dedupBytes)
	if stateBytes > 1536 {
		t.Errorf("state key uses %d bytes, want at most 1536", stateBytes)
	}
	if dedupBytes > 320 {
		t.Errorf("the dedup set of %d marks uses %d bytes, want at most 320", updates, dedupBytes)
	}
}

func BenchmarkLoadCommit(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 1234567890, UserID: 1234567890}
	st := realisticState()
	b.ReportAllocs()
	for updateID := 1; b.Loop(); updateID++ {
		snap, err := s.Load(ctx, k, updateID)
		if err != nil {
			b.Fatalf("Load: %v", err)
		}
		if _, err := s.Commit(ctx, k, updateID, snap.State.Version, &st, time.Hour); err != nil {
			b.Fatalf("Commit: %v", err)
		}
	}
}

// TestDedupWatermark sends 500 updates in one chat: the dedup set keeps
// the latest 16 ids and a watermark, every one of the 500 still counts as
// seen, a new one does not, and MEMORY USAGE (on a real Redis) stays under
// 2 KB.
func TestDedupWatermark(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, StoreConfig{})
	k := Key{Platform: "tg", ChatID: 1_234_567_890, UserID: 1_234_567_890}
	st := sampleState()
	v := int64(0)
	const first, updates = 812_000_000, 500
	for i := range updates {
		var err error
		if i%2 == 0 {
			v, err = s.Commit(ctx, k, first+i, v, &st, time.Hour)
		} else {
			err = s.MarkSeen(ctx, k, first+i)
		}
		if err != nil {
			t.Fatalf("update %d: %v", first+i, err)
		}
	}
	key := dedupKey(s.tag(k.Platform, k.ChatID))
	n, err := rdb.ZCard(ctx, key).Result()
	if err != nil || n != dedupRecent+1 {
		t.Errorf("dedup set holds %d members, %v; want %d ids and the watermark", n, err, dedupRecent)
	}
	for _, id := range []int{first, first + 250, first + updates - dedupRecent - 1, first + updates - 1} {
		snap, err := s.Load(ctx, k, id)
		if err != nil || !snap.Seen {
			t.Errorf("update %d: seen = %v, %v; want seen", id, snap.Seen, err)
		}
		if _, err := s.Commit(ctx, k, id, v, &st, time.Hour); !errors.Is(err, ErrSeen) {
			t.Errorf("replayed commit of update %d = %v, want ErrSeen", id, err)
		}
	}
	if snap, err := s.Load(ctx, k, first+updates); err != nil || snap.Seen {
		t.Errorf("a new update: seen = %v, %v; want not seen", snap.Seen, err)
	}
	if os.Getenv("TEST_REDIS_URL") == "" {
		return
	}
	bytes, err := rdb.MemoryUsage(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dedup bookkeeping after %d updates: %d bytes (MEMORY USAGE)", updates, bytes)
	if bytes > 2048 {
		t.Errorf("dedup bookkeeping after %d updates uses %d bytes, want at most 2048", updates, bytes)
	}
}

// TestStateEncoding: a state is stored as encoding/json would write it, and
// reads back whole, whichever library wrote it.
func TestStateEncoding(t *testing.T) {
	st := State{Flow: "suggest", FlowVersion: 3, Run: "r1", Step: "text",
		Answers: map[string]Answer{"province": {Values: []string{"8"}}, "text": {Text: "سلام \"دنیا\" <b>&\u2028"},
			"where": {Lat: 35.6891975, Lon: 51.388973}, "photo": {Skipped: true}, "when": {Time: 1700000000, Number: -7}},
		Hidden: map[string]Answer{"page": {Number: 2}, "arg": {Text: "x"}},
		Trail:  []string{"province", "county"}, Editing: true, Nonce: "n", PromptID: 42, Notice: "خبر",
		Expires: 1800000000, Announced: true, Group: "g", Paused: true, Shown: 4294967295, ReplyKB: true, Commands: 7, Version: 9}
	_, got, err := encodeState(4, &st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	if got != "5|"+string(want) {
		t.Errorf("encoded\n%s\nencoding/json writes\n5|%s", got, want)
	}
	back, err := decodeState(got)
	if err != nil {
		t.Fatal(err)
	}
	st.Version = 5
	if !reflect.DeepEqual(back, st) {
		t.Errorf("decoded %+v, want %+v", back, st)
	}
}

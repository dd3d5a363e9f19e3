package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// snapshotFile is where the in-process Redis keeps its keys under DATA_DIR,
// so drafts survive a restart of a small install.
const snapshotFile = "redis-snapshot.json"

// snapshotEvery is how often the in-process Redis is written to disk; it is
// also written on shutdown.
const snapshotEvery = time.Minute

var snapshotMu sync.Mutex

// redisSnapshot is the in-process Redis on disk: every key with its type,
// value and time to live.
type redisSnapshot struct {
	At   int64                  `json:"at"` // unix milliseconds when written
	Keys map[string]snapshotKey `json:"keys"`
}

type snapshotKey struct {
	Type string             `json:"type"`
	TTL  int64              `json:"ttl_ms,omitempty"`
	Str  string             `json:"str,omitempty"`
	Hash map[string]string  `json:"hash,omitempty"`
	Set  []string           `json:"set,omitempty"`
	ZSet map[string]float64 `json:"zset,omitempty"`
	List []string           `json:"list,omitempty"`
}

// saveSnapshot writes every key of m to dir atomically (a temporary file
// renamed over the old one).
func saveSnapshot(m *miniredis.Miniredis, dir string, now time.Time) error {
	snapshotMu.Lock() // the minute's save and the shutdown's may meet
	defer snapshotMu.Unlock()
	snap := redisSnapshot{At: now.UnixMilli(), Keys: map[string]snapshotKey{}}
	for _, k := range m.Keys() {
		sk := snapshotKey{Type: m.Type(k), TTL: m.TTL(k).Milliseconds()}
		var err error
		switch sk.Type {
		case "string":
			sk.Str, err = m.Get(k)
		case "hash":
			var fields []string
			fields, err = m.HKeys(k)
			sk.Hash = map[string]string{}
			for _, f := range fields {
				sk.Hash[f] = m.HGet(k, f)
			}
		case "set":
			sk.Set, err = m.Members(k)
		case "zset":
			sk.ZSet, err = m.SortedSet(k)
		case "list":
			sk.List, err = m.List(k)
		default:
			continue // streams and the like: Mahalle keeps none
		}
		if err != nil {
			return fmt.Errorf("redis snapshot: key %s: %w", k, err)
		}
		snap.Keys[k] = sk
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("redis snapshot: %w", err)
	}
	path := filepath.Join(dir, snapshotFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("redis snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("redis snapshot: %w", err)
	}
	return nil
}

// loadSnapshot puts the keys written by saveSnapshot back into m, less the
// time that passed since; none when there is no snapshot yet.
func loadSnapshot(m *miniredis.Miniredis, dir string, now time.Time) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("redis snapshot: %w", err)
	}
	var snap redisSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return 0, fmt.Errorf("redis snapshot %s: %w", filepath.Join(dir, snapshotFile), err)
	}
	passed := now.Sub(time.UnixMilli(snap.At))
	n := 0
	for k, sk := range snap.Keys {
		ttl := time.Duration(sk.TTL) * time.Millisecond
		if ttl > 0 {
			if ttl -= passed; ttl <= 0 {
				continue // expired while the bot was down
			}
		}
		var err error
		switch sk.Type {
		case "string":
			err = m.Set(k, sk.Str)
		case "hash":
			for f, v := range sk.Hash {
				m.HSet(k, f, v)
			}
		case "set":
			_, err = m.SetAdd(k, sk.Set...)
		case "zset":
			for member, score := range sk.ZSet {
				if _, err = m.ZAdd(k, score, member); err != nil {
					break
				}
			}
		case "list":
			_, err = m.Push(k, sk.List...)
		}
		if err != nil {
			return n, fmt.Errorf("redis snapshot: key %s: %w", k, err)
		}
		if ttl > 0 {
			m.SetTTL(k, ttl)
		}
		n++
	}
	return n, nil
}

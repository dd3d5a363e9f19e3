package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/persian"
)

const webhookSecret = "webhook-secret_0123456789"

var webhookAddrPattern = regexp.MustCompile(`msg="webhook listening" addr=(\S+)`)

// spawnWebhook starts the bot binary in webhook mode as replica id and
// returns it with the URL its webhook listener takes Telegram updates on.
func (h *harness) spawnWebhook(id string) (*proc, string) {
	h.t.Helper()
	env := map[string]string{}
	for k, v := range h.env {
		env[k] = v
	}
	env["WEBHOOK_URL"] = "https://bot.example.ir/hook"
	env["WEBHOOK_SECRET"] = webhookSecret
	env["WEBHOOK_ADDR"] = "127.0.0.1:0"
	env["INSTANCE_ID"] = id
	p := &proc{cmd: exec.Command(botBinary(h.t)), logs: &syncBuffer{}, exited: make(chan struct{})}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	sort.Strings(p.cmd.Env)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	h.t.Cleanup(func() {
		if err := p.kill9(); err != nil {
			h.t.Error(err)
		}
		if h.t.Failed() {
			h.t.Logf("output of replica %s (last 8 KiB):\n%s", id, tail(p.logs.String(), 8<<10))
		}
	})
	deadline := time.Now().Add(waitTimeout)
	for {
		if m := webhookAddrPattern.FindStringSubmatch(p.logs.String()); m != nil {
			return p, "http://" + m[1] + "/hook/tg"
		}
		select {
		case <-p.exited:
			h.t.Fatalf("replica %s exited: %v\n%s", id, p.err, p.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("replica %s never listened:\n%s", id, p.logs.String())
		}
	}
}

// balancer plays Telegram's webhook delivery behind a load balancer: it
// takes the fake Bot API's updates with getUpdates and posts each, in
// order, to the replicas in turn, passing over a replica that does not
// answer 200; the offset moves on only once an update was taken.
type balancer struct {
	srv      *bottest.Server
	mu       sync.Mutex
	replicas []string
	next     atomic.Int64
	posted   map[string]int // replica URL -> updates it took
}

func (b *balancer) run(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	offset := 0
	for ctx.Err() == nil {
		u := fmt.Sprintf(strings.Replace(b.srv.Endpoint(), "%s", b.srv.Token(), 1), "getUpdates") +
			fmt.Sprintf("?offset=%d&timeout=1", offset)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		var body struct {
			Result []json.RawMessage `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		_ = resp.Body.Close()
		if err != nil {
			continue
		}
		for _, raw := range body.Result {
			var head struct {
				UpdateID int `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &head)
			for ctx.Err() == nil && !b.post(ctx, client, raw) {
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
			offset = head.UpdateID + 1
		}
	}
}

// post offers raw to each replica in turn, starting with the next one.
func (b *balancer) post(ctx context.Context, client *http.Client, raw []byte) bool {
	b.mu.Lock()
	replicas := append([]string(nil), b.replicas...)
	b.mu.Unlock()
	start := int(b.next.Add(1))
	for i := range replicas {
		target := replicas[(start+i)%len(replicas)]
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			b.mu.Lock()
			b.posted[target]++
			b.mu.Unlock()
			return true
		}
	}
	return false
}

// stepNumbers lists the «مرحله N از ۹» numbers of the messages sent to a
// chat, in the order the fake Bot API recorded them.
var stepPattern = regexp.MustCompile(`مرحله ([۰-۹]+) از ۹`)

func stepNumbers(sent []bottest.Sent) []int {
	var out []int
	for _, s := range sent {
		if m := stepPattern.FindStringSubmatch(s.Text); m != nil && s.Method != "answerCallbackQuery" {
			n, err := persian.ParseNumber(m[1])
			if err == nil {
				out = append(out, int(n))
			}
		}
	}
	return out
}

// TestWebhookReplicas runs two webhook replicas of the bot on one Redis and
// one database behind a balancer, kills one with SIGKILL while residents
// walk the suggestion flow, and checks that the other finishes every flow:
// one suggestion per resident, and every chat's steps in order. A post
// without the secret is refused with 401 and changes nothing.
func TestWebhookReplicas(t *testing.T) {
	const residents = 10
	h := newHarness(t)
	a, urlA := h.spawnWebhook("replica-a")
	_, urlB := h.spawnWebhook("replica-b")
	lb := &balancer{srv: h.srv, replicas: []string{urlA, urlB}, posted: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	lbDone := make(chan struct{})
	go func() {
		defer close(lbDone)
		lb.run(ctx)
	}()
	defer func() {
		cancel()
		<-lbDone
	}()

	// A post without the right secret: 401, and nothing happens.
	intruder, intruderUser := bottest.Private(9399)
	raw := fmt.Sprintf(`{"update_id":999999,"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"x"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		intruder.ID, intruderUser.ID)
	for _, secret := range []string{"", "wrong-secret-0123456789"} {
		req, _ := http.NewRequest(http.MethodPost, urlB, strings.NewReader(raw))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("post with secret %q = %d, want 401", secret, resp.StatusCode)
		}
	}

	start := time.Now()
	rs := make([]*resident, residents)
	errs := make([]error, residents)
	open := make(chan struct{})
	close(open)
	var wg sync.WaitGroup
	for i := range rs {
		chat, user := bottest.Private(int64(9300 + i))
		rs[i] = &resident{h: h, srv: h.srv, chat: chat, user: user,
			text: fmt.Sprintf("پیشنهاد شمارهٔ %d برای کوچه", i+1)}
		wg.Go(func() { errs[i] = rs[i].walk(open) })
	}
	// Kill replica A once the residents are a few steps in.
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(waitTimeout)
		for len(h.srv.Sent()) < residents*4 && time.Now().Before(deadline) {
			<-time.After(5 * time.Millisecond)
		}
		lb.mu.Lock()
		lb.replicas = []string{urlB}
		lb.mu.Unlock()
		killed <- a.kill9()
	}()
	wg.Wait()
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d residents done in %v; replica A took %d updates before it was killed, B %d",
		residents, time.Since(start).Round(time.Millisecond), lb.posted[urlA], lb.posted[urlB])
	for i, err := range errs {
		if err != nil {
			t.Errorf("resident %d: %v", i, err)
		}
	}
	if t.Failed() {
		h.dumpQueues(t)
	}
	if lb.posted[urlA] == 0 {
		t.Errorf("replica A took no update: the test shared nothing")
	}
	store := h.openStore()
	if n, err := store.CountSuggestions(context.Background()); err != nil || n != residents {
		t.Errorf("suggestions = %d, %v; want %d (one per flow)", n, err, residents)
	}
	for i, r := range rs {
		steps := stepNumbers(h.srv.SentTo(r.chat.ID))
		for j := 1; j < len(steps); j++ {
			if steps[j] < steps[j-1] {
				t.Errorf("resident %d: steps out of order: %v", i, steps)
				break
			}
		}
	}
	if n := len(h.srv.SentTo(intruder.ID)); n != 0 {
		t.Errorf("the refused posts made the bot send %d messages", n)
	}
	if ok := h.queued(999999); ok {
		t.Errorf("a refused post was queued")
	}
}

func (h *harness) dumpQueues(t *testing.T) {
	ctx := context.Background()
	rdb := h.redis()
	prefix := h.env["REDIS_KEY_PREFIX"]
	keys, _, _ := rdb.Scan(ctx, 0, prefix+":*", 10000).Result()
	for _, k := range keys {
		typ := rdb.Type(ctx, k).Val()
		ttl := rdb.PTTL(ctx, k).Val()
		switch typ {
		case "zset":
			if strings.HasSuffix(k, ":q") || strings.HasSuffix(k, ":queued") {
				t.Logf("%s %s ttl=%v %v", k, typ, ttl, rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
			}
		case "string":
			if strings.HasSuffix(k, ":l") {
				t.Logf("%s %s ttl=%v %q", k, typ, ttl, rdb.Get(ctx, k).Val())
			}
		}
	}
}

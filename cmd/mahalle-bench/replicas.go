package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/persian"
)

// The replicas run of issue 12 (-replicas N -kill-one D): N bots in webhook
// mode on one PostgreSQL and one Redis behind a balancer that plays
// Telegram's webhook delivery; D after the measured phase starts one replica
// is killed with SIGKILL. The report says whether any completed flow lost
// its row or got two, and whether any chat's prompts came out of order.

// webhookSecret is the WEBHOOK_SECRET of the replicas.
const webhookSecret = "mahalle-bench_webhook-secret_0123"

// replica is one bot process in webhook mode.
type replica struct {
	name    string
	proc    *botProc
	base    string // its ops listener, http://127.0.0.1:<port>
	webhook string // where it takes Telegram's updates
	killed  bool
}

// replicaVars adds to vars what replica i needs; it returns its ops base
// URL and its webhook URL.
func replicaVars(vars map[string]string, i int) (map[string]string, string, string, error) {
	ops, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	hook, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	v := map[string]string{}
	for k, x := range vars {
		v[k] = x
	}
	v["HTTP_ADDR"] = "127.0.0.1:" + ops
	v["WEBHOOK_URL"] = "https://bot.example.ir/hook"
	v["WEBHOOK_SECRET"] = webhookSecret
	v["WEBHOOK_ADDR"] = "127.0.0.1:" + hook
	v["INSTANCE_ID"] = "bench-replica-" + strconv.Itoa(i)
	return v, "http://127.0.0.1:" + ops, "http://127.0.0.1:" + hook + "/hook/tg", nil
}

// balancer plays Telegram's webhook delivery behind a load balancer: it
// takes the fake Bot API's updates with getUpdates and posts each, in
// order, to the live replicas in turn, passing over one that does not
// answer 200; the offset moves on once an update was taken.
type balancer struct {
	srv     *bottest.Server
	mu      sync.Mutex
	targets []*replica
	next    int
	posted  map[string]int // replica name -> updates it took
	retries atomic.Int64   // posts a replica did not take
}

// drop takes r out of the rotation.
func (lb *balancer) drop(r *replica) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for i, t := range lb.targets {
		if t == r {
			lb.targets = append(lb.targets[:i:i], lb.targets[i+1:]...)
			return
		}
	}
}

func (lb *balancer) run(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	getUpdates := fmt.Sprintf(strings.Replace(lb.srv.Endpoint(), "%s", lb.srv.Token(), 1), "getUpdates")
	offset := 0
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, getUpdates+"?timeout=1&offset="+strconv.Itoa(offset), nil)
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
			continue // an injected 5xx: ask again
		}
		for _, raw := range body.Result {
			var head struct {
				UpdateID int `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &head)
			for ctx.Err() == nil && !lb.post(ctx, client, raw) {
				lb.retries.Add(1)
				t := time.NewTimer(20 * time.Millisecond)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
			offset = head.UpdateID + 1
		}
	}
}

// post offers raw to each live replica in turn, starting with the next.
func (lb *balancer) post(ctx context.Context, client *http.Client, raw []byte) bool {
	lb.mu.Lock()
	targets := append([]*replica(nil), lb.targets...)
	start := lb.next
	lb.next++
	lb.mu.Unlock()
	for i := range targets {
		r := targets[(start+i)%len(targets)]
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.webhook, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			lb.mu.Lock()
			lb.posted[r.name]++
			lb.mu.Unlock()
			return true
		}
	}
	return false
}

// orderCheck follows the «مرحله N از ۹» of each resident's prompts: within
// a flow they never go back (the residents never press «بازگشت»).
type orderCheck struct {
	mu      sync.Mutex
	last    map[int64]int // resident -> last step seen in the current flow
	broken  int           // prompts that went back
	example string
}

func newOrderCheck() *orderCheck { return &orderCheck{last: map[int64]int{}} }

// see looks at one call the bot made to resident i's chat.
func (oc *orderCheck) see(i int64, method, text string) {
	if method != "sendMessage" && method != "editMessageText" {
		return
	}
	step := 0
	if _, rest, ok := strings.Cut(text, "مرحله "); ok {
		if num, _, ok := strings.Cut(rest, " از ۹"); ok {
			if n, err := persian.ParseNumber(num); err == nil {
				step = int(n)
			}
		}
	}
	oc.mu.Lock()
	defer oc.mu.Unlock()
	switch {
	case strings.Contains(text, markCode) || strings.Contains(text, labelSuggest) && step == 0:
		oc.last[i] = 0 // the flow ended, or the menu: the next flow starts at 1
	case step > 0:
		if prev := oc.last[i]; step < prev && step != 1 {
			oc.broken++
			if oc.example == "" {
				oc.example = fmt.Sprintf("resident %d: step %d after step %d", i, step, prev)
			}
		}
		oc.last[i] = step
	}
}

// replicasResult is the replicas part of a result.
type replicasResult struct {
	n        int
	killAt   time.Duration // after the measured phase began; 0: none killed
	killed   string
	posted   map[string]int
	retries  int64
	outOrder int
	example  string
}

func (r *result) replicasLines() []string {
	rr := r.replicas
	var parts []string
	for i := range rr.n {
		name := "replica-" + strconv.Itoa(i)
		parts = append(parts, fmt.Sprintf("%s %s", name, thousands(float64(rr.posted[name]))))
	}
	out := []string{fmt.Sprintf("replicas: %d in webhook mode behind a round-robin balancer (SEND_LIMITS shared, the default there); updates taken: %s; posts refused or failed and retried: %d",
		rr.n, strings.Join(parts, ", "), rr.retries)}
	if rr.killed != "" {
		out = append(out, fmt.Sprintf("killed: %s with SIGKILL %s into the measured phase", rr.killed, rr.killAt))
	}
	out = append(out, fmt.Sprintf("order per chat: %d prompts went back a step (target 0) — %s%s", rr.outOrder, verdict(rr.outOrder == 0), exampleSuffix(rr.example)))
	out = append(out, "the bot's own metrics, CPU and RSS figures above are replica-0's alone (it is never the one killed)")
	return out
}

func exampleSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "; first: " + e
}

// startReplicas starts n replicas of the bot in webhook mode; the caller
// stops them.
func startReplicas(ctx context.Context, bin string, vars map[string]string, n int) ([]*replica, error) {
	var rs []*replica
	for i := range n {
		v, base, hook, err := replicaVars(vars, i)
		if err != nil {
			return rs, err
		}
		p, err := startBot(bin, botEnv(v))
		if err != nil {
			return rs, err
		}
		r := &replica{name: "replica-" + strconv.Itoa(i), proc: p, base: base, webhook: hook}
		rs = append(rs, r)
		if err := p.waitReady(ctx, func(ctx context.Context) error {
			rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			return waitHTTP(rctx, base+"/healthz")
		}); err != nil {
			return rs, fmt.Errorf("%s: %w", r.name, err)
		}
	}
	return rs, nil
}

// kill9 kills r with SIGKILL and waits for it to be gone.
func (r *replica) kill9() error {
	if err := r.proc.cmd.Process.Kill(); err != nil {
		return err
	}
	<-r.proc.done
	r.killed = true
	return nil
}

var errNoReplicas = errors.New("-kill-one needs -replicas 2 or more")

// startBalancer starts delivering the fake Bot API's updates to the
// replicas, until ctx ends.
func (b *bench) startBalancer(ctx context.Context) {
	b.lb = &balancer{srv: b.srv, targets: append([]*replica(nil), b.reps...), posted: map[string]int{}}
	go b.lb.run(ctx)
}

// startKill kills the last replica -kill-one after start.
func (b *bench) startKill(ctx context.Context, start time.Time, res *result) {
	if b.opts.killOne <= 0 || len(b.reps) < 2 {
		return
	}
	victim := b.reps[len(b.reps)-1]
	b.kill = make(chan error, 1)
	go func() {
		t := time.NewTimer(time.Until(start.Add(b.opts.killOne)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			b.kill <- nil
			return
		}
		b.lb.drop(victim)
		err := victim.kill9()
		res.replicas.killed, res.replicas.killAt = victim.name, time.Since(start).Round(10*time.Millisecond)
		b.logf("killed %s with SIGKILL", victim.name)
		b.kill <- err
	}()
}

// endReplicas waits for the kill, if any, and puts the replicas' figures
// into res.
func (b *bench) endReplicas(res *result) error {
	if res.replicas == nil {
		return nil
	}
	if b.kill != nil {
		if err := <-b.kill; err != nil {
			return fmt.Errorf("kill a replica: %w", err)
		}
	}
	rr := res.replicas
	b.lb.mu.Lock()
	rr.posted = map[string]int{}
	for k, v := range b.lb.posted {
		rr.posted[k] = v
	}
	b.lb.mu.Unlock()
	rr.retries = b.lb.retries.Load()
	b.order.mu.Lock()
	rr.outOrder, rr.example = b.order.broken, b.order.example
	b.order.mu.Unlock()
	return nil
}

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedisCluster starts three redis-server nodes with cluster mode on
// free loopback ports, joins them with redis-cli --cluster create, waits for
// cluster_state:ok and returns a REDIS_URL for Mahalle. The nodes are
// stopped when the test ends. Without redis-server the test is skipped,
// except in CI ($CI set), where that is a failure.
func startRedisCluster(t *testing.T) string {
	t.Helper()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server and redis-cli are needed for the cluster test in CI: %v %v", err1, err2)
		}
		t.Skip("redis-server or redis-cli is not installed")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		node := fmt.Sprintf("%s/node%d", dir, i)
		if err := os.MkdirAll(node, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", node+"/nodes.conf",
			"--dir", node, "--save", "", "--appendonly", "no", "--protected-mode", "no")
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("redis node %d:\n%s", i, tail(out.String(), 2<<10))
			}
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		waitDial(t, addr)
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(waitTimeout)
	for {
		info, err := c.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			// Every node must know the slots before clients use them.
			ok := true
			for _, a := range addrs {
				n := redis.NewClient(&redis.Options{Addr: a})
				ni, err := n.ClusterInfo(context.Background()).Result()
				_ = n.Close()
				ok = ok && err == nil && strings.Contains(ni, "cluster_state:ok")
			}
			if ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster never got ready: %v %q", err, info)
		}
		<-time.After(50 * time.Millisecond)
	}
	return "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

func waitDial(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis node %s never listened: %v", addr, err)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// TestRedisCluster runs the bot on a 3-node Redis Cluster: a suggestion
// flow end to end, which touches the state, the dedup marks, the blocked
// mark and the update queue of the chat (one hash slot) and the index of
// queued chats (another).
func TestRedisCluster(t *testing.T) {
	h := newHarness(t)
	h.env["REDIS_URL"] = startRedisCluster(t)
	h.start()
	p := h.person(6501)
	expect(t, p.say("/start"), "خوش آمدید")
	p.toTopic()
	expect(t, p.press("محیط زیست"), "مرحله ۵ از ۹")
	const body = "سطل‌های زباله کنار پارک پر شده است"
	expect(t, p.say(body), "مرحله ۶ از ۹")
	p.say("رد کردن")
	p.press("رد کردن")
	expect(t, p.press("بی\u200cنام"), "خلاصهٔ «ارسال پیشنهاد»", body)
	got := p.press("تأیید و ارسال")
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	if code == "" {
		t.Fatalf("no tracking code:\n%s", dump(got))
	}
	if sg, err := h.openStore().SuggestionByCode(context.Background(), code); err != nil || sg.Text != body {
		t.Errorf("stored suggestion = %+v, %v", sg, err)
	}
}

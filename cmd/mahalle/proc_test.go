package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// The crash tests run the bot as a real process, built once per run of the
// test binary, so that kill -9 stops it the way a crash or the OOM killer
// would: no deferred call runs, no offset is confirmed on the way out.

// TestMain removes the bot binary the crash tests built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string // where the binary is built; removed by TestMain
	binPath   string
	buildErr  error
)

// botBinary returns the path of the bot binary, building it the first time
// (a plain `go build`, no -race: the race detector belongs to the test
// process, and the build stays fast).
func botBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "mahalle-crash-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mahalle")
		goCmd, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
		if err != nil {
			buildErr = fmt.Errorf("find the go command: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the bot: %v", buildErr)
	}
	return binPath
}

// proc is one run of the bot binary.
type proc struct {
	cmd    *exec.Cmd
	logs   *syncBuffer   // stdout and stderr
	exited chan struct{} // closed when the process has exited and been reaped
	err    error         // Wait's error; read only after exited is closed
}

// procEnv is the bot's whole environment: h.env and PATH and HOME, nothing
// else from the test process, so no stray variable changes what is tested.
func (h *harness) procEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range h.env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// spawn starts the bot binary with h's environment and waits until it polls
// the fake Bot API. It only returns errors, so any goroutine may call it;
// the process is killed when the test ends either way.
func (h *harness) spawn(bin string) (*proc, error) {
	before := h.srv.Calls("getUpdates")
	p := &proc{cmd: exec.Command(bin), logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = h.procEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.WaitDelay = time.Second // the pipes' copiers never outlive the process by long
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bot: %w", err)
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
			h.t.Logf("output of bot process %d (last 8 KiB):\n%s", p.cmd.Process.Pid, tail(p.logs.String(), 8<<10))
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	polled := make(chan error, 1)
	go func() { polled <- h.waitNewPoll(ctx, before) }()
	select {
	case err := <-polled:
		if err != nil {
			_ = p.kill9()
			return nil, fmt.Errorf("the bot never polled: %w\nits output:\n%s", err, p.logs.String())
		}
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("the bot exited before polling (%v)\nits output:\n%s", p.err, p.logs.String())
	}
}

// waitNewPoll waits until a getUpdates call beyond the first `before` has
// arrived and a long poll is being served. The process started last is the
// only one alive, so that is its poll (or, once in a while, its first call
// met the dying predecessor's poll as a 409 and it polls again shortly; the
// tests do not depend on that moment).
func (h *harness) waitNewPoll(ctx context.Context, before int) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for h.srv.Calls("getUpdates") <= before {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no getUpdates call: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return h.srv.WaitPolling(ctx)
}

// startProc is spawn for the test's own goroutine: it fails the test on error.
func (h *harness) startProc() *proc {
	h.t.Helper()
	p, err := h.spawn(botBinary(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// signalKill sends SIGKILL and returns at once; it is safe to call from the
// fake server's OnSend hook and more than once.
func (p *proc) signalKill() error {
	err := p.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// kill9 sends SIGKILL and waits until the process is gone.
func (p *proc) kill9() error {
	if err := p.signalKill(); err != nil {
		return fmt.Errorf("kill -9 %d: %w", p.cmd.Process.Pid, err)
	}
	return p.wait()
}

// wait waits until the process has exited (killed, or on its own).
func (p *proc) wait() error {
	select {
	case <-p.exited:
		return nil
	case <-time.After(waitTimeout):
		return fmt.Errorf("bot process %d did not exit", p.cmd.Process.Pid)
	}
}

// mustKill9 is kill9 for the test's own goroutine.
func (p *proc) mustKill9(t *testing.T) {
	t.Helper()
	if err := p.kill9(); err != nil {
		t.Fatal(err)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

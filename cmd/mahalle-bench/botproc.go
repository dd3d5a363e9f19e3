package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// moduleRoot is the directory of the go.mod that holds the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the mahalle module: run from its folder, or give -bin")
	}
	return filepath.Dir(mod), nil
}

// goTool is the go command: the one on PATH, else the one beside GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// buildBot compiles ./cmd/mahalle of the module at root into dir.
func buildBot(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "mahalle")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/mahalle")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/mahalle: %w\n%s", err, out)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the bot listens; the bot then fails to start, loudly.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// passThrough are the runtime settings of the bench's environment handed on
// to the bot; nothing else of the environment is (a BALE_TOKEN there would
// make the bot call Bale).
var passThrough = []string{"GOGC", "GOMAXPROCS", "GOMEMLIMIT", "GODEBUG"}

// botEnv is the bot's whole environment.
func botEnv(vars map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range passThrough {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// tuning names the runtime settings passed to the bot, for the report.
func tuning() string {
	var s []string
	for _, k := range passThrough {
		if v, ok := os.LookupEnv(k); ok {
			s = append(s, k+"="+v)
		}
	}
	if len(s) == 0 {
		return "defaults"
	}
	return strings.Join(s, " ")
}

// seedBot runs `mahalle seed` with env: the database is migrated and the
// reference data loaded before the bot starts.
func seedBot(ctx context.Context, bin string, env []string) error {
	cmd := exec.CommandContext(ctx, bin, "seed", "--demo") // the residents walk to the demo places
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mahalle seed: %w\n%s", err, out)
	}
	return nil
}

// botProc is the bot running as a subprocess.
type botProc struct {
	cmd  *exec.Cmd
	logs *tail
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

func startBot(bin string, env []string) (*botProc, error) {
	p := &botProc{logs: &tail{max: 64 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bot: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *botProc) pid() int { return p.cmd.Process.Pid }

// waitReady waits until ready returns nil, the bot exits, or ctx ends.
func (p *botProc) waitReady(ctx context.Context, ready func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- ready(ctx) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("the bot did not start: %w\nits output:\n%s", err, p.logs.String())
		}
		return nil
	case <-p.done:
		return fmt.Errorf("the bot exited at start (%v); its output:\n%s", p.err, p.logs.String())
	}
}

// waitHTTP polls url until it answers 200 or ctx ends.
func waitHTTP(ctx context.Context, url string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", url, ctx.Err())
		}
	}
}

// stop sends SIGTERM, as an operator would, and waits; after the grace it
// kills. It returns the exit error of a bot that did not stop cleanly.
func (p *botProc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exitErr()
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("the bot did not stop within %s of SIGTERM and was killed", grace)
	}
}

func (p *botProc) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("the bot exited: %w", p.err)
	}
	return nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lines counts the lines written so far that are still kept.
func (t *tail) lines() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Count(string(t.b), "\n")
}

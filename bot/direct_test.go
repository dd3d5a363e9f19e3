package bot

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// postTo makes one hot-path-like POST (a body that can be read again) with c.
func postTo(ctx context.Context, c *http.Client, url, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// countingServer answers every request with its body and counts the
// connections it accepted.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestDirectTransportReusesConnections: sequential calls share one
// connection, and each gets its own answer.
func TestDirectTransportReusesConnections(t *testing.T) {
	srv, conns := countingServer(t)
	c := &http.Client{Transport: newDirectTransport(newTransport())}
	defer c.CloseIdleConnections()
	for i := range 50 {
		body := strings.Repeat("x", i*500) // up to 24 KB: past one buffer
		got, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", body)
		if err != nil || got != body {
			t.Fatalf("call %d: %d bytes, %v; want its own %d bytes back", i, len(got), err, len(body))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 50 sequential calls, want 1", n)
	}
}

// writeCounter counts the writes on a connection: the system calls a
// request costs.
type writeCounter struct {
	net.Conn
	writes *atomic.Int32
}

func (w writeCounter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return w.Conn.Write(p)
}

// TestDirectTransportOneWritePerCall: a call of the hot path (head and a
// body of a few KB) is written with one system call, not one for the head
// and one for the body.
func TestDirectTransportOneWritePerCall(t *testing.T) {
	srv, _ := countingServer(t)
	tr := newDirectTransport(newTransport())
	writes := countWrites(tr)
	c := &http.Client{Transport: tr}
	defer c.CloseIdleConnections()
	body := "chat_id=1&text=" + strings.Repeat("%D8%A7", 600) // 300 Persian letters, form-escaped
	for range 10 {
		// A body of its own type, as the hot path's pooled one: net/http
		// writes the head of such a request apart.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/botT/sendMessage", nil)
		req.Body = io.NopCloser(struct{ io.Reader }{strings.NewReader(body)})
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != body {
			t.Fatalf("call = %d bytes, %v", len(got), err)
		}
	}
	if n := writes.Load(); n != 10 {
		t.Errorf("%d writes for 10 calls, want 10", n)
	}
}

// TestDirectTransportDropsClosedConnection: a kept connection the server
// closed while it was idle is not used; the call goes on a new one and
// succeeds at the first attempt.
func TestDirectTransportDropsClosedConnection(t *testing.T) {
	srv, conns := countingServer(t)
	tr := newDirectTransport(newTransport())
	c := &http.Client{Transport: tr}
	defer c.CloseIdleConnections()
	if _, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", "a"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	// The close reaches the client's socket on its own time: a read of the
	// kept connection returns at its end of file once it has.
	kept := idleConns(tr)[0]
	kept.raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := kept.raw.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read of the connection the server closed = %d, %v; want its end", n, err)
	}
	kept.raw.SetReadDeadline(time.Time{})
	got, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", "b")
	if err != nil || got != "b" {
		t.Fatalf("call after the server closed the idle connection = %q, %v; want b", got, err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the closed one replaced)", n)
	}
}

// idleConns returns the connections tr keeps idle.
func idleConns(tr *directTransport) []*directConn {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []*directConn
	for _, list := range tr.idle {
		out = append(out, list...)
	}
	return out
}

// TestDirectTransportCancel: cancelling a call whose server never answers
// returns at once with the context's error, and the connection is not kept.
func TestDirectTransportCancel(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	tr := newDirectTransport(newTransport())
	c := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := postTo(ctx, c, srv.URL+"/botT/sendMessage", "a")
		errc <- err
	}()
	<-entered // the request is written and its answer awaited
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call = %v, want context.Canceled", err)
	}
	if n := len(idleConns(tr)); n > 0 {
		t.Errorf("%d connections kept after a cancelled call", n)
	}
}

// TestDirectTransportLeavesOthersToNetHTTP: a request the direct path does
// not carry (a GET, a body of unknown length, a proxy from the environment)
// goes through net/http.
func TestDirectTransportLeavesOthersToNetHTTP(t *testing.T) {
	tr := newDirectTransport(newTransport())
	post := func(body io.Reader) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/botT/sendMessage", body)
		return r
	}
	if !tr.serves(post(strings.NewReader("a"))) {
		t.Error("a POST with a body that can be read again is not served directly")
	}
	get, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/botT/getMe", nil)
	unknown := post(io.NopCloser(strings.NewReader("a"))) // no GetBody: an upload
	for name, r := range map[string]*http.Request{"GET": get, "unknown length": unknown} {
		if tr.serves(r) {
			t.Errorf("%s is served directly, want net/http", name)
		}
	}
	tr.fallback.Proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy.example:3128") }
	if tr.serves(post(strings.NewReader("a"))) {
		t.Error("a request to go through a proxy is served directly")
	}
}

// TestDirectTransportClosesStaleIdle: connections left idle past the idle
// timeout at the start of the list are closed when another goes back.
func TestDirectTransportClosesStaleIdle(t *testing.T) {
	// The server answers once three calls are in: three connections.
	var conns atomic.Int32
	var arrived sync.WaitGroup
	arrived.Add(3)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Wait") != "" {
			arrived.Done()
			arrived.Wait()
		}
		io.Copy(w, r.Body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := newDirectTransport(newTransport())
	c := &http.Client{Transport: tr}
	defer c.CloseIdleConnections()
	// Three calls at once leave three idle connections.
	errc := make(chan error, 3)
	for range 3 {
		go func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/botT/sendMessage", strings.NewReader("a"))
			req.Header.Set("X-Wait", "1")
			resp, err := c.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errc <- err
		}()
	}
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	kept := len(idleConns(tr))
	if kept != 3 || conns.Load() != 3 {
		t.Fatalf("%d idle connections, %d opened; want 3 and 3", kept, conns.Load())
	}
	// One host: the pool's order, the last used next.
	idle := idleConns(tr)
	for _, dc := range idle[:len(idle)-1] {
		dc.idleFrom = time.Now().Add(-2 * tr.idleTimeout)
	}
	if _, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", "b"); err != nil {
		t.Fatal(err)
	}
	if n := len(idleConns(tr)); n != 1 {
		t.Errorf("%d idle connections after the others' timeout, want 1 (the one just used)", n)
	}
	if n := conns.Load(); n != int32(kept) {
		t.Errorf("%d connections opened, want %d (the fresh one reused)", n, kept)
	}
}

// TestDirectTransportInformationalAnswers: a 1xx answer before the real
// one (103 Early Hints) is passed over; each call gets its own answer.
func TestDirectTransportInformationalAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Write(b)
	}))
	defer srv.Close()
	c := &http.Client{Transport: newDirectTransport(newTransport())}
	defer c.CloseIdleConnections()
	for _, body := range []string{"first", "second", "third"} {
		if got, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", body); err != nil || got != body {
			t.Errorf("call %q = %q, %v; want its own answer", body, got, err)
		}
	}
}

// TestDirectTransportConnectionClose: an answer that closes its connection
// does not leave it in the pool.
func TestDirectTransportConnectionClose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	tr := newDirectTransport(newTransport())
	c := &http.Client{Transport: tr}
	for _, body := range []string{"a", "b"} {
		if got, err := postTo(t.Context(), c, srv.URL+"/botT/sendMessage", body); err != nil || got != body {
			t.Fatalf("call %q = %q, %v", body, got, err)
		}
	}
	if n := len(idleConns(tr)); n > 0 {
		t.Errorf("%d connections kept after answers that closed them", n)
	}
}

// closeCounter is a body that counts its closes.
type closeCounter struct {
	io.Reader
	closes *atomic.Int32
}

func (c closeCounter) Close() error {
	c.closes.Add(1)
	return nil
}

// TestDirectTransportDialFailure: a call that cannot connect reports a dial
// error (the client then knows nothing was sent) and closes its body, which
// gives the hot path's pooled buffer back.
func TestDirectTransportDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var closes atomic.Int32
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/botT/sendMessage", nil)
	req.Body = closeCounter{Reader: strings.NewReader("a"), closes: &closes}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("a")), nil }
	req.ContentLength = 1
	_, err = newDirectTransport(newTransport()).RoundTrip(req)
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("RoundTrip to a closed port = %v, want a dial *net.OpError", err)
	}
	if outcomeUnknown(err) {
		t.Error("a call that could not connect counts as maybe sent")
	}
	if n := closes.Load(); n != 1 {
		t.Errorf("body closed %d times, want once", n)
	}
}

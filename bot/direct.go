package bot

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// directTransport carries the hot path's calls (a POST whose body can be
// read again) on kept-alive HTTP/1.1 connections that the calling goroutine
// writes and reads itself. net/http's Transport hands every request to a
// writer and a reader goroutine of the connection: two wake-ups per call,
// which cost the bot more CPU than the call's own work. Every other request
// (uploads, a proxy from the environment, other methods) goes to fallback.
//
// A kept connection is checked (one non-blocking peek) before it is used
// again: one that the server closed meanwhile is dropped instead of carrying
// a request whose outcome would then be unknown. (net/http learns of such a
// close from the reader goroutine it keeps on every idle connection.)
type directTransport struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	tls         *tls.Config // nil: the system's roots, the URL's host
	fallback    *http.Transport
	maxIdle     int           // idle connections kept per host
	idleTimeout time.Duration // an idle connection older than this is closed

	mu   sync.Mutex
	idle map[string][]*directConn // by scheme://host:port

	// noPipeline is set once a pipelined pair lost its second answer
	// after the first came: a server (or a box on the way) that does not
	// answer pipelined requests gets one request at a time from then on.
	noPipeline atomic.Bool
}

// directConn is one kept-alive connection.
type directConn struct {
	conn     net.Conn // what is written and read (TLS over raw for https)
	raw      net.Conn // the TCP connection
	br       *bufio.Reader
	bw       *bufio.Writer
	key      string
	idleFrom time.Time // when it last went idle
	// rc and peek look at the socket for stillOpen; made once, since
	// SyscallConn and the closure were an allocation each per call.
	rc   syscall.RawConn // nil: the connection has no socket to look at
	peek func(fd uintptr) bool
	open bool    // what peek found
	one  [1]byte // what peek reads into
}

// directBufSize is the size of a connection's read and write buffers: a
// request of the hot path is written in one system call, an answer read in one.
const directBufSize = 16 << 10

func newDirectTransport(fallback *http.Transport) *directTransport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	var cfg *tls.Config
	if fallback.TLSClientConfig != nil {
		cfg = fallback.TLSClientConfig.Clone() // now: net/http changes its own at its first use
	}
	return &directTransport{
		dial:        d.DialContext,
		tls:         cfg,
		fallback:    fallback,
		maxIdle:     fallback.MaxIdleConnsPerHost,
		idleTimeout: fallback.IdleConnTimeout,
		idle:        map[string][]*directConn{},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.serves(req) {
		return t.fallback.RoundTrip(req)
	}
	c, err := t.get(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, sent or not
		}
		return nil, err
	}
	return c.roundTrip(t, req)
}

// serves reports whether req is one the direct path carries.
func (t *directTransport) serves(req *http.Request) bool {
	if req.Method != http.MethodPost || req.GetBody == nil ||
		(req.ContentLength <= 0 && req.Body != nil && req.Body != http.NoBody) || // length unknown
		(req.URL.Scheme != "http" && req.URL.Scheme != "https") ||
		strings.ContainsAny(req.Host, " \r\n%") || strings.ContainsAny(req.URL.Host, " \r\n%") {
		return false
	}
	if t.fallback.Proxy != nil {
		if p, err := t.fallback.Proxy(req); err != nil || p != nil {
			return false
		}
	}
	return true
}

// hostPort is req's host with its port, the default of the scheme if none.
func hostPort(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// get returns an idle connection to req's host that is still open, or dials
// a new one.
func (t *directTransport) get(req *http.Request) (*directConn, error) {
	addr := hostPort(req)
	key := req.URL.Scheme + "://" + addr
	now := time.Now()
	for {
		t.mu.Lock()
		list := t.idle[key]
		var c *directConn
		if n := len(list); n > 0 {
			c = list[n-1]
			list[n-1] = nil
			t.idle[key] = list[:n-1]
		}
		t.mu.Unlock()
		if c == nil {
			break
		}
		if now.Sub(c.idleFrom) >= t.idleTimeout || !c.stillOpen() {
			c.conn.Close()
			continue
		}
		return c, nil
	}
	ctx := req.Context()
	raw, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &directConn{conn: raw, raw: raw, key: key}
	if sc, ok := raw.(syscall.Conn); ok {
		if c.rc, err = sc.SyscallConn(); err != nil {
			raw.Close()
			return nil, err
		}
		c.peek = func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), c.one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			c.open = n < 0 && (errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK))
			return true
		}
	}
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{}
		if t.tls != nil {
			cfg = t.tls.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: raw.RemoteAddr(), Err: err}
		}
		c.conn = tc
	}
	c.br = bufio.NewReaderSize(c.conn, directBufSize)
	c.bw = bufio.NewWriterSize(c.conn, directBufSize)
	return c, nil
}

// stillOpen reports whether the server has neither closed c nor sent on it
// while it was idle, with one non-blocking peek at the socket.
func (c *directConn) stillOpen() bool {
	if c.br.Buffered() > 0 {
		return false // bytes nobody asked for
	}
	if c.rc == nil {
		return true
	}
	c.open = false
	return c.rc.Read(c.peek) == nil && c.open
}

// put keeps c for the next request, or closes it when enough are kept. The
// list is used from its end, so its start holds the longest idle: those
// idle past idleTimeout are closed here.
func (t *directTransport) put(c *directConn) {
	now := time.Now()
	c.idleFrom = now
	key := c.key
	var stale []*directConn
	t.mu.Lock()
	list := t.idle[key]
	n := 0
	for n < len(list) && now.Sub(list[n].idleFrom) >= t.idleTimeout {
		n++
	}
	if n > 0 {
		stale = append(stale, list[:n]...)
		list = append(list[:0], list[n:]...)
	}
	if len(list) < t.maxIdle {
		list = append(list, c)
		c = nil
	}
	t.idle[key] = list
	t.mu.Unlock()
	if c != nil {
		stale = append(stale, c)
	}
	for _, s := range stale {
		s.conn.Close()
	}
}

// CloseIdleConnections closes the connections kept idle (http.Client calls
// it from its own CloseIdleConnections).
func (t *directTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*directConn{}
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.conn.Close()
		}
	}
	t.fallback.CloseIdleConnections()
}

// roundTrip writes req on c and reads the answer's head; the body is read by
// the caller, and c goes back to t once it has been read to its end.
func (c *directConn) roundTrip(t *directTransport, req *http.Request) (*http.Response, error) {
	stop, cut := c.watch(req.Context())
	fail := func(err error) (*http.Response, error) { return nil, cut(err) }
	if err := c.write(req, true); err != nil {
		return fail(err)
	}
	resp, err := c.readHead(req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &directBody{rc: resp.Body, c: c, t: t, stop: stop, keep: !resp.Close}
	return resp, nil
}

// watch puts ctx's deadline on c, and makes cancelling ctx unblock a read
// or write at once (the connection is then not reused) until stop. cut
// gives c up after a failure, and returns ctx's error when ctx ended, else
// err.
func (c *directConn) watch(ctx context.Context) (stop func() bool, cut func(err error) error) {
	if d, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(d)
	} else {
		c.conn.SetDeadline(time.Time{})
	}
	stop = context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	cut = func(err error) error {
		stop()
		c.conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return stop, cut
}

// readHead reads the head of req's answer; its body is left to read.
func (c *directConn) readHead(req *http.Request) (*http.Response, error) {
	resp, err := readResponseHead(c.br, req)
	// An informational answer (100 Continue, 103 Early Hints) comes before
	// the real one, on the same connection.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = readResponseHead(c.br, req)
	}
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		err = errors.New("bot: unexpected 101 Switching Protocols")
	}
	return resp, err
}

// errPairCut is the second call's error when the first answer of a pair
// ended the connection: it was sent, and may or may not have been done.
var errPairCut = errors.New("bot: the connection ended after the first of two pipelined calls")

// pipelines reports whether roundTripPair may be used.
func (t *directTransport) pipelines() bool { return !t.noPipeline.Load() }

// roundTripPair writes a and b (both served, to one host, under one
// context) on one connection with one system call, HTTP/1.1 pipelining,
// and reads their answers in order, each handed to read, which reads its
// body. errA and errB are those of each call: a transport error, or what
// read returned.
func (t *directTransport) roundTripPair(a, b *http.Request, read func(*http.Response) (answer, error)) (ansA answer, errA error, ansB answer, errB error) {
	both := func(err error) (answer, error, answer, error) { return answer{}, err, answer{}, err }
	c, err := t.get(a)
	if err != nil {
		a.Body.Close()
		b.Body.Close()
		return both(err)
	}
	ctx := a.Context()
	stop, cut := c.watch(ctx)
	if err := c.write(a, false); err != nil {
		b.Body.Close()
		return both(cut(err))
	}
	if err := c.write(b, true); err != nil {
		return both(cut(err))
	}
	respA, err := c.readHead(a)
	if err != nil {
		return both(cut(err))
	}
	ansA, errA = read(respA)
	if !readToEnd(respA) || respA.Close {
		return ansA, errA, answer{}, cut(errPairCut)
	}
	respB, err := c.readHead(b)
	if err != nil {
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.noPipeline.Store(true) // the first was answered, the second never, or garbled
		}
		return ansA, errA, answer{}, cut(err)
	}
	ansB, errB = read(respB)
	if !readToEnd(respB) || respB.Close || !stop() || c.br.Buffered() != 0 {
		stop()
		c.conn.Close()
		return ansA, errA, ansB, errB
	}
	c.conn.SetDeadline(time.Time{})
	t.put(c)
	return ansA, errA, ansB, errB
}

// readToEnd reports whether resp's body was read to its end (and closes it).
func readToEnd(resp *http.Response) bool {
	var one [1]byte
	n, err := resp.Body.Read(one[:])
	resp.Body.Close()
	return n == 0 && err == io.EOF
}

// write writes req, head and body, with one system call when it fits the
// buffer (flush false leaves it in the buffer, for the next request to go
// with it). Request.Write would flush the head on its own first whenever the
// body is not one of net/http's in-memory readers (ours is pooled): two
// system calls, and two TCP segments, for every call.
func (c *directConn) write(req *http.Request, flush bool) error {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	defer body.Close()
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	b := c.bw.AvailableBuffer()
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: "...)
	b = strconv.AppendInt(b, req.ContentLength, 10)
	b = append(b, "\r\n"...)
	for k, vs := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Connection", "Transfer-Encoding":
			continue // written above, or not ours to send
		}
		for _, v := range vs {
			if strings.ContainsAny(k, "\r\n:") || strings.ContainsAny(v, "\r\n") {
				return fmt.Errorf("bot: header %q is not one line", k)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	if n, err := io.CopyN(c.bw, body, req.ContentLength); err != nil {
		return fmt.Errorf("bot: request body: %d of %d bytes: %w", n, req.ContentLength, err)
	}
	if !flush {
		return nil
	}
	return c.bw.Flush()
}

// directBody is an answer's body; reading it to the end frees its connection.
type directBody struct {
	rc   io.ReadCloser
	c    *directConn
	t    *directTransport
	stop func() bool
	keep bool // the server keeps the connection open
	done bool
}

func (b *directBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *directBody) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

// finish releases the connection: back to the pool when the body was read
// to its end in time and the server keeps it, else closed.
func (b *directBody) finish(atEOF bool) {
	b.done = true
	if atEOF && b.stop() && b.keep && b.c.br.Buffered() == 0 {
		b.rc.Close()
		b.c.conn.SetDeadline(time.Time{})
		b.t.put(b.c)
		return
	}
	b.stop()
	// Closed first: closing the body of an answer not read to its end
	// would read the rest of it.
	b.c.conn.Close()
	b.rc.Close()
}

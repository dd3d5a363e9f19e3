package bot

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestReadResponseHeadAgreesWithNetHTTP reads answers, each followed on the
// same connection by a second one, with readResponseHead and with net/http's
// ReadResponse: the status, the body's length, its bytes, whether the
// connection stays open and where the next answer starts must agree, and an
// answer net/http refuses is refused.
func TestReadResponseHeadAgreesWithNetHTTP(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
	for _, c := range []struct {
		name, raw string
		refused   bool
	}{
		{name: "length", raw: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"},
		{name: "lower-case names, spaces", raw: "HTTP/1.1 200 OK\r\ncontent-length:  2 \r\n\r\nhi"},
		{name: "bare LF", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi"},
		{name: "no reason", raw: "HTTP/1.1 204\r\n\r\n"},
		{name: "429", raw: "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}"},
		{name: "empty body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{name: "chunked with a trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Sum: 1\r\n\r\n"},
		{name: "chunked over a length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"},
		{name: "connection close", raw: "HTTP/1.1 500 Internal Server Error\r\nConnection: Close\r\nContent-Length: 3\r\n\r\nbad"},
		{name: "1.0 kept alive", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"},
		{name: "1.0 closed", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		{name: "same length twice", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
		{name: "informational", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"},
		{name: "two lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", refused: true},
		{name: "bad length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok", refused: true},
		{name: "folded line", raw: "HTTP/1.1 200 OK\r\n X: y\r\nContent-Length: 2\r\n\r\nok", refused: true},
		{name: "not HTTP", raw: "SSH-2.0-OpenSSH\r\n\r\n", refused: true},
		{name: "short status", raw: "HTTP/1.1 20 OK\r\n\r\n", refused: true},
		{name: "cut head", raw: "HTTP/1.1 200 OK\r\nContent-Le", refused: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "http://api.example/botT/sendMessage", nil)
			raw := c.raw
			if !c.refused {
				raw += next
			}
			want, wantErr := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), req)
			br := bufio.NewReader(strings.NewReader(raw))
			got, err := readResponseHead(br, req)
			if c.refused {
				if wantErr == nil {
					t.Fatalf("net/http takes %q: the case is wrong", c.raw)
				}
				if err == nil {
					t.Fatalf("took %q, which net/http refuses (%v)", c.raw, wantErr)
				}
				return
			}
			if wantErr != nil || err != nil {
				t.Fatalf("net/http: %v; readResponseHead: %v", wantErr, err)
			}
			if got.StatusCode != want.StatusCode || got.Status != want.Status || got.ProtoMinor != want.ProtoMinor || got.Close != want.Close ||
				got.ContentLength != want.ContentLength {
				t.Errorf("head: status %q (%d) 1.%d close %v length %d; net/http: %q (%d) 1.%d close %v length %d",
					got.Status, got.StatusCode, got.ProtoMinor, got.Close, got.ContentLength,
					want.Status, want.StatusCode, want.ProtoMinor, want.Close, want.ContentLength)
			}
			body, err := io.ReadAll(got.Body)
			wantBody, _ := io.ReadAll(want.Body)
			if err != nil || string(body) != string(wantBody) {
				t.Errorf("body %q, %v; net/http: %q", body, err, wantBody)
			}
			if got.Close {
				return // nothing is read after an answer that ends its connection
			}
			after, err := readResponseHead(br, req)
			if err != nil {
				t.Fatalf("the next answer: %v", err)
			}
			if b, _ := io.ReadAll(after.Body); string(b) != "next" {
				t.Errorf("the next answer's body is %q, want %q: the first was not read to its end", b, "next")
			}
		})
	}
}

// A body cut short of its Content-Length is an error, as net/http says,
// not a short answer taken for whole.
func TestReadResponseHeadCutBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://api.example/botT/sendMessage", nil)
	resp, err := readResponseHead(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"ok\"")), req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != io.ErrUnexpectedEOF || string(b) != `{"ok"` {
		t.Errorf("a cut body read %q, %v; want %q and io.ErrUnexpectedEOF", b, err, `{"ok"`)
	}
}

package bot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
)

// readResponseHead reads the head of one HTTP/1.x answer to req from br and
// gives it a body that reads the rest of that answer from br. It reads what
// the transport needs (the status, the framing of the body, whether the
// connection stays open) and keeps no header map: net/http's ReadResponse
// builds one, with a canonical key and a string for every line, on every
// call of the hot path, and nothing on that path reads it. Header is
// therefore empty.
func readResponseHead(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	line, err := headLine(br)
	if err != nil {
		return nil, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || (line[7] != '0' && line[7] != '1') ||
		line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return nil, fmt.Errorf("bot: malformed status line %q", line)
	}
	code, ok := digits(line[9:12])
	if !ok || code < 100 {
		return nil, fmt.Errorf("bot: malformed status line %q", line)
	}
	resp := &http.Response{StatusCode: int(code), ProtoMajor: 1, ProtoMinor: int(line[7] - '0'),
		Header: http.Header{}, Request: req, ContentLength: -1}
	if resp.ProtoMinor == 1 {
		resp.Proto = "HTTP/1.1"
	} else {
		resp.Proto = "HTTP/1.0"
	}
	if string(line[9:]) == "200 OK" {
		resp.Status = "200 OK" // the constant: no string built for the usual answer
	} else {
		resp.Status = string(line[9:])
	}
	keepAlive, chunked := resp.ProtoMinor == 1, false
	for {
		line, err := fieldLine(br)
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(key) == 0 || line[0] == ' ' || line[0] == '\t' || bytes.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("bot: malformed header line %q", line) // folded lines are obsolete (RFC 9112 §5.2)
		}
		value = bytes.Trim(value, " \t")
		switch {
		case asciiFold(key, "Content-Length"):
			n, ok := digits(value)
			if !ok || (resp.ContentLength >= 0 && n != resp.ContentLength) {
				return nil, fmt.Errorf("bot: bad Content-Length %q", value)
			}
			resp.ContentLength = n
		case asciiFold(key, "Transfer-Encoding"):
			if !asciiFold(value, "chunked") || chunked {
				return nil, fmt.Errorf("bot: unsupported Transfer-Encoding %q", value)
			}
			chunked = true
		case asciiFold(key, "Connection"):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.Trim(tok, " \t")
				if asciiFold(tok, "close") {
					resp.Close = true
				} else if asciiFold(tok, "keep-alive") {
					keepAlive = true
				}
			}
		}
	}
	resp.Close = resp.Close || !keepAlive
	switch {
	case code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || req.Method == http.MethodHead:
		resp.Body, resp.ContentLength = http.NoBody, 0
	case chunked:
		// Chunked framing wins over a Content-Length (RFC 9112 §6.3).
		resp.ContentLength, resp.TransferEncoding = -1, []string{"chunked"}
		resp.Body = &chunkedBody{br: br, r: httputil.NewChunkedReader(br)}
	case resp.ContentLength >= 0:
		resp.Body = &fixedBody{br: br, left: resp.ContentLength}
	default:
		// Neither a length nor chunks: the body ends when the server closes.
		resp.Close = true
		resp.Body = io.NopCloser(br)
	}
	return resp, nil
}

// headLine is the next line of a head without its CRLF (or bare LF).
func headLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errors.New("bot: answer head line too long")
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// fieldLine is headLine past a head's first line: there the connection
// ending is an answer cut short.
func fieldLine(br *bufio.Reader) ([]byte, error) {
	line, err := headLine(br)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return line, err
}

// digits is the decimal number b spells, without sign or spaces (and
// small enough for an int64).
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// asciiFold reports whether b is s, ignoring ASCII case.
func asciiFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// chunkedBody is a chunked answer's body: after the last chunk it reads
// the trailer section too, so that the connection is left at the next
// answer.
type chunkedBody struct {
	br  *bufio.Reader
	r   io.Reader
	eof bool
}

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		for {
			line, lerr := fieldLine(b.br)
			if lerr != nil {
				return n, lerr
			}
			if len(line) == 0 {
				break
			}
		}
		b.eof = true
	}
	return n, err
}

func (b *chunkedBody) Close() error { return nil }

// fixedBody is a body of Content-Length bytes (io.LimitReader and
// io.NopCloser in one allocation instead of two).
type fixedBody struct {
	br   *bufio.Reader
	left int64
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *fixedBody) Close() error { return nil }

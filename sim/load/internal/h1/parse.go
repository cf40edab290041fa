package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits of an answer's head.
const (
	// MaxHead bounds an answer's status line and headers together (each
	// 1xx answer's too), and a chunked body's trailers.
	MaxHead = 64 << 10
	// maxChunkLine bounds a chunk-size line with its extensions.
	maxChunkLine = 4 << 10
)

// ErrHeadTooLarge is wrapped by the error of an answer whose head is
// larger than MaxHead.
var ErrHeadTooLarge = errors.New("answer head larger than 64 KiB")

// ErrMalformed is wrapped by the error of an answer that is not HTTP/1.x.
var ErrMalformed = errors.New("malformed answer")

// The errors of a line past its bound, made once: they are returned
// from the hot path's checks.
var (
	errHeadTooLong     = fmt.Errorf("%w: status line and headers", ErrHeadTooLarge)
	errTrailersTooLong = fmt.Errorf("%w: trailers", ErrHeadTooLarge)
	errChunkLine       = fmt.Errorf("%w: chunk-size line longer than 4 KiB", ErrMalformed)
	errChunkCRLF       = fmt.Errorf("%w: no CRLF after a chunk", ErrMalformed)
)

// A parser reads answers from br; it keeps its line buffer between them.
type parser struct {
	br   *bufio.Reader
	keep []byte
	line []byte
	// Of the last answer read:
	close bool
}

// readLine returns the next line without its CRLF or LF, charging its
// length to *budget. The line is valid until the next read. It returns
// io.EOF when nothing was read, io.ErrUnexpectedEOF when a line was cut.
func (p *parser) readLine(budget *int, tooLong error) ([]byte, error) {
	p.line = p.line[:0]
	for {
		frag, err := p.br.ReadSlice('\n')
		if len(p.line)+len(frag) > *budget {
			return nil, tooLong
		}
		switch {
		case err == nil:
			line := frag
			if len(p.line) > 0 {
				p.line = append(p.line, frag...)
				line = p.line
			}
			*budget -= len(line)
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			p.line = append(p.line, frag...)
		case errors.Is(err, io.EOF):
			if len(p.line) == 0 && len(frag) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// read reads one answer to a request with method into resp: its final
// status (skipping 1xx answers) and its body, the first len(p.keep)
// bytes copied into p.keep. p.close says whether the connection must be
// closed after it.
func (p *parser) read(method string, resp *Response) error {
	p.close = false
	var (
		minor   int
		length  int64
		chunked bool
	)
	for {
		budget := MaxHead
		tooLong := errHeadTooLong
		line, err := p.readLine(&budget, tooLong)
		if err != nil {
			return err
		}
		status, mn, err := parseStatusLine(line)
		if err != nil {
			return err
		}
		resp.Status, minor = status, mn
		length, chunked, err = p.readHeaders(&budget, tooLong, minor)
		if err != nil {
			return err
		}
		if status == 101 {
			p.close = true
			return fmt.Errorf("%w: 101 Switching Protocols to a request that asked for no upgrade", ErrMalformed)
		}
		if status >= 200 {
			break
		}
		// 1xx: an interim answer; the final one follows.
	}
	switch {
	case method == "HEAD", resp.Status == 204, resp.Status == 304:
		return nil
	case chunked:
		return p.readChunked(resp)
	case length >= 0:
		return p.body(length, resp)
	}
	p.close = true
	return p.body(-1, resp)
}

// parseStatusLine parses "HTTP/1.x SSS[ reason]".
func parseStatusLine(line []byte) (status, minor int, err error) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, 0, fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
	}
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return 0, 0, fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
		}
		status = status*10 + int(b-'0')
	}
	if status < 100 {
		return 0, 0, fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
	}
	return status, int(line[7] - '0'), nil
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// readHeaders reads header lines up to the empty line, keeping what
// framing needs: the Content-Length (-1 when absent), whether the body is
// chunked, and whether the connection closes after it (p.close).
func (p *parser) readHeaders(budget *int, tooLong error, minor int) (length int64, chunked bool, err error) {
	length = -1
	keepAlive := false
	for {
		line, err := p.readLine(budget, tooLong)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validName(string(line[:colon])) {
			return 0, false, fmt.Errorf("%w: header line %q", ErrMalformed, clip(line))
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || (length >= 0 && n != length) {
				return 0, false, fmt.Errorf("%w: Content-Length %q", ErrMalformed, clip(value))
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, false, fmt.Errorf("%w: unsupported Transfer-Encoding %q", ErrMalformed, clip(value))
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.Trim(tok, " \t")
				if bytes.EqualFold(tok, []byte("close")) {
					p.close = true
				} else if bytes.EqualFold(tok, []byte("keep-alive")) {
					keepAlive = true
				}
			}
		}
	}
	if minor == 0 && !keepAlive {
		p.close = true
	}
	if chunked {
		length = -1
	}
	return length, chunked, nil
}

// parseLength parses a Content-Length: decimal digits, at most 18.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}

// body reads n bytes of body (to EOF when n < 0), keeping the first ones
// in p.keep and counting all in resp.BodyLen.
func (p *parser) body(n int64, resp *Response) error {
	for n != 0 {
		if _, err := p.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				if n < 0 {
					return nil
				}
				return io.ErrUnexpectedEOF
			}
			return err
		}
		avail := int64(p.br.Buffered())
		if n > 0 {
			avail = min(avail, n)
		}
		if resp.Kept < len(p.keep) {
			c, _ := p.br.Read(p.keep[resp.Kept:min(int64(len(p.keep)), int64(resp.Kept)+avail)])
			resp.Kept += c
			resp.BodyLen += int64(c)
			avail -= int64(c)
			if n > 0 {
				n -= int64(c)
			}
		}
		if avail > 0 {
			d, _ := p.br.Discard(int(avail))
			resp.BodyLen += int64(d)
			if n > 0 {
				n -= int64(d)
			}
		}
	}
	return nil
}

// readChunked reads a chunked body and its trailers.
func (p *parser) readChunked(resp *Response) error {
	for {
		budget := maxChunkLine
		line, err := p.readLine(&budget, errChunkLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(bytes.Trim(line, " \t"))
		if !ok {
			return fmt.Errorf("%w: chunk size %q", ErrMalformed, clip(line))
		}
		if size == 0 {
			break
		}
		if err := p.body(size, resp); err != nil {
			return err
		}
		budget = 2
		crlf, err := p.readLine(&budget, errChunkCRLF)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(crlf) != 0 {
			return errChunkCRLF
		}
	}
	budget := MaxHead
	for {
		line, err := p.readLine(&budget, errTrailersTooLong)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// parseHex parses a chunk size: hex digits, at most 15 (below 2^60).
func parseHex(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		var d byte
		switch {
		case '0' <= b && b <= '9':
			d = b - '0'
		case 'a' <= b && b <= 'f':
			d = b - 'a' + 10
		case 'A' <= b && b <= 'F':
			d = b - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

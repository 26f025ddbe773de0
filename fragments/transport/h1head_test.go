package transport

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// readWhole reads one answer from in as the lean client does: its head,
// then its body to the end.
func readWhole(in string) (h1Head, string, *bufio.Reader, error) {
	br := bufio.NewReaderSize(strings.NewReader(in), 64)
	h, err := readHead(br)
	if err != nil {
		return h, "", br, err
	}
	body, err := io.ReadAll(h.body(br))
	return h, string(body), br, err
}

var headCases = []struct {
	name    string
	in      string
	status  int
	header  http.Header
	length  int64
	chunked bool
	close   bool
	body    string
	rest    string // what stays unread after the answer
	err     string // the error's text holds this; empty for none
}{
	{name: "content length", in: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
		status: 200, header: http.Header{"Content-Type": {"text/html"}, "Content-Length": {"5"}}, length: 5, body: "hello"},
	{name: "keeps what follows", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1",
		status: 200, header: http.Header{"Content-Length": {"2"}}, length: 2, body: "ok", rest: "HTTP/1.1"},
	{name: "bare line feeds", in: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		status: 200, header: http.Header{"Content-Length": {"2"}}, length: 2, body: "ok"},
	{name: "no reason phrase", in: "HTTP/1.1 204\r\n\r\n", status: 204, header: http.Header{}},
	{name: "chunked with a trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Sum: 1\r\n\r\nnext",
		status: 200, header: http.Header{}, length: -1, chunked: true, body: "abcde", rest: "next"},
	{name: "chunked in capitals", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\na\r\n0\r\n\r\n",
		status: 200, header: http.Header{}, length: -1, chunked: true, body: "a"},
	{name: "until the connection ends", in: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nall of it",
		status: 200, header: http.Header{"Content-Type": {"text/html"}}, length: -1, close: true, body: "all of it"},
	{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
		status: 200, header: http.Header{"Content-Length": {"0"}}, close: true},
	{name: "HTTP/1.0 serves one answer", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
		status: 200, header: http.Header{"Connection": {"keep-alive"}, "Content-Length": {"1"}}, length: 1, close: true, body: "x"},
	{name: "HTTP/1.0 ignores transfer encoding", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx",
		status: 200, header: http.Header{"Content-Length": {"1"}}, length: 1, close: true, body: "x"},
	{name: "repeated fields in order", in: "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nVary: Accept\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
		status: 200, header: http.Header{"Set-Cookie": {"a=1", "b=2"}, "Vary": {"Accept"}, "Content-Length": {"0"}}},
	{name: "values trimmed, empty kept", in: "HTTP/1.1 200 OK\r\nX-A: \t spaced \t\r\nX-B:\r\nContent-Length: 0\r\n\r\n",
		status: 200, header: http.Header{"X-A": {"spaced"}, "X-B": {""}, "Content-Length": {"0"}}},
	{name: "equal content lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length:  2 \r\n\r\nok",
		status: 200, header: http.Header{"Content-Length": {"2"}}, length: 2, body: "ok"},
	{name: "not modified has no body", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		status: 304, header: http.Header{"Content-Length": {"10"}}},
	{name: "early hints have no body", in: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK",
		status: 103, header: http.Header{"Link": {"</a.css>; rel=preload"}}, rest: "HTTP/1.1 200 OK"},
	{name: "a long header value", in: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 300) + "\r\nContent-Length: 0\r\n\r\n",
		status: 200, header: http.Header{"X-Long": {strings.Repeat("v", 300)}, "Content-Length": {"0"}}},

	{name: "nothing at all", in: "", err: "EOF"},
	{name: "cut in the head", in: "HTTP/1.1 200 OK\r\nContent-Le", err: "unexpected EOF"},
	{name: "cut in the body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", err: "unexpected EOF"},
	{name: "cut in a chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", err: "unexpected EOF"},
	{name: "cut before the trailer ends", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\r\n", err: "unexpected EOF"},
	{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n\r\n", err: "status line"},
	{name: "HTTP/2 on an HTTP/1.1 connection", in: "HTTP/2.0 200 OK\r\n\r\n", err: "status line"},
	{name: "status of two digits", in: "HTTP/1.1 20 OK\r\n\r\n", err: "status code"},
	{name: "status not a number", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: "status code"},
	{name: "folded header line", in: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n", err: "folded"},
	{name: "field without a colon", in: "HTTP/1.1 200 OK\r\nX-A 1\r\n\r\n", err: "header line"},
	{name: "space before the colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", err: "header line"},
	{name: "control character in a value", in: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", err: "value of X-A"},
	{name: "content lengths that disagree", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", err: "several Content-Length"},
	{name: "disagreeing lengths even when chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n0\r\n\r\n", err: "several Content-Length"},
	{name: "content length with a sign", in: "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", err: "Content-Length"},
	{name: "content length empty", in: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", err: "Content-Length"},
	{name: "gzip transfer encoding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", err: "transfer encoding"},
	{name: "two transfer encodings", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", err: "transfer encoding"},
	{name: "trailer line without a colon", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n", err: "trailer line"},
	{name: "status line longer than the buffer", in: "HTTP/1.1 200 " + strings.Repeat("K", 100) + "\r\n\r\n", err: "status line over"},
}

func TestReadHead(t *testing.T) {
	for _, tc := range headCases {
		t.Run(tc.name, func(t *testing.T) {
			h, body, br, err := readWhole(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one that says %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.status != tc.status || h.length != tc.length || h.chunked != tc.chunked || h.close != tc.close {
				t.Errorf("status %d length %d chunked %t close %t, want %d %d %t %t",
					h.status, h.length, h.chunked, h.close, tc.status, tc.length, tc.chunked, tc.close)
			}
			if !reflect.DeepEqual(h.header, tc.header) {
				t.Errorf("header %q, want %q", h.header, tc.header)
			}
			if body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tc.rest {
				t.Errorf("left %q unread, want %q", rest, tc.rest)
			}
		})
	}
}

// TestReadHeadAllocations holds the point of readHead: an answer's head
// costs a few allocations, not a few per field.
func TestReadHeadAllocations(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	in := "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Type: text/html; charset=utf-8\r\n" +
		"Date: Mon, 30 Nov 2026 07:24:52 GMT\r\nVary: Accept-Encoding\r\nX-Team: basket\r\nContent-Length: 2\r\n\r\nok"
	r := strings.NewReader(in)
	br := bufio.NewReader(r)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(in)
		br.Reset(r)
		if _, err := readHead(br); err != nil {
			t.Fatal(err)
		}
	})
	// The header block's string, the map and its values' array.
	if allocs > 4 {
		t.Errorf("%.0f allocations per head of six fields, want at most 4", allocs)
	}
}

// FuzzReadHead checks readHead against http.ReadResponse: whatever
// readHead takes, net/http takes too and reads the same way. readHead
// may refuse more (see its doc).
func FuzzReadHead(f *testing.F) {
	for _, tc := range headCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, body, _, err := readWhole(in)
		if err != nil {
			return
		}
		resp, herr := http.ReadResponse(bufio.NewReader(strings.NewReader(in)), nil)
		var hbody []byte
		if herr == nil {
			hbody, herr = io.ReadAll(resp.Body)
		}
		if herr != nil {
			t.Fatalf("readHead took %q, which net/http refuses: %v", in, herr)
		}
		if h.status != resp.StatusCode {
			t.Fatalf("status %d, net/http %d", h.status, resp.StatusCode)
		}
		if body != string(hbody) {
			t.Fatalf("body %q, net/http %q", body, hbody)
		}
		if h.length != resp.ContentLength {
			t.Fatalf("length %d, net/http %d", h.length, resp.ContentLength)
		}
		if h.minor == 1 && h.close != resp.Close {
			t.Fatalf("close %t, net/http %t", h.close, resp.Close)
		}
		if !reflect.DeepEqual(h.header, resp.Header) && !(len(h.header) == 0 && len(resp.Header) == 0) {
			t.Fatalf("header %q, net/http %q", h.header, resp.Header)
		}
	})
}

// TestReadHeadEOFIsRetryable keeps the distinction the client's retry
// rests on: nothing at all is io.EOF, a cut head is not.
func TestReadHeadEOFIsRetryable(t *testing.T) {
	if _, _, _, err := readWhole(""); err != io.EOF {
		t.Errorf("empty: %v, want io.EOF", err)
	}
	if _, _, _, err := readWhole("HTTP/1.1 2"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestCheckHead: check-fragment's view of an answer head is the client's.
func TestCheckHead(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		refused   bool
	}{
		{"good", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"early hints, then the answer", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"early hints, then a folded answer", "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", true},
		{"cut short: not judged", "HTTP/1.1 200 OK\r\nContent-Le", false},
		{"nothing: not judged", "", false},
		{"folded", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", true},
		{"differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", true},
	} {
		err := CheckHead([]byte(tc.raw))
		if refused := err != nil; refused != tc.refused || refused && !errors.Is(err, ErrMalformedHead) {
			t.Errorf("%s: %v, want refused %t", tc.name, err, tc.refused)
		}
	}
}

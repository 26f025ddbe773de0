package frontdoor

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// FuzzJudgeHead: any bytes that Go's server reads as a request head get a
// verdict, never a panic, and a head with a folded line (obs-fold) or
// with Transfer-Encoding on HTTP/1.0 is never served as it is.
func FuzzJudgeHead(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
		"GET /a?b=c HTTP/1.1\nHost: x\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		v := judgeHead(raw, r)
		if v != headOK && v != headClose && v != headRefused {
			t.Fatalf("verdict %d", v)
		}
		if v != headOK {
			return
		}
		// Go's server drops Transfer-Encoding from an HTTP/1.0 request's
		// header, so the raw head is read here, as judgeHead reads it.
		head, _, _ := bytes.Cut(raw, []byte("\n\r\n"))
		head, _, _ = bytes.Cut(head, []byte("\n\n"))
		for i, line := range bytes.Split(head, []byte("\n")) {
			if i == 0 || len(line) == 0 {
				continue
			}
			if line[0] == ' ' || line[0] == '\t' {
				t.Fatalf("a folded header line was served: %q", raw)
			}
			name, _, _ := bytes.Cut(line, []byte(":"))
			if r.ProtoMinor == 0 && bytes.EqualFold(bytes.TrimSpace(name), []byte("Transfer-Encoding")) {
				t.Fatalf("Transfer-Encoding on HTTP/1.0 was served: %q", raw)
			}
		}
	})
}

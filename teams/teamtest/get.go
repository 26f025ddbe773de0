package teamtest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// GetTimeout bounds the whole of a [Get] or a [Do] without a client of
// its own: connecting, the headers and the body.
const GetTimeout = 10 * time.Second

// Get fetches url with the given header name, value pairs and returns the
// response with its body read whole (and closed). It does not follow
// redirects: a 3xx is returned as it is. Each Get has a connection of its
// own, closed when it returns. A failure to connect or read, or taking
// over [GetTimeout], fails the test.
func Get(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return Do(t, nil, req)
}

// Do sends req with client and returns the response with its body read
// whole (and closed). A nil client is the one [Get] uses. A failure to
// connect or read fails the test.
func Do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if client == nil {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		client = &http.Client{
			Transport:     tr,
			Timeout:       GetTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return resp, string(body)
}

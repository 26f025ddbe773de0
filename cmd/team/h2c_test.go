package main

import (
	"net/http"
	"testing"
)

// The teams accept h2c (HTTP/2 without TLS, prior knowledge) as well as
// HTTP/1.1, so that Inlay's config may set h2c: true for them.
func TestTeamsSpeakH2CAndHTTP1(t *testing.T) {
	addrs, stop := start(t, "shell", "--listen", "127.0.0.1:0")
	defer stop()
	url := "http://" + addrs["shell"] + "/shell/fragments/footer"

	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	defer h2c.CloseIdleConnections()
	for _, tc := range []struct {
		name      string
		client    *http.Client
		wantMajor int
	}{
		{"HTTP/1.1", &http.Client{Transport: &http.Transport{}}, 1},
		{"h2c", &http.Client{Transport: h2c}, 2},
	} {
		resp, err := tc.client.Get(url)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != tc.wantMajor {
			t.Errorf("%s: got %d over %s, want 200 over HTTP/%d", tc.name, resp.StatusCode, resp.Proto, tc.wantMajor)
		}
	}
}

package teamtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestRouteAnswers(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/plain":  {Body: "<p>plain</p>"},
		"/gone":   {Status: http.StatusGone, Body: "gone", Header: map[string]string{"Cache-Control": "max-age=5", "Content-Type": "text/plain"}},
		"/custom": {Handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }},
	})
	tests := []struct {
		path, wantType, wantCache, wantBody string
		wantStatus                          int
	}{
		{"/plain", "text/html; charset=utf-8", "", "<p>plain</p>", http.StatusOK},
		{"/gone", "text/plain", "max-age=5", "gone", http.StatusGone},
		{"/custom", "", "", "", http.StatusTeapot},
		{"/none", "text/plain; charset=utf-8", "", "404 page not found\n", http.StatusNotFound},
	}
	for _, tc := range tests {
		resp, body := teamtest.Get(t, team.URL+tc.path)
		if resp.StatusCode != tc.wantStatus || body != tc.wantBody {
			t.Errorf("%s: got %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
		}
		if got := resp.Header.Get("Content-Type"); got != tc.wantType {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.wantType)
		}
		if got := resp.Header.Get("Cache-Control"); got != tc.wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, got, tc.wantCache)
		}
	}
	if n := team.Hits(); n != int64(len(tests)) {
		t.Errorf("hits: got %d, want %d", n, len(tests))
	}
}

func TestTeamRecordsRequests(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/a/b/c": {Handler: func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("the handler cannot read the body: %v", err)
		}
		w.Write([]byte("got " + string(b)))
	}}})
	req, err := http.NewRequest(http.MethodPost, team.URL+"/a%2Fb/c?x=1", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "got payload" {
		t.Errorf("the handler read %q (%v), want the body it was sent", b, err)
	}
	teamtest.Get(t, team.URL+"/other")

	reqs := team.RequestsTo("/a/b/c")
	if len(reqs) != 1 {
		t.Fatalf("requests to /a/b/c: got %d, want 1 (all: %+v)", len(reqs), team.Requests())
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.RawPath != "/a%2Fb/c" || got.Query != "x=1" || got.Body != "payload" || got.Header.Get("X-Test") != "yes" {
		t.Errorf("recorded %+v", got)
	}
	if n := len(team.Requests()); n != 2 {
		t.Errorf("all requests: got %d, want 2", n)
	}
	team.ForgetRequests()
	if n := len(team.Requests()); n != 0 || team.Hits() != 2 {
		t.Errorf("after ForgetRequests: %d requests and %d hits, want 0 and 2", n, team.Hits())
	}
}

func TestTeamChangesWhileRunning(t *testing.T) {
	team := teamtest.New(t, nil)
	if resp, _ := teamtest.Get(t, team.URL+"/x"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no handler: got %d, want 404", resp.StatusCode)
	}
	team.Set(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("any")) })
	team.Route("/x", teamtest.Route{Body: "x"})
	if _, body := teamtest.Get(t, team.URL+"/x"); body != "x" {
		t.Errorf("/x after Route: got %q, want the route's body", body)
	}
	if _, body := teamtest.Get(t, team.URL+"/y"); body != "any" {
		t.Errorf("/y after Set: got %q, want the handler's answer", body)
	}
	r, ok := team.RouteOf("/x")
	if !ok || r.Body != "x" {
		t.Errorf("RouteOf(/x): got %+v, %v", r, ok)
	}
	if _, ok := team.RouteOf("/y"); ok {
		t.Error("RouteOf(/y): got a route, want none")
	}
}

func TestGateHoldsUntilClosed(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan string, 2)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/g": {Body: "open", Gate: gate, Arrived: arrived}})
	var wg sync.WaitGroup
	bodies := make(chan string, 2)
	for range 2 {
		wg.Go(func() {
			_, body := teamtest.Get(t, team.URL+"/g")
			bodies <- body
		})
	}
	<-arrived
	<-arrived
	if n := team.InFlight(); n != 2 {
		t.Errorf("in flight at the gate: got %d, want 2", n)
	}
	select {
	case b := <-bodies:
		t.Fatalf("answered %q before the gate opened", b)
	default:
	}
	close(gate)
	wg.Wait()
	for range 2 {
		if b := <-bodies; b != "open" {
			t.Errorf("got %q, want open", b)
		}
	}
	if n := team.PeakInFlight(); n != 2 {
		t.Errorf("peak in flight: got %d, want 2", n)
	}
	if n := team.InFlight(); n != 0 {
		t.Errorf("in flight at the end: got %d, want 0", n)
	}
}

func TestHangAndGateReportCancellation(t *testing.T) {
	cancelled := make(chan string, 2)
	arrived := make(chan string, 2)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/hang": {Hang: true, Arrived: arrived, Cancelled: cancelled},
		"/gate": {Gate: make(chan struct{}), Arrived: arrived, Cancelled: cancelled},
	})
	for _, path := range []string{"/hang", "/gate"} {
		ctx, cancel := context.WithCancel(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, team.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		<-arrived
		cancel()
		if err := <-done; err == nil {
			t.Errorf("%s: the request ended without an error, want it cancelled", path)
		}
		select {
		case got := <-cancelled:
			if got != path {
				t.Errorf("cancelled: got %q, want %q", got, path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no cancellation reported within 10s", path)
		}
	}
}

func TestGetDoesNotFollowRedirects(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/from": {Status: http.StatusFound, Header: map[string]string{"Location": "/to"}},
		"/to":   {Body: "to"},
	})
	resp, _ := teamtest.Get(t, team.URL+"/from", "Accept", "text/html", "X-A", "1")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/to" {
		t.Errorf("got %d Location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := len(team.RequestsTo("/to")); n != 0 {
		t.Errorf("the redirect was followed (%d requests to /to)", n)
	}
	h := team.RequestsTo("/from")[0].Header
	if h.Get("Accept") != "text/html" || h.Get("X-A") != "1" {
		t.Errorf("headers sent: %v", h)
	}
}

func TestDoUsesTheGivenClient(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/from": {Status: http.StatusFound, Header: map[string]string{"Location": "/to"}},
		"/to":   {Body: "to"},
	})
	req, err := http.NewRequest(http.MethodGet, team.URL+"/from", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := teamtest.Do(t, &http.Client{Timeout: teamtest.GetTimeout}, req)
	if resp.StatusCode != http.StatusOK || body != "to" {
		t.Errorf("got %d %q, want the redirect followed by the client's default", resp.StatusCode, body)
	}
}

func TestSpeakOnlyH2C(t *testing.T) {
	team := teamtest.NewUnstarted(t, map[string]teamtest.Route{"/p": {Handler: func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "HTTP/%d", r.ProtoMajor)
	}}})
	team.SpeakOnlyH2C()
	team.Start()
	if _, err := (&http.Client{Timeout: teamtest.GetTimeout}).Get(team.URL + "/p"); err == nil {
		t.Error("an HTTP/1.1 request got an answer, want it to fail")
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, team.URL+"/p", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := teamtest.Do(t, &http.Client{Transport: tr, Timeout: teamtest.GetTimeout}, req)
	if resp.StatusCode != http.StatusOK || body != "HTTP/2" {
		t.Errorf("over h2c: got %d %q, want 200 HTTP/2", resp.StatusCode, body)
	}
}

func TestFragmentAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, cacheControl string
		header             []string
		want               map[string]string
	}{
		{"cacheable, tagged", "max-age=60", []string{"Surrogate-Key", "sku-1"}, map[string]string{"Cache-Control": "max-age=60", "Surrogate-Key": "sku-1", "Content-Type": "text/html; charset=utf-8"}},
		{"no Cache-Control", "", nil, map[string]string{"Cache-Control": "", "Content-Type": "text/html; charset=utf-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.New(t, teamtest.Fragment("<p>box</p>", tc.cacheControl, tc.header...))
			resp, body := teamtest.Get(t, team.URL+"/box")
			if resp.StatusCode != http.StatusOK || body != "<p>box</p>" {
				t.Errorf("got %d %q, want 200 <p>box</p>", resp.StatusCode, body)
			}
			for name, want := range tc.want {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

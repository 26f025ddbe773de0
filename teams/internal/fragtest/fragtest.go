// Package fragtest holds test helpers that check the fragment contract of
// the example teams over real HTTP: status, Content-Type, Cache-Control,
// the Link header and the stylesheet it names, bare snippets and
// team-prefixed class names. Only tests import it.
package fragtest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// linkRE matches the Link header of a fragment: "</team/static/x.css?v=HASH>; rel=stylesheet".
var linkRE = regexp.MustCompile(`^<(/[a-z]+/static/[a-z]+\.css\?v=([0-9a-f]{10}))>; rel=stylesheet$`)

// classRE finds class attributes.
var classRE = regexp.MustCompile(`class="([^"]*)"`)

// Response is a fully read HTTP response.
type Response struct {
	*http.Response
	Body string
}

// Get fetches url with client (teamtest.Get's when nil, which does not
// follow redirects) and reads the body.
func Get(t testing.TB, client *http.Client, url string) Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Do(t, client, req)
}

// Do sends req with client (as teamtest.Do does) and reads the body.
func Do(t testing.TB, client *http.Client, req *http.Request) Response {
	t.Helper()
	resp, body := teamtest.Do(t, client, req)
	return Response{Response: resp, Body: body}
}

// CheckFragment asserts the fragment contract on r: the status, an HTML
// Content-Type, the Cache-Control, a bare snippet without document tags,
// class names prefixed with team+"-", and a Link header naming the team's
// stylesheet, which must be served from base as immutable CSS. It returns
// the stylesheet's URL path.
func CheckFragment(t testing.TB, base string, r Response, team string, wantStatus int, wantCache string) string {
	t.Helper()
	if r.StatusCode != wantStatus {
		t.Errorf("%s: status = %d, want %d", r.Request.URL, r.StatusCode, wantStatus)
	}
	if got := r.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type = %q, want text/html; charset=utf-8", r.Request.URL, got)
	}
	if got := r.Header.Get("Cache-Control"); got != wantCache {
		t.Errorf("%s: Cache-Control = %q, want %q", r.Request.URL, got, wantCache)
	}
	CheckSnippet(t, r.Body, team)
	link := r.Header.Get("Link")
	m := linkRE.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("%s: Link = %q, want </%s/static/%s.css?v=HASH>; rel=stylesheet", r.Request.URL, link, team, team)
	}
	if want := "/" + team + "/static/" + team + ".css?v="; !strings.HasPrefix(m[1], want) {
		t.Errorf("%s: Link names %q, want a URL starting %q", r.Request.URL, m[1], want)
	}
	css := Get(t, nil, base+m[1])
	if css.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status = %d", m[1], css.StatusCode)
	}
	if got := css.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("GET %s: Content-Type = %q, want text/css", m[1], got)
	}
	if got := css.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s: Cache-Control = %q, want immutable", m[1], got)
	}
	if !strings.Contains(css.Body, "."+team+"-") {
		t.Errorf("GET %s: stylesheet has no .%s- rule", m[1], team)
	}
	return m[1]
}

// CheckSnippet asserts that body is a non-empty bare HTML snippet whose
// class names all start with team+"-".
func CheckSnippet(t testing.TB, body, team string) {
	t.Helper()
	if strings.TrimSpace(body) == "" {
		t.Fatal("empty fragment body")
	}
	lower := strings.ToLower(body)
	for _, tag := range []string{"<!doctype", "<html", "<head", "<body"} {
		if strings.Contains(lower, tag) {
			t.Errorf("fragment contains %s: %s", tag, body)
		}
	}
	for _, m := range classRE.FindAllStringSubmatch(body, -1) {
		for _, class := range strings.Fields(m[1]) {
			if !strings.HasPrefix(class, team+"-") {
				t.Errorf("class %q lacks the %q prefix", class, team+"-")
			}
		}
	}
}

// CountTestID counts the elements carrying data-testid="id".
func CountTestID(body, id string) int {
	return strings.Count(body, `data-testid="`+id+`"`)
}

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/watch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// The layout lifecycle rows H1-H3 of the fault matrix
// (docs/fault-matrix.md), run against a real Inlay with the real watcher on
// real files.

// mainSlot is line 6 of layoutV.
const mainSlot = `<fragment id="main" src="team:/fragments/main" primary></fragment>`

// badEdits are invalid versions of layoutV: each must be rejected, logged
// as FILE:LINE:COL: message, and never served.
var badEdits = []struct {
	name      string
	content   func(v int) string
	line, col int
	message   string // a part of the problem's message
}{
	{"unclosed fragment",
		func(v int) string {
			return strings.Replace(layoutV(v), mainSlot, strings.TrimSuffix(mainSlot, "</fragment>"), 1)
		},
		6, 3, "<fragment> is never closed"},
	{"two primaries",
		func(v int) string {
			return strings.Replace(layoutV(v), mainSlot, mainSlot+"\n  "+`<fragment id="second" src="team:/fragments/main" primary></fragment>`, 1)
		},
		7, 3, `second primary fragment "second"`},
	{"missing src",
		func(v int) string {
			return strings.Replace(layoutV(v), mainSlot, `<fragment id="main" primary></fragment>`, 1)
		},
		6, 3, "<fragment> without src"},
	{"unknown attribute",
		func(v int) string {
			return strings.Replace(layoutV(v), mainSlot, `<fragment id="main" src="team:/fragments/main" colour="red" primary></fragment>`, 1)
		},
		6, 3 + len(`<fragment id="main" src="team:/fragments/main" `), `unknown attribute "colour"`},
	{"src not a registered service",
		func(v int) string {
			return strings.Replace(layoutV(v), mainSlot, `<fragment id="main" src="http://169.254.169.254/latest/meta-data/" primary></fragment>`, 1)
		},
		6, 3, "http://169.254.169.254 is not the URL of a registered service"},
	{"5 MiB file",
		func(v int) string {
			return layoutV(v) + "<!--" + strings.Repeat("x", 5<<20) + "-->\n"
		},
		1, 1, "more than the 4194304 allowed"},
	{"binary garbage",
		func(v int) string {
			rng := rand.New(rand.NewPCG(uint64(v), 1))
			b := []byte("\x89PNG\r\n\x1a\n")
			for range 64 << 10 {
				b = append(b, byte(rng.Uint32()))
			}
			return string(b)
		},
		1, 1, "layout is not UTF-8 text"},
}

// TestReloadUnderLoad is H1: about 50 edits of the served layout, valid
// and invalid by turns, while 200 requests a second come in. Every
// request gets a complete page of a valid version, never an older one
// than before; each valid version is served; each invalid edit is logged
// as FILE:LINE:COL: message.
func TestReloadUnderLoad(t *testing.T) {
	s := newShop(t)
	home := filepath.Join(s.dir, "home.html")
	ld := startLoad(t, s, 200, 18*time.Second, func(status int, body string) (int, error) {
		return servedVersion(status, body)
	})
	const edits = 50
	v := 1
	for i := range edits {
		if i%2 == 1 {
			v++
			teamtest.WriteFile(t, home, layoutV(v))
			s.waitForHome(t, v)
			continue
		}
		bad := badEdits[(i/2)%len(badEdits)]
		want := regexp.MustCompile("^" + regexp.QuoteMeta(fmt.Sprintf("%s:%d:%d: ", home, bad.line, bad.col)) + ".*" + regexp.QuoteMeta(bad.message))
		before := len(s.logs.records())
		teamtest.WriteFile(t, home, bad.content(v))
		pollUntil(t, fmt.Sprintf("edit %d (%s) to be logged as %s", i, bad.name, want), func() (bool, string) {
			var seen []string
			for _, r := range s.logs.records()[before:] {
				if isRejection(home)(r) {
					if want.MatchString(r.Problem) {
						return true, ""
					}
					seen = append(seen, fmt.Sprintf("%.200s", r.Problem))
				}
			}
			return false, fmt.Sprintf("rejections %q", seen)
		})
		if got, err := s.home(); err != nil || got != v {
			t.Fatalf("after edit %d (%s): home page v%d, %v; want the last good v%d", i, bad.name, got, err, v)
		}
	}
	checkLoad(t, ld, 200)
	if n := s.logs.count(isRejection(home)); n < edits/2 {
		t.Errorf("%d rejections logged for %d invalid edits", n, edits/2)
	}
}

// TestReloadNeverServesHalfALayout is H2: a layout file is rewritten in
// two steps (truncate and write a part, then the rest) and reloaded
// between them. The half file must be rejected and the last good version
// served; the whole new file serves once written.
func TestReloadNeverServesHalfALayout(t *testing.T) {
	next := layoutV(2)
	cases := []struct {
		name  string
		cut   int    // bytes of the new version written in the first step
		needs string // what Inlay lacks to reject this half, if anything
	}{
		{"truncated, nothing written yet", 0, ""},
		{"cut inside a fragment tag", strings.Index(next, `src="team:/frag`) + 8, ""},
		{"cut between a fragment's start and end tags", strings.Index(next, "</fragment>"), ""},
		{"cut inside a character", strings.Index(next, "ü") + 1, ""},
		{"cut in the markup after the last fragment", strings.Index(next, "<p>Grüße"),
			"a cut in static markup is valid HTML and is served: only rename-based writes (which Kubernetes and editors' atomic saves do) avoid it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t)
			ld := startLoad(t, s, 100, 10*time.Second, oneOf(1, 2))
			ld.waitForMore(t, 5)
			f, err := os.OpenFile(filepath.Join(s.dir, "home.html"), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(next[:tc.cut]); err != nil {
				t.Fatal(err)
			}
			problems := s.srv.Layouts().Reload()
			if len(problems) == 0 && tc.needs != "" {
				ld.finish()
				t.Skip(tc.needs)
			}
			v, err := s.home()
			if len(problems) == 0 || err != nil || v != 1 {
				t.Fatalf("after a reload of the half file: %d problems, home page v%d, %v; want problems and the last good v1", len(problems), v, err)
			}
			if _, err := f.WriteString(next[tc.cut:]); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			s.waitForHome(t, 2)
			ld.waitForMore(t, 5)
			checkLoad(t, ld, 10)
		})
	}
}

// TestReloadCoalescesATwoStepWrite truncates a layout, then writes the new
// version 20 ms later, well within the quiet period: the watcher reloads
// once, after the whole write, and the empty file is never served.
func TestReloadCoalescesATwoStepWrite(t *testing.T) {
	s := newShop(t)
	ld := startLoad(t, s, 200, 10*time.Second, oneOf(1, 2, 3, 4))
	ld.waitForMore(t, 10)
	home := filepath.Join(s.dir, "home.html")
	for v := 2; v <= 4; v++ {
		f, err := os.OpenFile(home, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(watch.Quiet / 5) // a slow writer, still within the quiet period
		if _, err := f.WriteString(layoutV(v)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		s.waitForHome(t, v)
	}
	checkLoad(t, ld, 20)
}

// TestReloadKeepsADeletedLayout is H3 at run time: a layout file deleted
// while its page is served. Decision: the page keeps serving the last good
// version of its layout and an error is logged, as for a broken edit;
// Inlay refuses to start without it (composer.New). A new file with the
// layout's name serves again.
func TestReloadKeepsADeletedLayout(t *testing.T) {
	s := newShop(t)
	home := filepath.Join(s.dir, "home.html")
	reloads := func() int {
		return s.logs.count(func(r logRecord) bool { return r.Msg == "layouts reloaded" || r.Level == "ERROR" })
	}
	before := reloads()
	if err := os.Remove(home); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "a reload after the deletion", func() (bool, string) {
		n := reloads()
		return n > before, fmt.Sprintf("%d reload records", n)
	})
	status, body, err := s.get("/")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := servedVersion(status, body); err != nil || v != 1 {
		t.Fatalf("home page after its layout was deleted: v%d, %v; want the last good v1", v, err)
	}
	if n := s.logs.count(isRejection(home)); n == 0 {
		t.Errorf("no error logged for the deleted %s", home)
	}
	teamtest.WriteFile(t, home, layoutV(2))
	s.waitForHome(t, 2)
}

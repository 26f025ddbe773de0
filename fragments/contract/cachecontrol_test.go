package contract

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  CacheControl
	}{
		{"absent", nil, CacheControl{MaxAge: -1, SMaxAge: -1}},
		{"max-age", []string{"max-age=60"}, CacheControl{MaxAge: 60, SMaxAge: -1}},
		{"case and spaces", []string{" Max-Age = 60 ,  PUBLIC "}, CacheControl{Public: true, MaxAge: 60, SMaxAge: -1}},
		{"quoted value", []string{`max-age="30"`}, CacheControl{MaxAge: 30, SMaxAge: -1}},
		{"several lines", []string{"max-age=60", "no-store"}, CacheControl{NoStore: true, MaxAge: 60, SMaxAge: -1}},
		{"flags", []string{"no-store, no-cache, private, public, must-revalidate"},
			CacheControl{NoStore: true, NoCache: true, Private: true, Public: true, MustRevalidate: true, MaxAge: -1, SMaxAge: -1}},
		{"qualified no-cache and private", []string{`no-cache="Set-Cookie", private="X-Basket"`},
			CacheControl{NoCache: true, Private: true, MaxAge: -1, SMaxAge: -1}},
		{"proxy-revalidate", []string{"proxy-revalidate"}, CacheControl{MustRevalidate: true, MaxAge: -1, SMaxAge: -1}},
		{"s-maxage", []string{"s-maxage=10, max-age=60"}, CacheControl{MaxAge: 60, SMaxAge: 10}},
		{"stale windows", []string{"stale-while-revalidate=30, stale-if-error=600"},
			CacheControl{MaxAge: -1, SMaxAge: -1, StaleWhileRevalidate: 30, StaleIfError: 600}},
		{"malformed numbers are absent", []string{"max-age=abc, s-maxage=-1, stale-if-error=1.5, stale-while-revalidate="},
			CacheControl{MaxAge: -1, SMaxAge: -1}},
		{"max-age without value", []string{"max-age"}, CacheControl{MaxAge: -1, SMaxAge: -1}},
		{"unknown directives ignored", []string{"immutable, foo=bar, max-age=5"}, CacheControl{MaxAge: 5, SMaxAge: -1}},
		{"huge values are 2^31 (RFC 9111 §1.2.2)", []string{"max-age=99999999999999999999999, stale-if-error=4294967296"},
			CacheControl{MaxAge: 1 << 31, SMaxAge: -1, StaleIfError: 1 << 31}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tc.lines {
				h.Add("Cache-Control", l)
			}
			if got := ParseCacheControl(h); got != tc.want {
				t.Errorf("ParseCacheControl(%q):\ngot  %+v\nwant %+v", tc.lines, got, tc.want)
			}
		})
	}
}

func TestStorabilityLifetimesAndStaleWindows(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	const s = time.Second
	huge := time.Duration(1<<31) * s
	cases := []struct {
		name      string
		header    []string
		wantFresh time.Duration // from now
		wantSWR   time.Duration // end of stale-while-revalidate, from now
		wantSIE   time.Duration // end of stale-if-error, from now
	}{
		{"max-age", []string{"Cache-Control", "max-age=60"}, 60 * s, 60 * s, 60 * s},
		{"stale windows", []string{"Cache-Control", "max-age=60, stale-while-revalidate=30, stale-if-error=600"}, 60 * s, 90 * s, 660 * s},
		{"s-maxage wins and forbids stale", []string{"Cache-Control", "max-age=600, s-maxage=60, stale-if-error=600"}, 60 * s, 0, 0},
		{"must-revalidate forbids stale", []string{"Cache-Control", "max-age=60, must-revalidate, stale-while-revalidate=30"}, 60 * s, 0, 0},
		{"Age is subtracted", []string{"Cache-Control", "max-age=60, stale-if-error=60", "Age", "20"}, 40 * s, 40 * s, 100 * s},
		{"Age past max-age leaves stale-if-error", []string{"Cache-Control", "max-age=60, stale-if-error=60", "Age", "90"}, -30 * s, -30 * s, 30 * s},
		{"Expires relative to Date", []string{"Date", "Mon, 01 Jan 2024 11:00:00 GMT", "Expires", "Mon, 01 Jan 2024 11:05:00 GMT"}, 300 * s, 300 * s, 300 * s},
		{"max-age beats Expires", []string{"Cache-Control", "max-age=10", "Expires", "Mon, 01 Jan 2024 13:00:00 GMT"}, 10 * s, 10 * s, 10 * s},
		{"huge max-age does not overflow", []string{"Cache-Control", "max-age=10000000000"}, huge, huge, huge},
		{"huge windows do not overflow", []string{"Cache-Control", "max-age=99999999999, stale-while-revalidate=99999999999, stale-if-error=99999999999"}, huge, 2 * huge, 2 * huge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Storability(200, header(tc.header...), false, now, 0)
			if !v.Store || v.Pass {
				t.Fatalf("got store=%v pass=%v, want store=true pass=false", v.Store, v.Pass)
			}
			for _, c := range []struct {
				name string
				got  time.Time
				want time.Duration
			}{{"fresh", v.FreshUntil, tc.wantFresh}, {"stale-while-revalidate", v.SWRUntil, tc.wantSWR}, {"stale-if-error", v.SIEUntil, tc.wantSIE}} {
				if c.want == 0 && c.name != "fresh" {
					if !c.got.IsZero() {
						t.Errorf("%s ends at now%+v, want no window", c.name, c.got.Sub(now))
					}
					continue
				}
				if got := c.got.Sub(now); got != c.want {
					t.Errorf("%s ends at now%+v, want now%+v", c.name, got, c.want)
				}
			}
		})
	}
}

func TestStorabilityRefusals(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		reqHeader []string
		status    int
		header    []string
		wantPass  bool
	}{
		{"no-store", nil, 200, []string{"Cache-Control", "max-age=60, no-store"}, true},
		{"private", nil, 200, []string{"Cache-Control", "max-age=60, private"}, true},
		{"no-cache", nil, 200, []string{"Cache-Control", "max-age=60, no-cache"}, true},
		{"Set-Cookie", nil, 200, []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=1"}, true},
		{"Vary *", nil, 200, []string{"Cache-Control", "max-age=60", "Vary", "Accept, *"}, true},
		{"Vary Cookie on a second line", nil, 200, []string{"Cache-Control", "max-age=60", "Vary", "Accept", "Vary", "COOKIE"}, true},
		{"credentialed", []string{"Authorization", "Basic x"}, 200, []string{"Cache-Control", "max-age=60"}, true},
		{"no explicit freshness", nil, 200, []string{"Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"}, true},
		{"500", nil, 500, []string{"Cache-Control", "max-age=60"}, false},
		{"206", nil, 206, []string{"Cache-Control", "max-age=60"}, false},
		{"404 with no-store", nil, 404, []string{"Cache-Control", "no-store"}, false},
		{"already expired", nil, 200, []string{"Cache-Control", "max-age=0"}, false},
		{"expired by Age, no stale window", nil, 200, []string{"Cache-Control", "max-age=10", "Age", "10"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Storability(tc.status, header(tc.header...), len(tc.reqHeader) > 0, now, 0)
			if v.Store || v.Pass != tc.wantPass {
				t.Errorf("got store=%v pass=%v, want store=false pass=%v", v.Store, v.Pass, tc.wantPass)
			}
		})
	}
}

// FuzzParseCacheControl: any header parses without panicking, numbers are
// never below their "absent" value, and the resulting windows are ordered.
func FuzzParseCacheControl(f *testing.F) {
	for _, seed := range []string{
		"max-age=60", "no-store", `max-age="1", s-maxage=2`, "stale-if-error=99999999999999999999",
		"max-age=-5", ",,,=,", "private=\"x\", no-cache=\"Set-Cookie\"", "MAX-AGE=1, Stale-While-Revalidate=2",
	} {
		f.Add(seed, "0")
	}
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}, "Age": {age}}
		got := ParseCacheControl(h)
		if got.MaxAge < -1 || got.SMaxAge < -1 || got.StaleIfError < 0 || got.StaleWhileRevalidate < 0 {
			t.Fatalf("ParseCacheControl(%q) = %+v: a value below its floor", cc, got)
		}
		if got.MaxAge > maxDeltaSeconds || got.SMaxAge > maxDeltaSeconds || got.StaleIfError > maxDeltaSeconds || got.StaleWhileRevalidate > maxDeltaSeconds {
			t.Fatalf("ParseCacheControl(%q) = %+v: a value above 2^31", cc, got)
		}
		fr := Storability(200, h, false, now, 0)
		if !fr.Store {
			return
		}
		if !fr.Expires().After(now) {
			t.Fatalf("stored %q with Age %q although it expires at %v", cc, age, fr.Expires())
		}
		if !fr.SWRUntil.IsZero() && fr.SWRUntil.Before(fr.FreshUntil) || !fr.SIEUntil.IsZero() && fr.SIEUntil.Before(fr.FreshUntil) {
			t.Fatalf("%q: a stale window ends before freshness does: %+v", cc, fr)
		}
	})
}

// header makes a header from name, value pairs.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

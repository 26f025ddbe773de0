package contract

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVerdictString checks the verdict as check-fragment prints it.
func TestVerdictString(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name         string
		status       int
		header       []string
		credentialed bool
		want         string
	}{
		{name: "max-age", header: []string{"Cache-Control", "max-age=60"}, want: "cacheable for 60s"},
		{name: "stale windows", header: []string{"Cache-Control", "public, max-age=60, stale-while-revalidate=30, stale-if-error=300"}, want: "cacheable for 60s, stale-while-revalidate 30s, stale-if-error 300s"},
		{name: "s-maxage wins and forbids stale", header: []string{"Cache-Control", "max-age=10, s-maxage=60, stale-if-error=300"}, want: "cacheable for 60s"},
		{name: "must-revalidate forbids stale", header: []string{"Cache-Control", "max-age=60, must-revalidate, stale-if-error=300"}, want: "cacheable for 60s"},
		{name: "age", header: []string{"Cache-Control", "max-age=60", "Age", "20"}, want: "cacheable for 40s"},
		{name: "age beyond lifetime", header: []string{"Cache-Control", "max-age=60, stale-if-error=300", "Age", "100"}, want: "cacheable for 0s, stale-if-error 260s"},
		{name: "expires", header: []string{"Expires", "Fri, 02 Jan 2026 03:06:05 GMT", "Date", "Fri, 02 Jan 2026 03:04:05 GMT"}, want: "cacheable for 120s"},
		{name: "bad expires", header: []string{"Expires", "0"}, want: "not cacheable: stale on arrival"},
		{name: "max-age=0", header: []string{"Cache-Control", "max-age=0"}, want: "not cacheable: stale on arrival"},
		{name: "max-age=0 with swr", header: []string{"Cache-Control", "max-age=0, stale-while-revalidate=30"}, want: "cacheable for 0s, stale-while-revalidate 30s"},
		{name: "nothing", header: nil, want: "not cacheable: no max-age, s-maxage or Expires"},
		{name: "private", header: []string{"Cache-Control", "private, max-age=60"}, want: "not cacheable: private"},
		{name: "several", header: []string{"Cache-Control", "no-store", "Cache-Control", "no-cache", "Set-Cookie", "a=1", "Vary", "Accept-Language, cookie"}, want: "not cacheable: no-store, no-cache, Set-Cookie, Vary: Cookie"},
		{name: "vary star", header: []string{"Cache-Control", "max-age=60", "Vary", "*"}, want: "not cacheable: Vary: *"},
		{name: "credentialed", header: []string{"Cache-Control", "max-age=60"}, credentialed: true, want: "not cacheable: fetched with cookies, and neither public nor s-maxage"},
		{name: "credentialed public", header: []string{"Cache-Control", "public, max-age=60"}, credentialed: true, want: "cacheable for 60s"},
		{name: "huge max-age", header: []string{"Cache-Control", "max-age=99999999999999999999"}, want: "cacheable for 2147483648s"},
		{name: "404", status: 404, header: []string{"Cache-Control", "max-age=60"}, want: "cacheable for 60s"},
		{name: "206", status: 206, header: []string{"Cache-Control", "max-age=60"}, want: "not cacheable: status 206 (only a 200, 404 or 410 is stored)"},
		{name: "credentials and Vary: Authorization", header: []string{"Cache-Control", "public, max-age=60", "Vary", "Authorization"}, credentialed: true, want: "not cacheable: fetched with credentials, and Vary: Authorization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.header); i += 2 {
				h.Add(tc.header[i], tc.header[i+1])
			}
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			v := Storability(status, h, tc.credentialed, now, 0)
			got, ok := v.String(), v.Store
			if got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
			if ok != strings.HasPrefix(tc.want, "cacheable") {
				t.Errorf("cacheable = %v for %q", ok, got)
			}
		})
	}
}

package config

import (
	"encoding/json"
	"testing"
)

func TestProblemError(t *testing.T) {
	cases := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "inlay.yaml", Line: 9, Col: 13, Message: "m"}, "inlay.yaml:9:13: m"},
		{Problem{File: "inlay.yaml", Line: 9, Col: 13, Severity: SeverityError, Message: "m"}, "inlay.yaml:9:13: m"},
		{Problem{File: "a.html", Line: 3, Col: 5, Severity: SeverityWarning, Message: "m"}, "a.html:3:5: warning: m"},
		{Problem{File: "layouts", Message: "m"}, "layouts: m"},
		{Problem{Severity: SeverityWarning, Message: "m"}, "warning: m"},
	}
	for _, tc := range cases {
		if got := tc.p.Error(); got != tc.want {
			t.Errorf("%+v: Error() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestProblemJSON pins the wire format `inlay lint --format json` and
// `inlay check-fragment --format json` share: a problem without a file or a
// fix leaves them out; line and col are always there, 0 when the problem is
// about the whole file or body.
func TestProblemJSON(t *testing.T) {
	cases := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "inlay.yaml", Line: 9, Col: 13, Severity: SeverityError, Message: "m"},
			`{"file":"inlay.yaml","line":9,"col":13,"severity":"error","message":"m"}`},
		{Problem{Line: 2, Col: 1, Severity: SeverityError, Message: "m", Fix: "f"},
			`{"line":2,"col":1,"severity":"error","message":"m","fix":"f"}`},
		{Problem{Severity: SeverityWarning, Message: "m", Fix: "f"},
			`{"line":0,"col":0,"severity":"warning","message":"m","fix":"f"}`},
	}
	for _, tc := range cases {
		got, err := json.Marshal(tc.p)
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v: got %s, %v; want %s", tc.p, got, err, tc.want)
		}
	}
}

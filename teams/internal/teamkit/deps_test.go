package teamkit

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTeamsSpeakOnlyHTTP checks that the team services and their test kit
// import nothing of Inlay outside teams/: a team knows Inlay only through
// HTTP, as a team in another repository would.
func TestTeamsSpeakOnlyHTTP(t *testing.T) {
	const module = "github.com/inlayhq/inlay/"
	out, err := exec.Command("go", "list", "-deps", module+"teams/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		switch {
		case strings.HasPrefix(dep, module+"teams/"):
			// the teams and their kit
		case strings.HasPrefix(dep, module):
			t.Errorf("a package under teams/ depends on %s", dep)
		}
	}
	for _, team := range []string{"shell", "search", "basket", "teamtest"} {
		if !strings.Contains(string(out), module+"teams/"+team+"\n") {
			t.Errorf("go list -deps teams/... does not list teams/%s", team)
		}
	}
}

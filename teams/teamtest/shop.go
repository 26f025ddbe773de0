package teamtest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// Shop describes a test shop: the config's sections and the layout files.
// Its zero value is an empty config with no layouts.
type Shop struct {
	// Services maps a service's name to its base URL. A service whose
	// name ends in "-cookies" gets "cookies: true".
	Services map[string]string
	// ServiceTimeout, when not empty, is the timeout of every service
	// whose ServiceYAML sets none, like "2s".
	ServiceTimeout string
	// ServiceYAML holds more YAML lines for a service, indented to sit
	// under it, like "    max_concurrent: 4\n".
	ServiceYAML map[string]string
	// Pages holds the YAML list items under pages:, like
	// "  - path: /\n    layout: p.html".
	Pages string
	// Gateway holds the YAML list items under gateway:.
	Gateway string
	// Extra is more top-level YAML, written last: a whole config when
	// the fields above are empty.
	Extra string
	// Layouts maps a layout file's name (slash-separated, relative to the
	// layouts folder) to its content.
	Layouts map[string]string
}

// YAML returns the shop's config. A section with nothing in it is left
// out; services are written in the order of their names.
func (s Shop) YAML() string {
	var y strings.Builder
	if len(s.Services) > 0 {
		y.WriteString("services:\n")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Services)) {
		more := s.ServiceYAML[name]
		fmt.Fprintf(&y, "  %s:\n    url: %s\n", name, s.Services[name])
		if s.ServiceTimeout != "" && !strings.Contains(more, "    timeout:") {
			y.WriteString("    timeout: " + s.ServiceTimeout + "\n")
		}
		if strings.HasSuffix(name, "-cookies") {
			y.WriteString("    cookies: true\n")
		}
		y.WriteString(more)
	}
	if s.Pages != "" {
		y.WriteString("pages:\n" + strings.TrimSuffix(s.Pages, "\n") + "\n")
	}
	if s.Gateway != "" {
		y.WriteString("gateway:\n" + strings.TrimSuffix(s.Gateway, "\n") + "\n")
	}
	y.WriteString(s.Extra)
	return y.String()
}

// FS returns the shop's layouts as an in-memory folder.
func (s Shop) FS() fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range s.Layouts {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// Parse parses the shop's config, named test.yaml, with parse (which is
// config.Parse: this package cannot import composer/config, see the
// package doc), and returns it with the shop's layouts. A config parse
// rejects fails the test, with the YAML in the message.
func Parse[C any](t testing.TB, s Shop, parse func(file string, yaml []byte) (C, error)) (C, fstest.MapFS) {
	t.Helper()
	y := s.YAML()
	cfg, err := parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	return cfg, s.FS()
}

// Write writes the shop into a new temporary folder, removed when the
// test ends, and returns the config's path (inlay.yaml) and the layouts
// folder. The layouts sit beside the config, where Inlay looks for them
// when the config sets no layouts: key (or sets "layouts: .").
func (s Shop) Write(t testing.TB) (configPath, layoutsDir string) {
	t.Helper()
	dir := t.TempDir()
	return s.WriteIn(t, dir), dir
}

// WriteIn writes the shop into dir (its config as dir/inlay.yaml, its
// layouts beside it, replacing files of the same names) and returns the
// config's path.
func (s Shop) WriteIn(t testing.TB, dir string) string {
	t.Helper()
	WriteFiles(t, dir, s.Layouts)
	path := filepath.Join(dir, "inlay.yaml")
	WriteFile(t, path, s.YAML())
	return path
}

// WriteFiles writes files (slash-separated names relative to dir, to
// their content) into dir; a failure fails the test.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), body)
	}
}

// WriteFile writes content to path, making its folder first; a failure
// fails the test.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("making the folder of %s: %v", path, err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

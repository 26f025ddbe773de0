package watch

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// TestHandle checks which events concern a watch, without the file system:
// the table is the filter both uses (the layouts folder, the config file)
// rely on.
func TestHandle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "watched")
	parent := filepath.Dir(dir)
	config := func(b string) bool { return b == "inlay.yaml" }
	layouts := func(b string) bool { return filepath.Ext(b) == ".html" }
	tests := []struct {
		name  string
		match func(string) bool
		ev    fsnotify.Event
		want  bool
	}{
		{"a layout written", nil, fsnotify.Event{Name: filepath.Join(dir, "home.html"), Op: fsnotify.Write}, true},
		{"a layout renamed over", nil, fsnotify.Event{Name: filepath.Join(dir, "home.html"), Op: fsnotify.Create}, true},
		{"chmod only", nil, fsnotify.Event{Name: filepath.Join(dir, "home.html"), Op: fsnotify.Chmod}, false},
		{"an editor's swap file", nil, fsnotify.Event{Name: filepath.Join(dir, ".home.html.swp"), Op: fsnotify.Write}, false},
		{"a ConfigMap's timestamped folder", nil, fsnotify.Event{Name: filepath.Join(dir, "..2026_11_30"), Op: fsnotify.Create}, false},
		{"the ConfigMap ..data swap", nil, fsnotify.Event{Name: filepath.Join(dir, "..data"), Op: fsnotify.Create}, true},
		{"a sibling of the folder", nil, fsnotify.Event{Name: filepath.Join(parent, "other"), Op: fsnotify.Write}, false},
		{"the config written", config, fsnotify.Event{Name: filepath.Join(dir, "inlay.yaml"), Op: fsnotify.Write}, true},
		{"another file beside the config", config, fsnotify.Event{Name: filepath.Join(dir, "notes.txt"), Op: fsnotify.Write}, false},
		{"the config's ..data swap", config, fsnotify.Event{Name: filepath.Join(dir, "..data"), Op: fsnotify.Rename}, true},
		{"a log written into the layouts", layouts, fsnotify.Event{Name: filepath.Join(dir, "inlay.log"), Op: fsnotify.Write}, false},
		{"a layout beside the log", layouts, fsnotify.Event{Name: filepath.Join(dir, "home.html"), Op: fsnotify.Write}, true},
		{"a watched subfolder removed", layouts, fsnotify.Event{Name: filepath.Join(dir, "partials"), Op: fsnotify.Remove}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lw := &watcher{dir: dir, parent: parent, watched: []string{dir, filepath.Join(dir, "partials")}, opts: Options{Name: "test", Match: tt.match}, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if got := lw.handle(tt.ev); got != tt.want {
				t.Errorf("handle(%v) = %v, want %v", tt.ev, got, tt.want)
			}
		})
	}
}

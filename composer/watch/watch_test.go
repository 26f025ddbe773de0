package watch_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/watch"
)

// waitTimeout bounds every wait for a call.
const waitTimeout = 5 * time.Second

// calls returns an onChange that reports each call on the channel.
func calls() (func(), chan struct{}) {
	c := make(chan struct{}, 64)
	return func() { c <- struct{}{} }, c
}

// waitCall waits for a call, failing the test after waitTimeout.
func waitCall(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitTimeout):
		t.Fatalf("no call within %s after %s", waitTimeout, what)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFolderTree(t *testing.T) {
	dir := t.TempDir()
	onChange, c := calls()
	stop, err := watch.Folder(t.Context(), dir, onChange, watch.Options{Name: "layouts", Tree: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	write(t, filepath.Join(dir, "home.html"), "v1")
	waitCall(t, c, "writing a file")
	sub := filepath.Join(dir, "partials")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	waitCall(t, c, "making a subfolder")
	write(t, filepath.Join(sub, "footer.html"), "v1")
	waitCall(t, c, "writing a file in a new subfolder")
}

func TestFolderComesBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layouts")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	onChange, c := calls()
	stop, err := watch.Folder(t.Context(), dir, onChange, watch.Options{Name: "layouts", Tree: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	waitCall(t, c, "the folder came back")
	write(t, filepath.Join(dir, "home.html"), "v2")
	waitCall(t, c, "writing a file in the folder that came back")
}

func TestFolderRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	write(t, path, "x")
	if _, err := watch.Folder(t.Context(), path, func() {}, watch.Options{Name: "layouts"}); err == nil {
		t.Fatal("watching a file as a folder: no error")
	}
}

func TestFileAtomicSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inlay.yaml")
	write(t, path, "v1")
	onChange, c := calls()
	stop, err := watch.File(t.Context(), path, "config", onChange, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	write(t, path, "v2")
	waitCall(t, c, "writing the file in place")
	tmp := filepath.Join(dir, ".inlay.yaml.tmp")
	write(t, tmp, "v3")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitCall(t, c, "an atomic save")
}

// TestFileConfigMapSwap swaps a ConfigMap volume's ..data link, as the
// kubelet does: the visible file is a link through ..data.
func TestFileConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"..v1", "..v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, v, "inlay.yaml"), v)
	}
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inlay.yaml")
	if err := os.Symlink(filepath.Join("..data", "inlay.yaml"), path); err != nil {
		t.Fatal(err)
	}
	onChange, c := calls()
	stop, err := watch.File(t.Context(), path, "config", onChange, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := os.Symlink("..v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	waitCall(t, c, "the ..data swap")
	if got, err := os.ReadFile(path); err != nil || string(got) != "..v2" {
		t.Fatalf("the config reads %q, %v after the swap, want ..v2", got, err)
	}
}

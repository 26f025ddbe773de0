package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Timing. A change is told within MaxDelay.
const (
	// Quiet is how long the folder must stay quiet before a call, so that
	// the burst of events one save makes (truncate and write, temp file
	// and rename, a ConfigMap swap) becomes one call on the result.
	Quiet = 100 * time.Millisecond
	// MaxDelay bounds how long a steady stream of events (a tool
	// rewriting a scratch file, a slow copy) can hold a call back.
	MaxDelay = 500 * time.Millisecond
	// rewatchEvery is how often a missing folder is looked for,
	// in case the watch on its parent folder missed its return.
	rewatchEvery = 250 * time.Millisecond
)

// configMapData is the link a Kubernetes ConfigMap (or Secret, projected)
// volume swaps to publish a new version: the kubelet writes the files into
// a new hidden ..TIMESTAMP folder, points a ..data_tmp link at it and
// renames ..data_tmp over ..data. The visible files are links through
// ..data, so the rename is the one event that says they all changed.
const configMapData = "..data"

// Options configure a Folder watch.
type Options struct {
	// Name says what is watched, in logs and errors: "layouts", "config".
	Name string
	// Tree watches the folder's non-hidden subfolders too, those made
	// later included. Like the layout registry, it does not follow links
	// to folders.
	Tree bool
	// Match, if not nil, reports whether a change to the entry with this
	// base name concerns the watch. Hidden names never do, but for the
	// ..data link a ConfigMap swaps, which always does. With Tree, a
	// subfolder made or removed concerns it whatever its name.
	Match func(base string) bool
	// Logger receives the watch's warnings. Nil means slog.Default().
	Logger *slog.Logger
}

// File calls onChange when the file at path changes: written in place,
// replaced by an editor's atomic save, or swapped in by a Kubernetes
// ConfigMap update (the ..data link). It watches the file's folder, since
// a replaced file is a new file. The returned function stops the watch and
// waits for its goroutine.
func File(ctx context.Context, path, name string, onChange func(), logger *slog.Logger) (func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watching the %s: %w", name, err)
	}
	base := filepath.Base(abs)
	return Folder(ctx, filepath.Dir(abs), onChange, Options{
		Name:   name,
		Match:  func(b string) bool { return b == base },
		Logger: logger,
	})
}

// Folder calls onChange whenever the folder dir changes, once per burst of
// events, and never while dir is missing.
//
// It watches dir, with opts.Tree its non-hidden subfolders, and, for dir's
// own entry, its parent folder. It calls onChange on changes to files, on
// editors' atomic saves (write a temp file, rename it over the original),
// and on the ..data swap of a Kubernetes ConfigMap volume. When dir
// disappears (removed, renamed away, a link to it replaced) it waits for
// dir to come back, watches it again and calls onChange.
//
// The returned function stops the watch and waits for its goroutine.
func Folder(ctx context.Context, dir string, onChange func(), opts Options) (func(), error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("watching %s in %s: %w", opts.Name, dir, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", opts.Name, err)
	}
	lw := &watcher{dir: abs, parent: filepath.Dir(abs), w: w, onChange: onChange, opts: opts, logger: opts.Logger}
	if err := lw.watchFolder(); err != nil {
		w.Close()
		return nil, err
	}
	if lw.parent != lw.dir {
		// The parent tells when dir is removed, renamed, replaced or back.
		// Without it (no permission, say) a missing dir is polled for.
		if err := w.Add(lw.parent); err != nil {
			lw.logger.Debug("not watching the folder's parent", slog.String("watch", opts.Name), slog.String("dir", lw.parent), slog.String("error", err.Error()))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { lw.run(ctx) })
	return func() {
		cancel()
		w.Close()
		wg.Wait()
	}, nil
}

// watcher is the state of one Folder goroutine. Only that goroutine
// touches it after start.
type watcher struct {
	dir, parent string // absolute
	w           *fsnotify.Watcher
	onChange    func()
	opts        Options
	logger      *slog.Logger

	watched []string // dir and its subfolders, as added to w
	missing bool     // dir is gone; its watches are dropped

	pending bool      // a call is due
	since   time.Time // first change of the pending call
}

// run handles events until ctx ends or the watcher is closed.
func (lw *watcher) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var rewatch *time.Ticker
	var rewatchC <-chan time.Time
	stopRewatch := func() {
		if rewatch != nil {
			rewatch.Stop()
			rewatch, rewatchC = nil, nil
		}
	}
	defer stopRewatch()
	schedule := func() {
		now := time.Now()
		if !lw.pending {
			lw.pending, lw.since = true, now
		}
		timer.Reset(max(0, min(Quiet, lw.since.Add(MaxDelay).Sub(now))))
	}
	for {
		wasMissing := lw.missing
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-lw.w.Events:
			if !ok {
				return
			}
			if lw.handle(ev) {
				schedule()
			}
		case err, ok := <-lw.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Some changes were not told: look at everything again.
				lw.logger.Warn("change events were lost; reloading", slog.String("watch", lw.opts.Name), slog.String("dir", lw.dir))
				schedule()
				continue
			}
			lw.logger.Warn("watching "+lw.opts.Name, slog.String("dir", lw.dir), slog.String("error", err.Error()))
		case <-rewatchC:
			if lw.rewatch() {
				schedule()
			}
		case <-timer.C:
			lw.pending = false
			lw.reload()
		}
		switch {
		case lw.missing && !wasMissing:
			lw.logger.Warn(lw.opts.Name+" folder is missing; what was loaded keeps serving until it is back", slog.String("dir", lw.dir))
			if rewatch == nil {
				rewatch = time.NewTicker(rewatchEvery)
				rewatchC = rewatch.C
			}
		case !lw.missing && wasMissing:
			lw.logger.Info(lw.opts.Name+" folder is back; reloading", slog.String("dir", lw.dir))
			stopRewatch()
		}
	}
}

// handle notes one event and reports whether the watched files may have
// changed.
func (lw *watcher) handle(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	if name == lw.dir {
		// From the parent folder, or the folder's own removal or move.
		switch {
		case ev.Has(fsnotify.Create):
			// Back, or a link to it replaced: its content may be all new.
			return lw.rewatch()
		case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
			lw.lose()
		}
		return false
	}
	if lw.parent != lw.dir && filepath.Dir(name) == lw.parent {
		return false // a sibling of the folder, told by the parent's watch
	}
	if ev.Op == fsnotify.Chmod {
		return false // touch, chmod: the content is the same
	}
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") && base != configMapData {
		// Editor swap and lock files, a ConfigMap's timestamped folders
		// and its ..data_tmp link: the registry skips them all. What
		// they prepare becomes visible through a rename that is told
		// under the file's own name, or as ..data.
		return false
	}
	if lw.opts.Tree && ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
			lw.watchTree(name)
			return true // it may have come with files in it
		}
	}
	if lw.opts.Match != nil && base != configMapData && !lw.opts.Match(base) {
		// Not a file of the watch's (a log written into the folder, an
		// editor's backup): unless it is a watched subfolder going away.
		return slices.Contains(lw.watched, name)
	}
	return true
}

// reload calls onChange. It does nothing while the folder is missing (or
// not a folder): a reload would find nothing there (the layout registry
// would drop every page's layout).
func (lw *watcher) reload() {
	if lw.missing {
		return
	}
	if fi, err := os.Stat(lw.dir); err != nil || !fi.IsDir() {
		lw.lose()
		return
	}
	lw.onChange()
}

// watchFolder watches dir and, with opts.Tree, its non-hidden subfolders.
func (lw *watcher) watchFolder() error {
	fi, err := os.Stat(lw.dir)
	if err != nil {
		return fmt.Errorf("watching %s: %w", lw.opts.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("watching %s in %s: not a folder", lw.opts.Name, lw.dir)
	}
	if err := lw.w.Add(lw.dir); err != nil {
		return fmt.Errorf("watching %s in %s: %w", lw.opts.Name, lw.dir, err)
	}
	lw.watched = append(lw.watched[:0], lw.dir)
	if lw.opts.Tree {
		lw.watchTree(lw.dir)
	}
	return nil
}

// watchTree adds a watch for every non-hidden folder under root, root
// included. Like the registry, it does not follow links to folders.
// Failures are logged: that folder's changes are then seen only when
// something else triggers a call.
func (lw *watcher) watchTree(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == lw.dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if err := lw.w.Add(path); err != nil {
			lw.logger.Warn("watching a subfolder", slog.String("watch", lw.opts.Name), slog.String("dir", path), slog.String("error", err.Error()))
			return nil
		}
		lw.watched = append(lw.watched, path)
		return nil
	})
}

// lose drops the watches of a folder that has gone away. A watch that
// followed the folder elsewhere (a rename) would report a stranger's
// changes.
func (lw *watcher) lose() {
	if lw.missing {
		return
	}
	for _, p := range lw.watched {
		_ = lw.w.Remove(p) // already gone with the folder, most often
	}
	lw.watched = lw.watched[:0]
	lw.missing = true
}

// rewatch watches dir again from scratch, when it is there. It reports
// whether dir is being watched.
func (lw *watcher) rewatch() bool {
	for _, p := range lw.watched {
		_ = lw.w.Remove(p)
	}
	lw.watched = lw.watched[:0]
	if err := lw.watchFolder(); err != nil {
		lw.missing = true
		return false
	}
	lw.missing = false
	return true
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/inlayhq/inlay/composer"
)

// Reload timing. A change shows within reloadMaxDelay plus one reload.
const (
	// reloadQuiet is how long the folder must stay quiet before a reload,
	// so that the burst of events one save makes (truncate and write, temp
	// file and rename, a ConfigMap swap) becomes one reload of the result.
	reloadQuiet = 100 * time.Millisecond
	// reloadMaxDelay bounds how long a steady stream of events (a tool
	// rewriting a scratch file, a slow copy) can hold a reload back.
	reloadMaxDelay = 500 * time.Millisecond
	// rewatchEvery is how often a missing layouts folder is looked for,
	// in case the watch on its parent folder missed its return.
	rewatchEvery = 250 * time.Millisecond
)

// configMapData is the link a Kubernetes ConfigMap (or Secret, projected)
// volume swaps to publish a new version: the kubelet writes the files into
// a new hidden ..TIMESTAMP folder, points a ..data_tmp link at it and
// renames ..data_tmp over ..data. The visible files are links through
// ..data, so the rename is the one event that says they all changed.
const configMapData = "..data"

// watchLayouts reloads layouts whenever the layouts folder dir changes.
// Problems are logged as FILE:LINE:COL messages; the last good layouts keep
// serving.
//
// It watches dir, its non-hidden subfolders and, for dir's own entry, its
// parent folder. It reloads on changes to layout files, on editors' atomic
// saves (write a temp file, rename it over the layout), and on the ..data
// swap of a Kubernetes ConfigMap volume. When dir disappears (removed,
// renamed away, a link to it replaced) it keeps the loaded layouts, waits
// for dir to come back, watches it again and reloads.
//
// The returned function stops the watcher and waits for its goroutine.
func watchLayouts(ctx context.Context, dir string, layouts *composer.Layouts, logger *slog.Logger) (func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("watching layouts in %s: %w", dir, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching layouts: %w", err)
	}
	lw := &layoutWatcher{dir: abs, parent: filepath.Dir(abs), w: w, layouts: layouts, logger: logger}
	if err := lw.watchFolder(); err != nil {
		w.Close()
		return nil, err
	}
	if lw.parent != lw.dir {
		// The parent tells when dir is removed, renamed, replaced or back.
		// Without it (no permission, say) a missing dir is polled for.
		if err := w.Add(lw.parent); err != nil {
			logger.Debug("not watching the layouts folder's parent", slog.String("dir", lw.parent), slog.String("error", err.Error()))
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

// layoutWatcher is the state of one watchLayouts goroutine. Only that
// goroutine touches it after start.
type layoutWatcher struct {
	dir, parent string // absolute
	w           *fsnotify.Watcher
	layouts     *composer.Layouts
	logger      *slog.Logger

	watched []string // dir and its subfolders, as added to w
	missing bool     // dir is gone; its watches are dropped

	pending bool      // a reload is due
	since   time.Time // first change of the pending reload
}

// run handles events until ctx ends or the watcher is closed.
func (lw *layoutWatcher) run(ctx context.Context) {
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
		timer.Reset(max(0, min(reloadQuiet, lw.since.Add(reloadMaxDelay).Sub(now))))
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
				lw.logger.Warn("layout change events were lost; reloading all layouts", slog.String("dir", lw.dir))
				schedule()
				continue
			}
			lw.logger.Warn("watching layouts", slog.String("dir", lw.dir), slog.String("error", err.Error()))
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
			lw.logger.Warn("layouts folder is missing; the loaded layouts keep serving until it is back", slog.String("dir", lw.dir))
			if rewatch == nil {
				rewatch = time.NewTicker(rewatchEvery)
				rewatchC = rewatch.C
			}
		case !lw.missing && wasMissing:
			lw.logger.Info("layouts folder is back; reloading", slog.String("dir", lw.dir))
			stopRewatch()
		}
	}
}

// handle notes one event and reports whether the layouts may have changed.
func (lw *layoutWatcher) handle(ev fsnotify.Event) bool {
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
		return false // a sibling of the layouts folder, told by the parent's watch
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
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
			lw.watchTree(name)
		}
	}
	return true
}

// reload reloads the layouts and logs the outcome. It does nothing while
// the folder is missing (or not a folder): the registry would find no
// layouts at all and drop every page's layout.
func (lw *layoutWatcher) reload() {
	if lw.missing {
		return
	}
	if fi, err := os.Stat(lw.dir); err != nil || !fi.IsDir() {
		lw.lose()
		return
	}
	problems := lw.layouts.Reload()
	for _, p := range problems {
		lw.logger.Error("layout rejected, last good version kept", slog.String("problem", p.Error()))
	}
	if len(problems) == 0 {
		lw.logger.Info("layouts reloaded", slog.Int("layouts", len(lw.layouts.Names())))
	}
	for _, w := range lw.layouts.Warnings() {
		lw.logger.Warn("layout warning", slog.String("problem", w.Error()))
	}
}

// watchFolder watches dir and its non-hidden subfolders.
func (lw *layoutWatcher) watchFolder() error {
	fi, err := os.Stat(lw.dir)
	if err != nil {
		return fmt.Errorf("watching layouts: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("watching layouts in %s: not a folder", lw.dir)
	}
	if err := lw.w.Add(lw.dir); err != nil {
		return fmt.Errorf("watching layouts in %s: %w", lw.dir, err)
	}
	lw.watched = append(lw.watched[:0], lw.dir)
	lw.watchTree(lw.dir)
	return nil
}

// watchTree adds a watch for every non-hidden folder under root, root
// included. Like the registry, it does not follow links to folders.
// Failures are logged: that folder's changes are then seen only when
// something else triggers a reload.
func (lw *layoutWatcher) watchTree(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == lw.dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if err := lw.w.Add(path); err != nil {
			lw.logger.Warn("watching a layouts subfolder", slog.String("dir", path), slog.String("error", err.Error()))
			return nil
		}
		lw.watched = append(lw.watched, path)
		return nil
	})
}

// lose drops the watches of a folder that has gone away. A watch that
// followed the folder elsewhere (a rename) would report a stranger's
// changes.
func (lw *layoutWatcher) lose() {
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
func (lw *layoutWatcher) rewatch() bool {
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

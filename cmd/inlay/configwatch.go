package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// configReloadDelay gathers the events of one save (or one ConfigMap swap)
// into one reload.
const configReloadDelay = 200 * time.Millisecond

// watchConfig calls reload when the config file changes: written in place,
// replaced by an editor's atomic save, or swapped in by a Kubernetes
// ConfigMap update (the ..data link). It watches the file's folder, since a
// replaced file is a new file. The returned function stops it.
func watchConfig(ctx context.Context, path string, reload func(), logger *slog.Logger) (func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watching the config: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching the config: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching the config's folder: %w", err)
	}
	name := filepath.Base(abs)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				base := filepath.Base(ev.Name)
				if ev.Op != fsnotify.Chmod && (base == name || base == configMapData) {
					timer.Reset(configReloadDelay)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				logger.Warn("watching the config", slog.String("error", err.Error()))
			case <-timer.C:
				reload()
			}
		}
	})
	return func() {
		cancel()
		w.Close()
		wg.Wait()
	}, nil
}

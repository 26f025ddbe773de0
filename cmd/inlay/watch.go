package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/inlayhq/inlay/composer"
)

// reloadDelay gathers the burst of events one save makes into one reload.
const reloadDelay = 100 * time.Millisecond

// watchLayouts reloads layouts whenever a file in dir changes. Problems are
// logged as FILE:LINE:COL messages; the last good layouts keep serving.
// The returned function stops the watcher and waits for it.
func watchLayouts(ctx context.Context, dir string, layouts *composer.Layouts, logger *slog.Logger) (func(), error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching layouts: %w", err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching layouts in %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Op != fsnotify.Chmod {
					timer.Reset(reloadDelay)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				logger.Warn("watching layouts", slog.String("error", err.Error()))
			case <-timer.C:
				problems := layouts.Reload()
				for _, p := range problems {
					logger.Error("layout rejected, last good version kept", slog.String("problem", p.Error()))
				}
				if len(problems) == 0 {
					logger.Info("layouts reloaded", slog.Int("layouts", len(layouts.Names())))
				}
			}
		}
	})
	return func() {
		cancel()
		w.Close()
		wg.Wait()
	}, nil
}

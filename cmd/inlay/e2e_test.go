package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser for end-to-end tests.
func chromiumPath(t *testing.T) string {
	t.Helper()
	return toolPath(t, "chromium", "chromium", "chromium-browser")
}

// toolPath finds a program a test runs: the first of names found in PATH
// (a name with a slash is tried as it is), from the Debian package pkg.
// In CI a missing program is a failure, elsewhere the test is skipped
// and says so.
func toolPath(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed: .ci/run must install %s", names[0], pkg)
	}
	t.Skipf("%s is not installed: skipping the test (apt-get install %s to run it)", names[0], pkg)
	return ""
}

// startDemo runs the demo shop on a free loopback port until the test ends,
// and returns its public URL, http://localhost:PORT, as its banner prints
// it.
func startDemo(t *testing.T) string {
	t.Helper()
	opts := &demoOptions{
		ConfigPath: "../../layouts/inlay.yaml",
		Listen:     "127.0.0.1:0",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	startInlay(t, "demo", func(ctx context.Context, ready func(string)) error {
		opts.Ready = ready
		return runDemo(ctx, opts)
	})
	return opts.shopURL // set before Ready is called
}

// browserStarts is how many times newBrowser starts Chromium before it
// gives up: on a loaded machine a start now and then ends before the
// browser says where it listens ("chrome failed to start"), and the next
// one works. A browser that never starts still fails the test.
const browserStarts = 3

// newBrowser starts headless Chromium for one test.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	for start := 1; ; start++ {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		err := chromedp.Do(ctx) // starts the browser, with no deadline of its own
		if err == nil {
			ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
			t.Cleanup(func() {
				cancelTimeout()
				cancelCtx()
				cancelAlloc()
			})
			return ctx
		}
		cancelCtx()
		cancelAlloc()
		if start == browserStarts {
			t.Fatalf("chromium did not start in %d tries: %v", browserStarts, err)
		}
		t.Logf("chromium did not start (try %d of %d), starting it again: %v", start, browserStarts, err)
	}
}

// text returns the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// count returns how many elements match a CSS selector.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// waitFor polls a JavaScript condition until it holds or 10s pass. The page
// may be navigating meanwhile (a form post and its redirect), which destroys
// the context a single poll runs in, so each poll is retried.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(time.Until(deadline)))); err == nil {
			return
		}
	}
	t.Fatalf("waiting for %s: %v", cond, err)
}

// TestShopperSearchesAndFillsTheBasket drives the demo shop in a real
// browser: search, open a product, add it to the basket, and see the
// header's basket count change.
func TestShopperSearchesAndFillsTheBasket(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base := startDemo(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-testid="basket-count"]`),
	); err != nil {
		t.Fatalf("home page: %v", err)
	}
	if got := text(t, ctx, `[data-testid="basket-count"]`); got != "0" {
		t.Fatalf("basket count on a new visit: got %q, want 0", got)
	}

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`[data-testid="search-input"]`, "sneaker"),
		chromedp.Click(`[data-testid="search-submit"]`),
		chromedp.WaitVisible(`[data-testid="product-tile"]`),
	); err != nil {
		t.Fatalf("searching: %v", err)
	}
	if n := count(t, ctx, `[data-testid="product-tile"]`); n < 1 {
		t.Fatalf("search for sneaker shows %d tiles", n)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="product-tile"]`),
		chromedp.WaitVisible(`[data-testid="product-name"]`),
	); err != nil {
		t.Fatalf("opening a product: %v", err)
	}
	productName := text(t, ctx, `[data-testid="product-name"]`)
	if !strings.Contains(strings.ToLower(productName), "sneaker") {
		t.Errorf("opened product %q, want a sneaker", productName)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="add-to-basket"]`),
		chromedp.WaitVisible(`[data-testid="product-name"]`),
	); err != nil {
		t.Fatalf("adding %q to the basket: %v", productName, err)
	}
	waitFor(t, ctx, `document.querySelector('[data-testid="basket-count"]')?.textContent.trim() === "1"`)

	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="mini-basket"]`),
		chromedp.WaitVisible(`[data-testid="basket-line"]`),
	); err != nil {
		t.Fatalf("basket page: %v", err)
	}
	lines := count(t, ctx, `[data-testid="basket-line"]`)
	lineText := text(t, ctx, `[data-testid="basket-line"]`)
	if lines != 1 || !strings.Contains(lineText, productName) {
		t.Errorf("basket shows %d lines %q, want one line for %q", lines, lineText, productName)
	}
}

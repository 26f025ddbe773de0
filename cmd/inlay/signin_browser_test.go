package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/cmd/inlay/demo"
)

// L1, L10: the demo signs in, in a real browser: "Sign in" in the
// header's personal box, the provider's login form with a demo shopper,
// the shopper's name in the header, /account, and logout.
func TestShopperSignsInAndOut(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base := startDemo(t)
	ada := demo.Shoppers[0]

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-testid="sign-in"]`),
		chromedp.Click(`[data-testid="sign-in"]`),
		chromedp.WaitVisible(`#username`),
		chromedp.SendKeys(`#username`, ada.Username),
		chromedp.SendKeys(`#password`, ada.Password),
		chromedp.Click(`#submit`),
		chromedp.WaitVisible(`[data-testid="account-name"]`),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if got := text(t, ctx, `[data-testid="account-name"]`); got != ada.Name {
		t.Errorf("header shows %q, want %q", got, ada.Name)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, base+"/") {
		t.Errorf("after sign-in the shopper is at %q: %v", loc, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="account-name"]`),
		chromedp.WaitVisible(`[data-testid="account-page-name"]`),
	); err != nil {
		t.Fatalf("opening /account: %v", err)
	}
	if got := text(t, ctx, `[data-testid="account-page-name"]`); got != ada.Name {
		t.Errorf("account page shows %q", got)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="sign-out"]`),
	); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	waitFor(t, ctx, `document.querySelector('[data-testid="sign-in"]') !== null`)
	// Signed out, /account sends the shopper to sign in again.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(`#username`),
	); err != nil {
		t.Fatalf("/account after logout: %v", err)
	}
}

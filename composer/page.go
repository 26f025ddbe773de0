package composer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/contract"
)

// page composes one layout for one shopper request.
type page struct {
	eng       *pageEngine
	layout    *layout.Layout
	r         *http.Request
	requestID string
	params    params
	// inOrder streams async fragments in document order too: for
	// crawlers, and for pages configured so.
	inOrder bool
	// debug shows the debug view: every box outlined and labelled.
	debug bool
	// noCache fetches every fragment past the cache: a hard reload in
	// dev mode.
	noCache bool
	context pageContext
	// started is when the request arrived; headerAt when its headers left.
	started, headerAt time.Time
	// errStatus is the status of an error page composed from a layout;
	// zero on other pages. errDetail says why, in dev mode.
	errStatus int
	// errBack is the error page's way back, for {back}: see backLink.
	errBack   string
	errDetail *errorDetail

	outcomes []outcome
	done     []chan struct{} // done[i] is closed when outcomes[i] is set; nil while sent[i] waits
	sent     []sentFetch     // sent[i].p is slot i's request sent with the others, its answer not read yet
}

// outcome is what one slot will show.
type outcome struct {
	// resp is the response whose body fills the slot: from the src, or from
	// fallback-src when fromFallback. Nil means the inline fallback.
	resp         *fragments.Response
	fromFallback bool
	// err is why the src failed, if it did.
	err      error
	duration time.Duration
	// report is what the fetch layers said about the src fetch.
	report fragments.Report
}

// errStatus is the failure of a fragment whose status cannot fill its slot.
type errStatus struct{ status int }

func (e errStatus) Error() string { return fmt.Sprintf("status %d", e.status) }

// params looks up {name} values: route parameters first, then the query.
// It is read by all of a page's fetches at once, so it is filled before
// they start and never written after.
type params struct {
	names, values []string
	query         url.Values
}

func newParams(names, values []string, r *http.Request, l *layout.Layout) params {
	p := params{names: names, values: values}
	if l.UsesParams() && r.URL.RawQuery != "" {
		p.query = r.URL.Query()
	}
	return p
}

func (p *params) get(name string) string {
	for i, n := range p.names {
		if n == name {
			return p.values[i]
		}
	}
	return p.query.Get(name)
}

// compose fetches every slot at once and streams the page.
func (pg *page) compose(w http.ResponseWriter, pageTimeout time.Duration) {
	// The page deadline's context is made for the first fetch that needs
	// one: a page served from fresh cache entries has none and no timer.
	var ctx context.Context
	cancel := context.CancelFunc(func() {})
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		// Answers the page did not come to: their fetches end at once.
		for i := range pg.sent {
			if pg.sent[i].p != nil {
				pg.await(i)
			}
		}
		// The bodies are written: their memory leaves the in-flight budget.
		for i := range pg.outcomes {
			pg.outcomes[i].resp.Release()
		}
	}()

	l := pg.layout
	n := len(l.Slots)
	pg.outcomes = make([]outcome, n)
	pg.done = make([]chan struct{}, n)
	var asyncDone chan int // indexes of async slots as they finish
	if l.AsyncSlots() > 0 && !pg.inOrder {
		asyncDone = make(chan int, l.AsyncSlots())
	}
	head := pg.r.Method == http.MethodHead
	// One allocation for every slot's request and header fields.
	reqs := make([]fragments.Request, n)
	fields := make([]fragments.Field, 0, fieldRoom(l))
	var fetchPrimary func() // set when the primary is fetched on this goroutine
	// Boxes no cache holds are sent all at once and read in document
	// order on this goroutine (fragments.Engine.Start), unless async
	// boxes stream as they come: then every box has its goroutine.
	sendAll := asyncDone == nil
	for i, slot := range l.Slots {
		if head && !slot.Primary {
			pg.done[i] = closedChan // a HEAD needs the primary's status, not the boxes
			continue
		}
		if ctx == nil && pg.eng.tracer != nil {
			ctx, cancel = withDeadline(pg.r.Context(), pageTimeout)
		}
		fctx, span := pg.startSpan(ctx, slot)
		// The request is whole before any goroutine sees it: its key,
		// headers and trace context never change after.
		req := &reqs[i]
		req.Report = &pg.outcomes[i].report
		pg.fillRequest(fctx, req, slot, slot.Src, slot.Timeout, fields[len(fields):len(fields):cap(fields)])
		if end := len(fields) + len(req.Fields); end <= cap(fields) {
			fields = fields[:end]
		}
		if pg.freshHit(slot, req, &pg.outcomes[i]) {
			pg.done[i] = closedChan
			continue
		}
		if ctx == nil {
			ctx, cancel = withDeadline(pg.r.Context(), pageTimeout)
			fctx = ctx
		}
		if sendAll {
			if p := pg.eng.fetch.Start(fctx, req); p != nil {
				if pg.sent == nil {
					pg.sent = make([]sentFetch, n)
				}
				pg.sent[i] = sentFetch{p: p, ctx: fctx, span: span, start: time.Now()}
				if i == l.Primary && pg.errStatus == 0 {
					fetchPrimary = func() { pg.await(l.Primary) }
				}
				continue
			}
		}
		pg.done[i] = make(chan struct{})
		fetch := func() {
			pg.outcomes[i] = pg.safeFetchSlot(fctx, slot, req, span, nil)
			close(pg.done[i])
			if slot.Async && asyncDone != nil {
				asyncDone <- i
			}
		}
		if i == l.Primary && pg.errStatus == 0 {
			// This goroutine waits for the primary before anything is
			// written, so it fetches the primary itself: one goroutine
			// (and its stack) less per page.
			fetchPrimary = fetch
			continue
		}
		wg.Go(fetch)
	}

	status := http.StatusOK
	h := w.Header()
	if p := l.Primary; p >= 0 && pg.errStatus == 0 { // an error page has no primary: its status is the error's
		pg.earlyHints(w, reqs)
		if fetchPrimary != nil {
			fetchPrimary()
		}
		<-pg.done[p]
		o := &pg.outcomes[p]
		if o.resp == nil {
			pg.headerAt = time.Now()
			pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], o.err)
			return
		}
		status = o.resp.Status
		if !o.fromFallback {
			var ok bool
			if status, ok = contract.PageStatus(status); !ok {
				pg.headerAt = time.Now()
				pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], fmt.Errorf("status %d is no answer to a page", o.resp.Status))
				return
			}
			if ok := primaryHeaders(h, pg.r, o.resp); !ok {
				pg.headerAt = time.Now()
				pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], errors.New("invalid Location header"))
				return
			}
		} else {
			status = http.StatusOK
		}
		if contract.IsRedirect(status) {
			pg.headerAt = time.Now()
			w.WriteHeader(status)
			return
		}
		if (status == http.StatusNotFound || status == http.StatusGone) && !o.fromFallback {
			if pg.eng.hasErrorPage(status) {
				// The designers' page for it: the layout's other boxes
				// (add to basket, say) make no sense for what is not there.
				pg.headerAt = time.Now()
				cancel()
				pg.eng.errorPage(w, pg.r, status, nil)
				return
			}
		}
	}
	// Shared, capacity-capped values: a later Add copies, never writes them.
	h["Content-Type"] = htmlContentType
	h["Cache-Control"] = privateNoCache
	h["Date"] = dateHeader(time.Now())
	if pg.errStatus != 0 {
		status = pg.errStatus
		h.Set("Cache-Control", "no-store")
	}
	if pg.debug {
		h.Set("Cache-Control", "no-store")
	}
	if head {
		pg.sendHeaders(w, status)
		return
	}
	// A page whose boxes are all known is held whole, and so is one whose
	// other boxes were sent together: their answers are small and most
	// often here by now. Should one of them keep the page waiting after
	// all, or the page grow past maxHeldPage, it streams from there on.
	s := newStream(pg, w, status, pg.allSent() && pg.size() <= maxHeldPage)
	defer s.release()
	s.debug = pg.debug
	if asyncDone != nil && s.streaming { // async boxes are never sent together
		s.nonce = newNonce()
		h.Set("Content-Security-Policy", "script-src 'self' 'nonce-"+s.nonce+"'; object-src 'none'; base-uri 'self'")
	}
	if s.streaming {
		pg.sendHeaders(w, status)
	}

	// state[i] tracks async slots: 0 not reached yet, placeholderShown
	// while its content is to follow, contentShown once it is on the page.
	state := make([]uint8, n)
	pending := 0
	showAsync := func(j int) {
		if state[j] == placeholderShown {
			s.asyncContent(j, l.Slots[j], &pg.outcomes[j])
			state[j] = contentShown
			pending--
		}
	}
	var onBlock func()
	if pg.sent != nil {
		onBlock = s.flushBeforeWait
	}
	for i, slot := range l.Slots {
		s.write(pg.errorChunk(l.Chunks()[i]))
		if pg.sent != nil && pg.sent[i].p != nil {
			pg.sent[i].onBlock = onBlock
			if pg.await(i); s.waited {
				s.waited = false
				s.extendDeadline() // the wait was ours, not the shopper's
			}
		}
		if slot.Async && asyncDone != nil && !isDone(pg.done[i]) {
			s.placeholder(i, slot, pg.placeholderContent(slot))
			state[i] = placeholderShown
			pending++
			continue
		}
		for !isDone(pg.done[i]) {
			s.flush() // the next slot is not ready: let the shopper have what we have
			select {
			case <-pg.done[i]:
			case j := <-asyncDone:
				showAsync(j) // an earlier async box answered first
			}
			s.extendDeadline() // the wait was ours, not the shopper's
		}
		s.slot(slot, &pg.outcomes[i])
		state[i] = contentShown
		if s.err != nil {
			return // the shopper went away
		}
	}
	last := l.Chunks()[n]
	s.write(pg.errorChunk(last[:l.TailAt()]))
	for pending > 0 && s.err == nil {
		s.flush()
		j := <-asyncDone
		s.extendDeadline()
		showAsync(j)
	}
	s.debugEnd()
	if pg.eng.overlay != nil {
		pg.writeErrorDetail(s)
		pg.eng.overlay(s)
	}
	s.write(pg.errorChunk(last[l.TailAt():]))
	if s.streaming {
		s.end()
		return
	}
	h["Content-Length"] = []string{strconv.Itoa(s.page.Len())}
	// Headers and body in one write to the shopper's connection, where
	// the front door allows it: Go's server would make two of a page over
	// 4 KiB.
	held := frontdoor.Hold(pg.r)
	defer held.Release()
	pg.sendHeaders(w, status)
	_, _ = w.Write(s.page.Bytes())
	if held.Active() && s.flusher != nil {
		s.flusher.Flush()
	}
}

// await reads the answer of slot i, whose request was sent with the
// others, on the page's goroutine.
func (pg *page) await(i int) {
	sent := &pg.sent[i]
	slot := pg.layout.Slots[i]
	pg.outcomes[i] = pg.safeFetchSlot(sent.ctx, slot, sent.p.Request(), sent.span, sent)
	sent.p = nil
	pg.done[i] = closedChan
}

// sendHeaders sends the page's headers with status. The boxes' cookies
// and timings go with them, from every box read by the time they leave:
// for a page sent whole, all of them.
func (pg *page) sendHeaders(w http.ResponseWriter, status int) {
	h := w.Header()
	pg.passCookies(h)
	if pg.errStatus != 0 {
		h.Del("Set-Cookie")
	}
	if timing := pg.serverTiming(); timing != "" {
		h["Server-Timing"] = []string{timing}
	}
	pg.headerAt = time.Now()
	w.WriteHeader(status)
}

// withDeadline is context.WithTimeout; compose calls its cancel in a
// deferred function that vet's lostcancel check cannot follow.
func withDeadline(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d)
}

// maxHeldPage is the largest page sent whole, with a Content-Length, in
// one write; a larger one streams even when every box is known, rather
// than copying megabytes of fragments into one more buffer.
const maxHeldPage = 256 << 10

// size is the page's size before async boxes and assets: its layout and
// its boxes' bodies.
func (pg *page) size() int {
	n := pg.layout.StaticBytes()
	for i := range pg.outcomes {
		if r := pg.outcomes[i].resp; r != nil {
			n += len(r.Body)
		}
	}
	return n
}

// allSent reports whether every slot's outcome is known or its request
// was sent with the others and is still to read.
func (pg *page) allSent() bool {
	for i, d := range pg.done {
		if !isDone(d) && (pg.sent == nil || pg.sent[i].p == nil) {
			return false
		}
	}
	return true
}

// Header values every page sends.
var (
	htmlContentType = []string{"text/html; charset=utf-8"}[:1:1]
	privateNoCache  = []string{"private, no-cache"}[:1:1]
)

// closedChan is the done channel of slots known before any goroutine runs.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// States of an async slot on the page.
const (
	placeholderShown = 1 + iota
	contentShown
)

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

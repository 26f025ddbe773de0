package composer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
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
	// contextVals holds context's header values, and sharedFields the
	// fields the fetches to the page's first service share (see
	// pageFieldSets): in the page, so that a recycled page allocates
	// neither.
	contextVals  [pageContextValues]string
	sharedFields [sharedFieldsRoom]fetch.Field
	// started is when the request arrived; headerAt when its headers left.
	started, headerAt time.Time
	// errStatus is the status of an error page composed from a layout;
	// zero on other pages. errDetail says why, in dev mode.
	errStatus int
	// errBack is the error page's way back, for {back}: see backLink.
	errBack   string
	errDetail *errorDetail

	slots    []slotState // slots[i] is layout slot i's
	fetches  []slotFetch // fetches[i] is slot i's fetch, begun by start and not answered at once; empty while none is
	deadline pageDeadline
	// quiet is set by settle when the page's deadline left no goroutine
	// behind (see pageDeadline.cancel): one condition of recyclable.
	quiet bool
	// asyncDone gives the indexes of async slots as they finish, when
	// they stream as they come; nil when the page is written in document
	// order.
	asyncDone chan int
	boxes     sync.WaitGroup // the goroutines that read slots of a page with async boxes
	stream    stream         // the page's writing, made by write (newStream)
}

// slotState is what a page knows of one of its slots: one allocation
// holds them all.
type slotState struct {
	out  outcome
	done chan struct{}  // closed once out is set; nil while the page reads the slot itself
	req  fetch.Request  // the slot's request, for the early hints too
	own  [1]fetch.Field // the request's own field, beside the page's
}

// outcome is what one slot will show.
type outcome struct {
	// resp is the response whose body fills the slot: from the src, or from
	// fallback-src when fromFallback. Nil means the inline fallback.
	resp         *fetch.Response
	fromFallback bool
	// err is why the src failed, if it did.
	err      error
	duration time.Duration
	// report is what the fetch layers said about the src fetch.
	report fetch.Report
	// quiet says nothing but the page can still hold the src fetch's
	// request or context (fragments.Pending.Quiet): one condition of
	// recyclable.
	quiet bool
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

// compose fetches every slot at once and streams the page, in three
// steps over the page's fetches: start begins them all, head writes the
// head (early hints, the primary's status, the headers), and write the
// body in document order and then the async tail.
func (pg *page) compose(w http.ResponseWriter, pageTimeout time.Duration) {
	defer pg.settle()
	pg.start(pageTimeout)
	status, ok := pg.head(w)
	if !ok {
		return
	}
	pg.write(w, status)
}

// settle ends what compose leaves behind once the page is written: the
// fetches it did not read, and the bodies' hold on the in-flight budget.
func (pg *page) settle() {
	pg.quiet = pg.deadline.cancel()
	pg.boxes.Wait()
	// Answers the page did not come to: their fetches end at once.
	for i := range pg.fetches {
		if pg.fetches[i].begun() && pg.slots[i].done == nil {
			pg.read(i)
		}
	}
	// The bodies are written: their memory leaves the in-flight budget.
	for i := range pg.slots {
		pg.slots[i].out.resp.Release()
	}
}

// start begins every slot's fetch (fragments.Engine.Start). A fresh cache
// entry is read at once. An answer sent together with the others is read
// in document order on the page's goroutine, unless async boxes stream as
// they come. Any other answer is taken in on a goroutine of its own as
// soon as it comes, so that a box that answers before the primary has its
// cookies and its timing in the page's headers.
func (pg *page) start(pageTimeout time.Duration) {
	l := pg.layout
	n := len(l.Slots)
	pg.slots = slices.Grow(pg.slots[:0], n)[:n] // a recycled page's room, cleared by recycle
	if l.AsyncSlots() > 0 && !pg.inOrder {
		pg.asyncDone = make(chan int, l.AsyncSlots())
	}
	var shared pageFieldSets // the fields each service's fetches share
	// The page's time runs from when its request arrived.
	now := pg.started
	pg.deadline.parent, pg.deadline.deadline = pg.r.Context(), now.Add(pageTimeout)
	var ctx context.Context = &pg.deadline
	head := pg.r.Method == http.MethodHead
	var scratch slotFetch // where each fetch begins: one answered at once is read from here
	for i, slot := range l.Slots {
		if head && !slot.Primary {
			pg.slots[i].done = closedChan // a HEAD needs the primary's status, not the boxes
			continue
		}
		sf := &scratch
		*sf = slotFetch{}
		sf.ctx, sf.span = pg.startSpan(ctx, slot)
		// The request is whole before any goroutine sees it: its key,
		// headers and trace context never change after.
		req := &pg.slots[i].req
		pg.fillRequest(sf.ctx, req, slot, slot.Src, slot.Timeout, shared.of(pg, slot.Src.Service), &pg.slots[i].own)
		pg.eng.fetch.Start(sf.ctx, req, &sf.p)
		if sf.p.Answered() {
			// A fresh cache entry, or an answer already failed: read at
			// once, in no time. A request just sent is not asked whether
			// its answer came: it has not, and asking costs a read.
			pg.slots[i].out = pg.safeFetchSlot(slot, sf)
			pg.slots[i].done = closedChan
			continue
		}
		if len(pg.fetches) == 0 {
			pg.fetches = slices.Grow(pg.fetches, n)[:n] // as the slots
		}
		pg.fetches[i] = *sf // a Pending may move before its Wait
		held := &pg.fetches[i]
		held.start = now
		switch {
		case pg.asyncDone != nil || !held.p.SentTogether():
			pg.slots[i].done = make(chan struct{})
			pg.boxes.Go(func() {
				pg.slots[i].out = pg.safeFetchSlot(slot, held)
				close(pg.slots[i].done)
				if slot.Async && pg.asyncDone != nil {
					pg.asyncDone <- i
				}
			})
		}
	}
}

// read reads slot i's answer on the page's goroutine.
func (pg *page) read(i int) {
	pg.slots[i].out = pg.safeFetchSlot(pg.layout.Slots[i], &pg.fetches[i])
	pg.slots[i].done = closedChan
}

// head waits for the primary, settles the page's status and sets its
// headers. It reports false when the response is already whole: the
// primary failed or redirects, an error page answered for it, or the
// request is a HEAD.
func (pg *page) head(w http.ResponseWriter) (status int, ok bool) {
	status = http.StatusOK
	if p := pg.layout.Primary; p >= 0 && pg.errStatus == 0 { // an error page has no primary: its status is the error's
		if status, ok = pg.primaryStatus(w); !ok {
			return 0, false
		}
	}
	h := w.Header()
	// Shared, capacity-capped values: a later Add copies, never writes them.
	h["Content-Type"] = htmlContentType
	h["Cache-Control"] = privateNoCache
	h["X-Accel-Buffering"] = noBuffering
	h["Date"] = dateHeader(time.Now())
	if pg.errStatus != 0 {
		status = pg.errStatus
		h.Set("Cache-Control", "no-store")
	}
	if pg.debug {
		h.Set("Cache-Control", "no-store")
	}
	if pg.r.Method == http.MethodHead {
		pg.sendHeaders(w, status)
		return 0, false
	}
	return status, true
}

// primaryStatus sends the early hints, waits for the primary and gives
// the page's status from its answer, with the primary's headers set. It
// reports false when it has answered the request itself.
func (pg *page) primaryStatus(w http.ResponseWriter) (status int, ok bool) {
	l := pg.layout
	p := l.Primary
	pg.earlyHints(w)
	if pg.slots[p].done == nil {
		pg.read(p)
	}
	<-pg.slots[p].done
	o := &pg.slots[p].out
	if o.resp == nil {
		pg.headerAt = time.Now()
		pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], o.err)
		return 0, false
	}
	status = o.resp.Status
	if !o.fromFallback {
		if status, ok = contract.PageStatus(status); !ok {
			pg.headerAt = time.Now()
			pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], fmt.Errorf("status %d is no answer to a page", o.resp.Status))
			return 0, false
		}
		if ok := primaryHeaders(w.Header(), pg.r, o.resp); !ok {
			pg.headerAt = time.Now()
			pg.eng.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], errors.New("invalid Location header"))
			return 0, false
		}
	} else {
		status = http.StatusOK
	}
	if contract.IsRedirect(status) {
		pg.headerAt = time.Now()
		w.WriteHeader(status)
		return 0, false
	}
	if (status == http.StatusNotFound || status == http.StatusGone) && !o.fromFallback {
		if pg.eng.hasErrorPage(status) {
			// The designers' page for it: the layout's other boxes
			// (add to basket, say) make no sense for what is not there.
			pg.headerAt = time.Now()
			pg.deadline.cancel()
			pg.eng.errorPage(w, pg.r, status, nil)
			return 0, false
		}
	}
	return status, true
}

// write writes the page's body: its slots in document order, then the
// async boxes still to come, then the layout's tail. The page streams,
// or is held whole and sent in one write.
func (pg *page) write(w http.ResponseWriter, status int) {
	asyncDone := pg.asyncDone
	// A page whose boxes are all known is held whole, and so is one whose
	// other boxes were sent together: their answers are small and most
	// often here by now. Should one of them keep the page waiting after
	// all, or the page grow past maxHeldPage, it streams from there on.
	s := newStream(pg, w, status, pg.allSent() && pg.size() <= maxHeldPage)
	defer s.release()
	s.debug = pg.debug
	if asyncDone != nil && s.streaming {
		s.nonce = newNonce()
		w.Header().Set("Content-Security-Policy", "script-src 'self' 'nonce-"+s.nonce+"'; object-src 'none'; base-uri 'self'")
	}
	if s.streaming {
		pg.sendHeaders(w, status)
	}

	a := asyncBoxes{state: make([]uint8, len(pg.layout.Slots)), done: asyncDone}
	if !pg.writeSlots(s, &a) {
		return // the shopper went away
	}
	pg.writeTail(s, &a)
	if s.streaming {
		s.end()
		return
	}
	pg.sendHeld(w, s, status)
}

// asyncBoxes tracks a page's async slots as they are written.
type asyncBoxes struct {
	// state[i] is 0 while slot i is not reached yet, placeholderShown
	// while its content is to follow, contentShown once it is on the page.
	state []uint8
	// pending counts the placeholders whose content is to follow.
	pending int
	// done gives the indexes of async slots as they finish; nil when the
	// page is written in document order.
	done chan int
}

// showAsync writes async slot j's content in place of its placeholder, if it
// has one.
func (pg *page) showAsync(s *stream, a *asyncBoxes, j int) {
	if a.state[j] == placeholderShown {
		s.asyncContent(j, pg.layout.Slots[j], &pg.slots[j].out)
		a.state[j] = contentShown
		a.pending--
	}
}

// writeSlots writes the layout's chunks and slots in document order: an
// async slot not answered yet gets its placeholder, and any other slot is
// waited for. It reports false when the shopper went away.
func (pg *page) writeSlots(s *stream, a *asyncBoxes) bool {
	l := pg.layout
	for i, slot := range l.Slots {
		s.write(pg.errorChunk(l.Chunks()[i]))
		if pg.slots[i].done == nil {
			// Read on the page's goroutine: when the answer is not here
			// yet, the shopper gets what the page has first.
			if !pg.fetches[i].p.Ready() {
				s.flushBeforeWait()
			}
			if pg.read(i); s.waited {
				s.waited = false
				s.extendDeadline() // the wait was ours, not the shopper's
			}
		}
		if slot.Async && a.done != nil && !isDone(pg.slots[i].done) {
			s.placeholder(i, slot, pg.placeholderContent(slot))
			a.state[i] = placeholderShown
			a.pending++
			continue
		}
		for !isDone(pg.slots[i].done) {
			s.flush() // the next slot is not ready: let the shopper have what we have
			select {
			case <-pg.slots[i].done:
			case j := <-a.done:
				pg.showAsync(s, a, j) // an earlier async box answered first
			}
			s.extendDeadline() // the wait was ours, not the shopper's
		}
		s.slot(slot, &pg.slots[i].out)
		a.state[i] = contentShown
		if s.err != nil {
			return false
		}
	}
	return true
}

// writeTail writes the async boxes still to come as they answer, then the
// debug view's end, the dev overlay and the layout's last chunk.
func (pg *page) writeTail(s *stream, a *asyncBoxes) {
	l := pg.layout
	last := l.Chunks()[len(l.Slots)]
	s.write(pg.errorChunk(last[:l.TailAt()]))
	for a.pending > 0 && s.err == nil {
		s.flush()
		j := <-a.done
		s.extendDeadline()
		pg.showAsync(s, a, j)
	}
	s.debugEnd()
	if pg.eng.overlay != nil {
		pg.writeErrorDetail(s)
		pg.eng.overlay(s)
	}
	s.write(pg.errorChunk(last[l.TailAt():]))
}

// sendHeld sends a page held whole: headers and body in one write to the
// shopper's connection, where the front door allows it: Go's server would
// make two of a page over 4 KiB.
func (pg *page) sendHeld(w http.ResponseWriter, s *stream, status int) {
	w.Header()["Content-Length"] = []string{strconv.Itoa(s.page.Len())}
	held := frontdoor.Hold(pg.r)
	defer held.Release()
	pg.sendHeaders(w, status)
	_, _ = w.Write(s.page.Bytes())
	if held.Active() && s.flusher != nil {
		s.flusher.Flush()
	}
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

// maxHeldPage is the largest page sent whole, with a Content-Length, in
// one write; a larger one streams even when every box is known, rather
// than copying megabytes of fragments into one more buffer.
const maxHeldPage = 256 << 10

// size is the page's size before async boxes and assets: its layout and
// its boxes' bodies.
func (pg *page) size() int {
	n := pg.layout.StaticBytes()
	for i := range pg.slots {
		if r := pg.slots[i].out.resp; r != nil {
			n += len(r.Body)
		}
	}
	return n
}

// allSent reports whether every slot's outcome is known or its request
// was sent with the others and is still to read.
func (pg *page) allSent() bool {
	for i := range pg.slots {
		if d := pg.slots[i].done; !isDone(d) && (d != nil || !pg.fetches[i].p.SentTogether()) {
			return false
		}
	}
	return true
}

// Header values every page sends.
var (
	htmlContentType = []string{"text/html; charset=utf-8"}[:1:1]
	privateNoCache  = []string{"private, no-cache"}[:1:1]
	// noBuffering asks nginx in front (and the ingresses built on it) to
	// pass the page on as it comes: with its gzip on, nginx would
	// otherwise hold the whole page until its slowest box.
	noBuffering = []string{"no"}[:1:1]
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

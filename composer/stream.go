package composer

import (
	"html"
	"io"
	"net/http"

	"github.com/inlayhq/inlay/fragments"
)

// stream writes a page in document order. It stops writing at the first
// error, which means the shopper has gone.
type stream struct {
	w       io.Writer
	flusher http.Flusher // nil when the writer cannot flush
	assets  []string     // URLs of the assets already on the page
	err     error
}

func newStream(w http.ResponseWriter) *stream {
	f, _ := w.(http.Flusher)
	return &stream{w: w, flusher: f}
}

func (s *stream) write(b []byte) {
	if s.err == nil && len(b) > 0 {
		_, s.err = s.w.Write(b)
	}
}

func (s *stream) writeString(str string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, str)
	}
}

func (s *stream) flush() {
	if s.err == nil && s.flusher != nil {
		s.flusher.Flush()
	}
}

// slot writes what one slot shows: the fragment's assets not yet on the
// page, then its body; or the layout's inline fallback.
func (s *stream) slot(slot *Slot, o *outcome) {
	if o.resp == nil {
		s.write(slot.Inline)
		return
	}
	for _, a := range o.resp.Assets {
		s.asset(a)
	}
	s.write(o.resp.Body)
}

// asset writes the tag for an asset unless the page already has it. Links
// go in the body just before the fragment that needs them, which browsers
// treat as render-blocking for the content that follows.
func (s *stream) asset(a fragments.Asset) {
	for _, seen := range s.assets {
		if seen == a.URL {
			return
		}
	}
	s.assets = append(s.assets, a.URL)
	u := html.EscapeString(a.URL)
	switch a.Kind {
	case fragments.Stylesheet:
		s.writeString(`<link rel="stylesheet" href="` + u + `">`)
	case fragments.ModuleScript:
		s.writeString(`<script type="module" src="` + u + `"></script>`)
	case fragments.Script:
		s.writeString(`<script src="` + u + `" defer></script>`)
	}
}

// Package wire is the shared cache tier's storage format for one entry: a
// version byte, then varints and length-prefixed strings. It is its own
// package so that its decoder can be fuzzed without the Redis client in
// the binary.
package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Entry is what the tier stores for one key: a complete fragment response
// and its windows.
//
// A variant index entry (the caller's primary key, pointing at the headers
// the response varies on) is an Entry too, with Vary set and no body.
type Entry struct {
	// Status is the response's status code.
	Status int
	// Header holds the response headers the caller keeps; the caller
	// decides which.
	Header http.Header
	// Body is the complete response body.
	Body []byte
	// Stored is when the response was received.
	Stored time.Time
	// FreshUntil ends the freshness window: until then the entry may be
	// served without asking the origin.
	FreshUntil time.Time
	// SWRUntil ends the stale-while-revalidate window.
	SWRUntil time.Time
	// SIEUntil ends the stale-if-error window.
	SIEUntil time.Time
	// Vary names the request headers the response varies on.
	Vary []string
	// Tags are the response's Surrogate-Key tags, which Purge acts on.
	Tags []string
}

// Fresh reports whether the entry is fresh at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.FreshUntil) }

// Expires returns the end of the entry's last window, after which the tier
// drops it.
func (e *Entry) Expires() time.Time {
	last := e.FreshUntil
	for _, t := range []time.Time{e.SWRUntil, e.SIEUntil} {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// Equal reports whether two entries hold the same response and windows:
// times are compared as instants, and empty lists, headers and bodies
// equal nil ones.
func (e *Entry) Equal(o *Entry) bool {
	if e.Status != o.Status || !bytes.Equal(e.Body, o.Body) ||
		!e.Stored.Equal(o.Stored) || !e.FreshUntil.Equal(o.FreshUntil) || !e.SWRUntil.Equal(o.SWRUntil) || !e.SIEUntil.Equal(o.SIEUntil) ||
		!slices.Equal(e.Vary, o.Vary) || !slices.Equal(e.Tags, o.Tags) || len(e.Header) != len(o.Header) {
		return false
	}
	for name, values := range e.Header {
		if ov, ok := o.Header[name]; !ok || !slices.Equal(values, ov) {
			return false
		}
	}
	return true
}

// codecVersion is the first byte of every encoded entry. Key names carry a
// version too (v1), so a new format can live beside the old one during a
// rolling update.
const codecVersion = 1

// ErrCorrupt is returned for a stored value that does not decode.
var ErrCorrupt = errors.New("corrupt shared cache entry")

// MaxListLen bounds the header, vary and tag counts a decoder accepts.
const MaxListLen = 1 << 12

// Append appends the entry's binary form to buf: a version byte, then
// varints and length-prefixed strings. Headers are written in sorted order,
// so one entry always encodes to the same bytes.
func Append(buf []byte, e *Entry) []byte {
	buf = append(buf, codecVersion)
	buf = binary.AppendUvarint(buf, uint64(e.Status))
	for _, t := range []time.Time{e.Stored, e.FreshUntil, e.SWRUntil, e.SIEUntil} {
		buf = binary.AppendVarint(buf, unixNano(t))
	}
	names := make([]string, 0, len(e.Header))
	for name := range e.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	buf = binary.AppendUvarint(buf, uint64(len(names)))
	for _, name := range names {
		buf = appendString(buf, name)
		buf = AppendStrings(buf, e.Header[name])
	}
	buf = AppendStrings(buf, e.Vary)
	buf = AppendStrings(buf, e.Tags)
	buf = binary.AppendUvarint(buf, uint64(len(e.Body)))
	return append(buf, e.Body...)
}

// Parse decodes an entry written by Append. The entry's strings and body
// are copies, independent of data.
func Parse(data []byte) (Entry, error) {
	d := decoder{data: data}
	if v := d.byte(); v != codecVersion {
		return Entry{}, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, v, codecVersion)
	}
	var e Entry
	e.Status = int(d.uvarint(999))
	e.Stored, e.FreshUntil, e.SWRUntil, e.SIEUntil = d.time(), d.time(), d.time(), d.time()
	if n := d.uvarint(MaxListLen); n > 0 {
		e.Header = make(http.Header, n)
		for range n {
			name := d.string()
			e.Header[name] = d.strings()
		}
	}
	e.Vary = d.strings()
	e.Tags = d.strings()
	if n := d.uvarint(uint64(len(data))); d.err == nil {
		e.Body = slices.Clone(d.take(n))
	}
	if d.err == nil && len(d.data) != 0 {
		d.err = fmt.Errorf("%d bytes after the body", len(d.data))
	}
	if d.err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	return e, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// AppendStrings appends a count and length-prefixed strings to buf.
func AppendStrings(buf []byte, ss []string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(ss)))
	for _, s := range ss {
		buf = appendString(buf, s)
	}
	return buf
}

// ParseStrings decodes a list written by AppendStrings, of at most
// MaxListLen strings.
func ParseStrings(data []byte) ([]string, error) {
	d := decoder{data: data}
	ss := d.strings()
	if d.err == nil && len(d.data) != 0 {
		d.err = fmt.Errorf("%d bytes after the list", len(d.data))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	return ss, nil
}

// decoder reads an encoded entry; its first error sticks and every later
// read returns a zero value.
type decoder struct {
	data []byte
	err  error
}

func (d *decoder) byte() byte {
	if b := d.take(1); len(b) == 1 {
		return b[0]
	}
	return 0
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.data)) {
		d.err = fmt.Errorf("truncated: want %d bytes, have %d", n, len(d.data))
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	switch {
	case n <= 0:
		d.err = errors.New("bad varint")
		return 0
	case v > limit:
		d.err = fmt.Errorf("value %d over %d", v, limit)
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return time.Time{}
	}
	d.data = d.data[n:]
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

func (d *decoder) string() string {
	return string(d.take(d.uvarint(uint64(len(d.data)))))
}

func (d *decoder) strings() []string {
	n := d.uvarint(MaxListLen)
	if n == 0 || d.err != nil {
		return nil
	}
	ss := make([]string, 0, min(n, uint64(len(d.data))))
	for range n {
		ss = append(ss, d.string())
	}
	if d.err != nil {
		return nil
	}
	return ss
}

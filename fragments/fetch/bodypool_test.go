package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/inlayhq/inlay/internal/poison"
)

// readBody reads a body whole into a buffer of the smallest class that
// holds it when its length is announced, and still reads it right when
// the announced length is wrong.
func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name          string
		size          int
		contentLength int64
		limit         int64
		wantCap       int
		wantErr       error
	}{
		{name: "exactly a class, length known", size: 4096, contentLength: 4096, limit: 1 << 20, wantCap: 4096},
		{name: "one byte over a class", size: 4097, contentLength: 4097, limit: 1 << 20, wantCap: 8192},
		{name: "small, length known", size: 10, contentLength: 10, limit: 1 << 20, wantCap: 1024},
		{name: "length unknown", size: 3000, contentLength: -1, limit: 1 << 20, wantCap: 4096},
		{name: "more than announced", size: 4100, contentLength: 4096, limit: 1 << 20, wantCap: 8192},
		{name: "less than announced", size: 100, contentLength: 4096, limit: 1 << 20, wantCap: 4096},
		{name: "empty", size: 0, contentLength: 0, limit: 1 << 20, wantCap: 4096},
		{name: "over the limit, announced", size: 2000, contentLength: 2000, limit: 1000, wantErr: ErrTooLarge},
		{name: "over the limit, unannounced", size: 2000, contentLength: -1, limit: 1000, wantErr: ErrTooLarge},
		{name: "over the limit past the announced length", size: 1500, contentLength: 1024, limit: 1024, wantErr: ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Repeat([]byte("<p>"), tc.size/3+1)[:tc.size]
			// One byte a read: every boundary of the loop is crossed.
			got, err := ReadBody(iotest.OneByteReader(bytes.NewReader(want)), tc.contentLength, tc.limit)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error: got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body: got %d bytes, want the %d sent", len(got), len(want))
			}
			if cap(got) != tc.wantCap {
				t.Errorf("buffer: got cap %d, want %d", cap(got), tc.wantCap)
			}
			putBody(got)
		})
	}
}

// A read error after the announced bytes is the body's error.
func TestReadBodyErrorAfterLength(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(make([]byte, 1024)), iotest.ErrReader(boom))
	if _, err := ReadBody(r, 1024, 1<<20); !errors.Is(err, boom) {
		t.Fatalf("error: got %v, want %v", err, boom)
	}
}

// Release gives a response's header map back only when the response was
// the releaser's alone: one the cache stored (Keep) or that reserved
// nothing (a cache hit) keeps its header. A map given back is emptied of
// the service's fields: in tests it holds the poison field alone (see
// package poison), so that whoever kept it sees that, not another answer's
// fields.
func TestReleaseGivesTheHeaderBack(t *testing.T) {
	if !poison.Enabled() {
		t.Skip("poisoning is off while benchmarks run")
	}
	many := http.Header{}
	for i := range maxPooledFields + 4 {
		many.Set(fmt.Sprintf("X-Field-%d", i), "v")
	}
	for _, tc := range []struct {
		name     string
		header   http.Header
		hold     bool // the response reserved from a budget
		keep     bool // the cache took it (Keep) before the release
		released bool
	}{
		{name: "a response of its own", header: http.Header{"Cache-Control": {"no-store"}}, hold: true, released: true},
		// Too large to pool, and poisoned all the same: a reader after the
		// release is as wrong whether or not the map is reused.
		{name: "a response of its own with many fields", header: many, hold: true, released: true},
		{name: "a response the cache stored", header: http.Header{"Cache-Control": {"max-age=60"}}, hold: true, keep: true},
		{name: "a cache hit", header: http.Header{"Cache-Control": {"max-age=60"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header.Clone()
			r := &Response{Status: 200, Header: header, Body: getBody(10)}
			if tc.hold {
				r.Hold(NewBudget(1<<20), 10)
			}
			if tc.keep {
				r.Keep()
			}
			r.Release()
			poisoned := http.Header{PoisonField: {"released"}}
			switch {
			case tc.released && (r.Header != nil || !maps.EqualFunc(header, poisoned, slices.Equal)):
				t.Errorf("after release: the response's header %v, the map %v; want none and the poison %v", r.Header, header, poisoned)
			case !tc.released && !maps.EqualFunc(r.Header, tc.header, slices.Equal):
				t.Errorf("after release: the response's header %v, want it kept: %v", r.Header, tc.header)
			}
		})
	}
}

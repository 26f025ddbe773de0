package fetch

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
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

// A body read after its response was released reads the poison (the
// tests run with package poison on, see TestMain), not the bytes the
// service sent: a page that wrote a body after giving it back would fail
// its test rather than pass by luck until the buffer was reused.

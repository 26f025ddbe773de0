package wire

import (
	"bytes"
	"encoding/gob"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func sampleEntry() Entry {
	now := time.Unix(1_800_000_000, 123456789)
	return Entry{
		Status: 200,
		Header: http.Header{
			"Content-Type": {"text/html; charset=utf-8"},
			"Link":         {"</basket/static/mini.css>; rel=stylesheet", "</basket/static/mini.js>; rel=script"},
			"Etag":         {`"v42"`},
		},
		Body:       []byte(strings.Repeat("<li>item</li>", 200)),
		Stored:     now,
		FreshUntil: now.Add(time.Minute),
		SWRUntil:   now.Add(2 * time.Minute),
		SIEUntil:   now.Add(time.Hour),
		Vary:       []string{"Accept-Language"},
		Tags:       []string{"basket", "sku-1"},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		e    Entry
	}{
		{"full", sampleEntry()},
		{"empty", Entry{}},
		{"variant index", Entry{Status: 200, Vary: []string{"Accept-Language", "X-Device"}, FreshUntil: time.Unix(5, 0)}},
		{"no body, 204", Entry{Status: 204, Header: http.Header{"X-A": {""}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := Append(nil, &tc.e)
			got, err := Parse(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !got.Equal(&tc.e) {
				t.Errorf("got %+v, want %+v", got, tc.e)
			}
			if again := Append(nil, &got); !bytes.Equal(again, data) {
				t.Error("encoding the decoded entry gives other bytes")
			}
		})
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	e := sampleEntry()
	good := Append(nil, &e)
	cases := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(bytes.Clone(good), 0),
		"huge count":     {codecVersion, 200, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(data); !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestExpiresIsTheLastWindow(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		e    Entry
		want time.Time
	}{
		{"fresh only", Entry{FreshUntil: now.Add(time.Second)}, now.Add(time.Second)},
		{"stale-if-error last", Entry{FreshUntil: now, SWRUntil: now.Add(time.Minute), SIEUntil: now.Add(time.Hour)}, now.Add(time.Hour)},
		{"swr last", Entry{FreshUntil: now, SWRUntil: now.Add(time.Hour), SIEUntil: now.Add(time.Minute)}, now.Add(time.Hour)},
	}
	for _, tc := range cases {
		if got := tc.e.Expires(); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseStrings(t *testing.T) {
	want := []string{"a", "", "basket /mini?sku=1"}
	got, err := ParseStrings(AppendStrings(nil, want))
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := ParseStrings([]byte{3, 1}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated list: got %v, want ErrCorrupt", err)
	}
}

func FuzzDecode(f *testing.F) {
	e := sampleEntry()
	f.Add(Append(nil, &e))
	f.Add(Append(nil, &Entry{}))
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		if err != nil {
			return
		}
		// What decodes must encode back to the same entry.
		again, err := Parse(Append(nil, &e))
		if err != nil || !again.Equal(&e) {
			t.Fatalf("re-decoding: %v; got %+v, want %+v", err, again, e)
		}
	})
}

// The encoding against encoding/gob, the standard library's way, on a
// typical fragment entry: gob sends its type description with every
// standalone value.
func BenchmarkCodec(b *testing.B) {
	e := sampleEntry()
	b.Run("binary/encode", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			buf = Append(buf[:0], &e)
		}
		b.ReportMetric(float64(len(buf)), "bytes/entry")
	})
	b.Run("binary/decode", func(b *testing.B) {
		data := Append(nil, &e)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob/encode", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes/entry")
	})
	b.Run("gob/decode", func(b *testing.B) {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.ReportAllocs()
		for b.Loop() {
			var got Entry
			if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

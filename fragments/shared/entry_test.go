package shared

import (
	"bytes"
	"encoding/gob"
	"errors"
	"net/http"
	"reflect"
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
			data := encode(nil, &tc.e)
			got, err := decode(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !entriesEqual(got, tc.e) {
				t.Errorf("got %+v, want %+v", got, tc.e)
			}
			if again := encode(nil, &got); !bytes.Equal(again, data) {
				t.Error("encoding the decoded entry gives other bytes")
			}
		})
	}
}

// entriesEqual compares entries with times by instant and empty lists
// equal to nil ones.
func entriesEqual(a, b Entry) bool {
	norm := func(e Entry) Entry {
		for _, t := range []*time.Time{&e.Stored, &e.FreshUntil, &e.SWRUntil, &e.SIEUntil} {
			if !t.IsZero() {
				*t = t.UTC()
			}
		}
		if len(e.Header) == 0 {
			e.Header = nil
		}
		if len(e.Body) == 0 {
			e.Body = nil
		}
		return e
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestDecodeRejectsDamage(t *testing.T) {
	e := sampleEntry()
	good := encode(nil, &e)
	cases := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(bytes.Clone(good), 0),
		"huge count":     {codecVersion, 200, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := decode(data); !errors.Is(err, ErrCorrupt) {
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

func FuzzDecode(f *testing.F) {
	e := sampleEntry()
	f.Add(encode(nil, &e))
	f.Add(encode(nil, &Entry{}))
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decode(data)
		if err != nil {
			return
		}
		// What decodes must encode back to the same entry.
		again, err := decode(encode(nil, &e))
		if err != nil || !entriesEqual(again, e) {
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
			buf = encode(buf[:0], &e)
		}
		b.ReportMetric(float64(len(buf)), "bytes/entry")
	})
	b.Run("binary/decode", func(b *testing.B) {
		data := encode(nil, &e)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode(data); err != nil {
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

package layout

import (
	"sort"
	"unicode/utf8"
)

// text is layout markup that remembers where each byte came from, so that a
// page assembled from a base layout, its fills and unwrapped ESI comments
// still reports problems at the line and column of the file a designer
// wrote.
type text struct {
	data  []byte
	spans []span // sorted by at; spans[0].at == 0
}

// span says that data[at:] (up to the next span) is the file's bytes from off.
type span struct {
	at   int
	file string
	off  int
}

func fileText(file string, data []byte) text {
	return text{data: data, spans: []span{{at: 0, file: file}}}
}

// origin returns the file and byte offset that data[offset] came from.
func (t text) origin(offset int) (string, int) {
	if len(t.spans) == 0 {
		return "", offset
	}
	i := sort.Search(len(t.spans), func(i int) bool { return t.spans[i].at > offset }) - 1
	i = max(i, 0)
	s := t.spans[i]
	return s.file, s.off + offset - s.at
}

// slice returns data[a:b] with its origins.
func (t text) slice(a, b int) text {
	out := text{data: t.data[a:b:b]}
	file, off := t.origin(a)
	out.spans = append(out.spans, span{at: 0, file: file, off: off})
	for _, s := range t.spans {
		if s.at > a && s.at < b {
			out.spans = append(out.spans, span{at: s.at - a, file: s.file, off: s.off})
		}
	}
	return out
}

// concat joins texts, keeping their origins.
func concat(parts ...text) text {
	var out text
	for _, p := range parts {
		if len(p.data) == 0 {
			continue
		}
		base := len(out.data)
		out.data = append(out.data, p.data...)
		for _, s := range p.spans {
			out.spans = append(out.spans, span{at: base + s.at, file: s.file, off: s.off})
		}
	}
	if len(out.spans) == 0 {
		// All parts empty: keep the first one's origin, so that a problem
		// with the empty result (an empty layout) still names its file.
		out.spans = []span{{}}
		if len(parts) > 0 {
			out.spans[0].file, out.spans[0].off = parts[0].origin(0)
		}
	}
	return out
}

// sources holds the raw files a layout set was read from, to turn origins
// into lines and columns.
type sources map[string][]byte

// position converts a file offset into a 1-based line and a column counted
// in characters.
func (src sources) position(file string, off int) (line, col int) {
	data := src[file]
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

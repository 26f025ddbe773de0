package main

import "strings"

// columns writes a Markdown table with one column per result: the header
// from each result's title, then a row per call of row.
type columns[R any] struct {
	b       *strings.Builder
	results []R
}

// newColumns writes the table's header: an empty corner, then title(r)
// for each result, right-aligned.
func newColumns[R any](b *strings.Builder, results []R, title func(R) string) columns[R] {
	b.WriteString("| |")
	for _, r := range results {
		b.WriteString(" " + title(r) + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(results)))
	b.WriteString("\n")
	return columns[R]{b: b, results: results}
}

// row writes one row: its name, then cell(r) for each result.
func (t columns[R]) row(name string, cell func(R) string) {
	t.b.WriteString("| " + name + " |")
	for _, r := range t.results {
		t.b.WriteString(" " + cell(r) + " |")
	}
	t.b.WriteString("\n")
}

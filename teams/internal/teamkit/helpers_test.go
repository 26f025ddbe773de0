package teamkit

import "testing"

func TestValidSKU(t *testing.T) {
	tests := []struct {
		sku  string
		want bool
	}{
		{"sneaker-01", true},
		{"a", true},
		{"0-9", true},
		{"abcdefghijklmnopqrstuvwxyz012345", true},
		{"abcdefghijklmnopqrstuvwxyz0123456", false},
		{"", false},
		{"Sneaker-01", false},
		{"sneaker_01", false},
		{"sneaker 01", false},
		{"../etc", false},
		{"sku/x", false},
		{"skü", false},
	}
	for _, tt := range tests {
		if got := ValidSKU(tt.sku); got != tt.want {
			t.Errorf("ValidSKU(%q) = %v, want %v", tt.sku, got, tt.want)
		}
	}
}

func TestEUR(t *testing.T) {
	tests := []struct {
		cents int64
		want  string
	}{
		{4990, "€49.90"},
		{5, "€0.05"},
		{0, "€0.00"},
		{100, "€1.00"},
		{123456, "€1234.56"},
		{-150, "-€1.50"},
	}
	for _, tt := range tests {
		if got := EUR(tt.cents); got != tt.want {
			t.Errorf("EUR(%d) = %q, want %q", tt.cents, got, tt.want)
		}
	}
}

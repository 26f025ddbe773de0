package poison

import (
	"bytes"
	"testing"
)

func TestFill(t *testing.T) {
	b := []byte("<p>hello</p>")
	Fill(b)
	if string(b) != "<p>hello</p>" {
		t.Fatalf("off: Fill changed the buffer to %q", b)
	}
	Enable()
	if !Enabled() {
		t.Fatal("Enabled is false after Enable")
	}
	Fill(b)
	if !bytes.Equal(b, bytes.Repeat([]byte{Byte}, len(b))) {
		t.Fatalf("on: the buffer is %q, want the pattern", b)
	}
}

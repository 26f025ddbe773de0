//go:build race

package transport

// raceDetector is true in a build with the race detector, under which
// sync.Pool drops what it is given at random: allocation counts are
// checked without it.
const raceDetector = true

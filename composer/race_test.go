//go:build race

package composer

// raceDetector is true in a build with the race detector, which makes
// every instruction several times dearer: load tests, whose subject is
// capacity, run without it (make test runs them so).
const raceDetector = true

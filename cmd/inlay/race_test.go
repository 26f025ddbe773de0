//go:build race

package main

// raceDetector is true in a build with the race detector, whose shadow
// memory and instrumentation a load or RSS measurement would measure too.
const raceDetector = true

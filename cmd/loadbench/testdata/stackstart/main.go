// Command stackstart prints the stack size new goroutines start with once
// two GCs have seen many goroutines parked deep in their stacks, as
// Inlay's connection goroutines are under load. TestStackStartSetting runs
// it with the GODEBUG Inlay runs with.
package main

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
)

//go:noinline
func deep(n int, parked *sync.WaitGroup, hold chan struct{}) byte {
	var frame [512]byte
	frame[n] = byte(n)
	if n == 0 {
		parked.Done()
		<-hold
		return frame[0]
	}
	return deep(n-1, parked, hold) + frame[1]
}

func main() {
	var parked sync.WaitGroup
	hold := make(chan struct{})
	for range 200 {
		parked.Add(1)
		go deep(12, &parked, hold)
	}
	parked.Wait()
	runtime.GC() // the first sees the stacks,
	runtime.GC() // the second sets the starting size from them
	sample := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(sample)
	fmt.Println(sample[0].Value.Uint64())
	close(hold)
}

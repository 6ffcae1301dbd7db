//go:build race

package envelope

// raceEnabled is true under the race detector, which makes sync.Pool drop items at random:
// the allocation tests then allow for a scratch buffer the pool did not keep.
const raceEnabled = true

//go:build !race

package envelope

// raceEnabled is false without the race detector (see codec_race_test.go).
const raceEnabled = false

//go:build !race

package core

// raceEnabled is false without the race detector (see codec_race_test.go).
const raceEnabled = false

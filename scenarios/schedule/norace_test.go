//go:build !race

package schedule_test

// raceEnabled is true under the race detector, which makes every request several times slower.
const raceEnabled = false

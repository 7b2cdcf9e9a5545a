//go:build race

package tokens

// raceEnabled reports whether the binary was built with -race; tests that
// measure heap usage skip themselves under the race detector.
const raceEnabled = true

//go:build !linux

package load

import "time"

// fineSleep sleeps for d with the runtime's timers (nanosleep is used on Linux).
func fineSleep(d time.Duration) { time.Sleep(d) }

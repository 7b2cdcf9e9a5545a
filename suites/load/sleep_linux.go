//go:build linux

package load

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// fineSleep sleeps for d (under a few milliseconds) in a nanosleep system
// call: the Go runtime's timers wake an idle process only to the
// millisecond (epoll's timeout), which would add up to a millisecond of
// the sender's own delay to every open-model latency. The goroutine's
// thread blocks meanwhile; the runtime hands its P to other goroutines.
func fineSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for {
		var rem unix.Timespec
		if err := unix.Nanosleep(&ts, &rem); !errors.Is(err, unix.EINTR) {
			return
		}
		ts = rem
	}
}

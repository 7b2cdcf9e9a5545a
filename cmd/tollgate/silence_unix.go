//go:build unix

package main

import (
	"fmt"
	"golang.org/x/sys/unix"
	"os"
)

// silenceStdout points file descriptor 1 at /dev/null until restore is
// called: Ginkgo's reporter writes to the process's stdout directly, and
// `tollgate check` prints its own summary instead.
func silenceStdout() (restore func(), err error) {
	saved, err := unix.Dup(1)
	if err != nil {
		return nil, fmt.Errorf("dup stdout: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		_ = unix.Close(saved)
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer func() { _ = null.Close() }()
	if err := unix.Dup2(int(null.Fd()), 1); err != nil {
		_ = unix.Close(saved)
		return nil, fmt.Errorf("redirect stdout: %w", err)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		_ = unix.Dup2(saved, 1)
		_ = unix.Close(saved)
	}, nil
}

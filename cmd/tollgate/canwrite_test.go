package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCanWriteNamesTheDirectory: a report or document path in a missing
// directory is refused naming that directory, never the trial file canWrite
// tried to create there.
func TestCanWriteNamesTheDirectory(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no", "such")
	err := canWrite(filepath.Join(missing, "mine.yaml"))
	if err == nil {
		t.Fatal("canWrite in a missing directory: no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "directory "+missing+": ") || !strings.Contains(msg, "no such file or directory") {
		t.Errorf("canWrite = %q, want it to name the directory %s and the cause", msg, missing)
	}
	if strings.Contains(msg, ".tollgate-report-") {
		t.Errorf("canWrite = %q names its trial file", msg)
	}
	if err := canWrite(filepath.Join(t.TempDir(), "new.yaml")); err != nil {
		t.Errorf("canWrite in a writable directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(missing, "..")); err == nil {
		t.Error("canWrite created a directory")
	}
}

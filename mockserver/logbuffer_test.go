package mockserver_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
)

// recordingWriter records each Write it gets, as a separate string.
type recordingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *recordingWriter) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func TestLogBuffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string // written to a 16-byte buffer, then Close
		want  []string // the writes the destination got
	}{
		{name: "small lines go out together on Close", lines: []string{"a\n", "b\n", "c\n"}, want: []string{"a\nb\nc\n"}},
		{name: "a line that does not fit sends the buffer first, and stays whole",
			lines: []string{"0123456789\n", "abcdefghij\n"}, want: []string{"0123456789\n", "abcdefghij\n"}},
		{name: "a line larger than the buffer goes out directly, after what was buffered",
			lines: []string{"a\n", "a line of more than sixteen bytes\n", "b\n"}, want: []string{"a\n", "a line of more than sixteen bytes\n", "b\n"}},
		{name: "nothing written, nothing sent", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var dst recordingWriter
			b := mockserver.NewLogBuffer(&dst, 16, time.Hour)
			for _, l := range tt.lines {
				if n, err := b.Write([]byte(l)); err != nil || n != len(l) {
					t.Fatalf("Write(%q) = %d, %v", l, n, err)
				}
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if got := dst.got(); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("destination got writes %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLogBufferFlushes checks the two other ways lines leave the buffer:
// the periodic flush, and writes after Close, which go straight through.
func TestLogBufferFlushes(t *testing.T) {
	t.Parallel()
	var dst recordingWriter
	b := mockserver.NewLogBuffer(&dst, 0, 5*time.Millisecond)
	if _, err := b.Write([]byte("tick\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(dst.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a buffered line was not flushed by the timer")
		}
		time.Sleep(time.Millisecond)
	}
	for range 2 {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Write([]byte("late\n")); err != nil {
		t.Fatal(err)
	}
	if got := dst.got(); len(got) != 2 || got[1] != "late\n" {
		t.Errorf("writes %q, want the timer's flush and then the late line on its own", got)
	}
}

// TestLogBufferConcurrent writes from many goroutines into a small buffer:
// every line arrives whole and exactly once.
func TestLogBufferConcurrent(t *testing.T) {
	t.Parallel()
	var dst bytes.Buffer
	var mu sync.Mutex
	b := mockserver.NewLogBuffer(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return dst.Write(p)
	}), 100, time.Millisecond)
	const goroutines, lines = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				_, _ = b.Write([]byte(strings.Repeat(string(rune('a'+g)), 1+i%30) + "\n"))
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	for _, l := range got {
		if strings.Trim(l, l[:1]) != "" {
			t.Fatalf("line %q mixes two writes", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

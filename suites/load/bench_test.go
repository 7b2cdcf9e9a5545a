package load

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
)

// cannedServer answers every GET with the same bytes, parsing no more than
// it must, so that a benchmark measures the sender rather than the server.
func cannedServer(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	answer := []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"x\", error=\"invalid_token\"\r\nContent-Length: 2\r\n\r\n{}")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 { // the blank line ending a request
						if _, err := c.Write(answer); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/api"
}

// BenchmarkSender compares the senders' cost per request (closed model, 8
// in flight, a 401 judged against its challenge). Compare the two in the
// same run; the wire sender should need a fraction of net/http's CPU and
// no allocation per request.
func BenchmarkSender(b *testing.B) {
	url := cannedServer(b)
	for _, tc := range []struct {
		name    string
		netHTTP bool
	}{{"wire", false}, {"net-http", true}} {
		b.Run(tc.name, func(b *testing.B) {
			tg, err := newTarget(KindInvalid, http.MethodGet, url, http.Header{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			m := NewAttacker(Options{MaxRequests: uint64(b.N), Concurrency: 8, NetHTTP: tc.netHTTP, Duration: DefaultDuration}).Attack(context.Background(), single{tg}, nil)
			b.StopTimer()
			if m.Outcomes[KindInvalid][OutcomeCorrect] != m.Requests {
				b.Fatalf("outcomes %v", m.Outcomes[KindInvalid])
			}
		})
	}
}

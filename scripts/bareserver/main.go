// Command bareserver is the yardstick of scripts/bench-compare.sh: a plain
// net/http server that answers GET /api/collections and GET /api/markets
// with the documented answers the mock gives once a token passed, and
// checks nothing. The mock's protected routes are measured against it with
// the same Authorization header, so the ratio is what the mock's request
// path costs (routing, CORS, the Bearer check, the request log).
//
//	go run ./scripts/bareserver [-addr 127.0.0.1:0]
//
// It prints "listening on http://HOST:PORT" and serves until SIGINT or
// SIGTERM. Its http.Server has the timeouts `tollgate serve` sets, so they
// cost the same on both sides.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "HOST:PORT to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "bareserver: %v\n", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	flows, err := spec.ReadAll(ctx, openapi.FS())
	if err != nil {
		return fmt.Errorf("built-in flow documents: %w", err)
	}
	mux := http.NewServeMux()
	for _, f := range flows {
		for _, op := range f.Operations {
			if op.Protected && op.Method == http.MethodGet && (op.Path == "/api/collections" || op.Path == "/api/markets") {
				mux.Handle("GET "+op.Path, answer(op.Success))
			}
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{ // as cmd/tollgate/serve.go
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// answer writes a documented response, as the mock's example handler does.
func answer(resp spec.Response) http.Handler {
	contentType := []string{resp.ContentType}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = contentType
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}

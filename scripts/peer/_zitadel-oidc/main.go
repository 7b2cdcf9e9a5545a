// Command zitadel-oidc-example is github.com/zitadel/oidc/v3's example OP
// (example/server/main.go) with one change: it listens on 127.0.0.1 on a
// port the kernel picks, printed as "listening on http://localhost:PORT/"
// (its issuer), instead of ":9998". Everything else is the example's own
// code, imported from the module: the same clients ("native", "web",
// "api"), the in-memory storage with its service user "sid1" / "verysecret"
// (client credentials grant), and exampleop.SetupServer's routes.
//
// scripts/peer-check.sh copies this file into .cache/peer/zitadel-oidc/build
// and builds it against the module from the Go module proxy; the leading
// underscore of its folder keeps it out of this repository's own build.
package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logger.Error("cannot listen", "error", err)
		os.Exit(1)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	// The example's issuer is http://localhost:PORT/.
	issuer := fmt.Sprintf("http://localhost:%d/", port)

	storage.RegisterClients(
		storage.NativeClient("native"),
		storage.WebClient("web", "secret"),
		storage.WebClient("api", "secret"),
	)
	store := storage.NewStorage(storage.NewUserStore(issuer))
	router := exampleop.SetupServer(issuer, store, logger, false)

	fmt.Printf("listening on %s\n", issuer)
	if err := http.Serve(listener, router); err != nil {
		logger.Error("server terminated", "error", err)
		os.Exit(1)
	}
}

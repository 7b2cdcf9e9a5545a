// Command go-oauth2-example is github.com/go-oauth2/oauth2/v4 v4.5.4's
// example server (example/server/server.go) cut to what `make peer-check`
// uses: the same manager, stores, client (222222 / 22222222), server
// configuration and error handlers, its POST /oauth/token handler and its
// protected route /test, which checks the Bearer token with
// srv.ValidationBearerToken and answers 400 on any failure, exactly as the
// example does. Only the listener differs: 127.0.0.1 on a port the kernel
// picks, printed as "listening on http://127.0.0.1:PORT", instead of
// ":9096". The login, authorize and session routes of the example serve the
// authorization code flow, which the peer check does not use.
//
// scripts/peer-check.sh copies this file into .cache/peer/go-oauth2/build
// and builds it against the module from the Go module proxy; the leading
// underscore of its folder keeps it out of this repository's own build.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/generates"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
)

func main() {
	const (
		clientID     = "222222"
		clientSecret = "22222222"
		domain       = "http://localhost:9094"
	)
	manager := manage.NewDefaultManager()
	manager.SetAuthorizeCodeTokenCfg(manage.DefaultAuthorizeCodeTokenCfg)
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	manager.MapAccessGenerate(generates.NewAccessGenerate())

	clientStore := store.NewClientStore()
	if err := clientStore.Set(clientID, &models.Client{ID: clientID, Secret: clientSecret, Domain: domain}); err != nil {
		log.Fatalf("go-oauth2 example: client store: %v", err)
	}
	manager.MapClientStorage(clientStore)

	srv := server.NewServer(server.NewConfig(), manager)
	srv.SetPasswordAuthorizationHandler(func(_ context.Context, _, username, password string) (string, error) {
		if username == "test" && password == "test" {
			return "test", nil
		}
		return "", errors.New("invalid username or password")
	})
	srv.SetInternalErrorHandler(func(err error) *errors.Response {
		log.Println("Internal Error:", err.Error())
		return nil
	})
	srv.SetResponseErrorHandler(func(re *errors.Response) {
		log.Println("Response Error:", re.Error.Error())
	})

	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleTokenRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/test", func(w http.ResponseWriter, r *http.Request) {
		token, err := srv.ValidationBearerToken(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data := map[string]any{
			"expires_in": int64(time.Until(token.GetAccessCreateAt().Add(token.GetAccessExpiresIn())).Seconds()),
			"client_id":  token.GetClientID(),
			"user_id":    token.GetUserID(),
		}
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		_ = e.Encode(data) // the example ignores it too
	})

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("go-oauth2 example: listen: %v", err)
	}
	fmt.Printf("listening on http://%s\n", listener.Addr())
	log.Fatal(http.Serve(listener, mux))
}

package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// A mock server for the built-in flows, served with net/http/httptest: get a
// token on the simple flow, then call a protected operation with and
// without it.
func ExampleNew() {
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		log.Fatal(err)
	}
	srv, err := mockserver.New(flows, mockserver.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv) // on 127.0.0.1
	defer ts.Close()
	client := ts.Client()
	client.Timeout = 5 * time.Second

	resp, err := client.Post(ts.URL+"/token", "application/json",
		strings.NewReader(`{"clientId":"testClient","secret":"superSecret"}`))
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
		TokenType   string `json:"tokenType"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", resp.StatusCode, tok.TokenType, tok.ExpiresIn, len(tok.AccessToken), "chars")

	for _, auth := range []string{"Bearer " + tok.AccessToken, ""} {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/collections", nil)
		if err != nil {
			log.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("collections: %d %q\n", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Output:
	// token: 200 Bearer 1800 36 chars
	// collections: 200 ""
	// collections: 401 "Bearer realm=\"tollgate\""
}

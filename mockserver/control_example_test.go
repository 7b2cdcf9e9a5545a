package mockserver_test

import (
	"context"
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

// exampleServer starts a mock for the built-in flows on 127.0.0.1.
func exampleServer() (*mockserver.Server, *httptest.Server) {
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		log.Fatal(err)
	}
	mock, err := mockserver.New(flows, mockserver.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return mock, httptest.NewServer(mock)
}

// get calls path with a Bearer token and returns the status.
func get(ts *httptest.Server, path, token string) int {
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Expire a token without waiting: move the server's clock past its lifetime.
func ExampleServer_AdvanceClock() {
	mock, ts := exampleServer()
	defer ts.Close()
	tok, err := mock.Mint(mockserver.MintRequest{Flow: "simple"}, ts.URL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("fresh:", get(ts, "/api/collections", tok.AccessToken))
	if err := mock.AdvanceClock(31 * time.Minute); err != nil { // the simple flow's tokens live 30 minutes
		log.Fatal(err)
	}
	fmt.Println("31 minutes later:", get(ts, "/api/collections", tok.AccessToken))
	// Output:
	// fresh: 200
	// 31 minutes later: 401
}

// Mint tokens for testing a resource server: a good one, and one with a
// defect the server must refuse.
func ExampleServer_Mint() {
	mock, ts := exampleServer()
	defer ts.Close()
	for _, defect := range []string{"", mockserver.DefectAlgNone, mockserver.DefectForeignKey} {
		tok, err := mock.Mint(mockserver.MintRequest{Flow: "oauth2", Scope: "metrics-api", Defect: defect}, ts.URL)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q: %d\n", defect, get(ts, "/metrics/orders", tok.AccessToken))
	}
	// Output:
	// "": 200
	// "alg-none": 401
	// "foreign-key": 401
}

// Make the token endpoint fail once with 503, then count what clients sent.
func ExampleServer_AddFault() {
	mock, ts := exampleServer()
	defer ts.Close()
	if _, err := mock.AddFault(mockserver.Fault{Endpoint: "token", Flow: "simple", Status: http.StatusServiceUnavailable, Times: 1}); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		resp, err := ts.Client().Post(ts.URL+"/token", "application/json", stringsReader(`{"clientId":"testClient","secret":"superSecret"}`))
		if err != nil {
			log.Fatal(err)
		}
		_ = resp.Body.Close()
		fmt.Println("token request:", resp.StatusCode)
	}
	fmt.Println("token requests seen:", mock.CountRequests(mockserver.RequestFilter{Endpoint: "token", ClientID: "testClient"}))
	fmt.Println("fired:", mock.Faults()[0].Fired)
	// Output:
	// token request: 503
	// token request: 200
	// token requests seen: 2
	// fired: 1
}

// Rotate the signing key: tokens signed before keep working until they
// expire, while the JWKS publishes both keys.
func ExampleServer_RotateKeys() {
	mock, ts := exampleServer()
	defer ts.Close()
	before, err := mock.Mint(mockserver.MintRequest{Flow: "oauth2"}, ts.URL)
	if err != nil {
		log.Fatal(err)
	}
	rotated, err := mock.RotateKeys("oauth2")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new key:", rotated[0].KeyID != rotated[0].PreviousKey)
	fmt.Println("old token:", get(ts, "/api/markets", before.AccessToken))
	// Output:
	// new key: true
	// old token: 200
}

// Register a client at run time, then go back to the configured state.
func ExampleServer_PutClient() {
	mock, ts := exampleServer()
	defer ts.Close()
	if err := mock.PutClient(mockserver.Client{ID: "mobile", Secret: "s3", Flows: []string{"oauth2"}}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("clients:", len(mock.Clients()))
	if err := mock.Reset(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after reset:", len(mock.Clients()))
	// Output:
	// clients: 5
	// after reset: 4
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

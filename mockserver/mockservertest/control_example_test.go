package mockservertest_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// status calls path on srv with a Bearer token.
func status(srv *mockservertest.Server, path, token string) int {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Expire a token without sleeping: the whole server follows the clock.
func ExampleServer_AdvanceClock() {
	tb := &exampleTB{} // in a test: t
	defer tb.close()
	srv := mockservertest.NewServer(tb, mockservertest.WithSystemClock())
	tok := srv.Mint(tb, mockserver.MintRequest{Flow: "oauth2"})
	fmt.Println("fresh:", status(srv, "/api/markets", tok.AccessToken))
	srv.AdvanceClock(2*time.Hour + time.Second) // oauth2 tokens live 2 h
	fmt.Println("2 h later:", status(srv, "/api/markets", tok.AccessToken))
	// Output:
	// fresh: 200
	// 2 h later: 401
}

// Mint a token with a defect, for the resource server under test.
func ExampleServer_Mint() {
	tb := &exampleTB{}
	defer tb.close()
	srv := mockservertest.NewServer(tb)
	tok := srv.Mint(tb, mockserver.MintRequest{Flow: "oauth2", Defect: mockserver.DefectWrongAudience})
	fmt.Println(tok.Defect, status(srv, "/api/markets", tok.AccessToken))
	// Output:
	// wrong-audience 401
}

// Make the token endpoint fail once, and count what the client sent.
func ExampleServer_AddFault() {
	tb := &exampleTB{}
	defer tb.close()
	srv := mockservertest.NewServer(tb)
	srv.AddFault(tb, mockserver.Fault{Endpoint: "token", Flow: "simple", Status: http.StatusServiceUnavailable, Times: 1})
	for range 2 {
		resp, err := srv.Client().Post(srv.URL+"/token", "application/json",
			strings.NewReader(`{"clientId":"testClient","secret":"superSecret"}`))
		if err != nil {
			panic(err)
		}
		_ = resp.Body.Close()
		fmt.Println("token request:", resp.StatusCode)
	}
	srv.WaitRequests(tb, "token", 2, time.Second)
	fmt.Println("token requests from testClient:", srv.CountRequests("token", "testClient"))
	// Output:
	// token request: 503
	// token request: 200
	// token requests from testClient: 2
}

// Rotate the signing key; register a client; go back to the configured state.
func ExampleServer_RotateKeys() {
	tb := &exampleTB{}
	defer tb.close()
	srv := mockservertest.NewServer(tb)
	old := srv.Mint(tb, mockserver.MintRequest{Flow: "oauth2"})
	rotated := srv.RotateKeys(tb)
	fmt.Println("rotated flows:", len(rotated), "| old token:", status(srv, "/api/markets", old.AccessToken))
	srv.PutClient(tb, mockserver.Client{ID: "mobile", Secret: "s3"})
	fmt.Println("clients:", len(srv.Mock.Clients()))
	srv.Reset(tb)
	fmt.Println("after reset:", len(srv.Mock.Clients()), "| old token:", status(srv, "/api/markets", old.AccessToken))
	// Output:
	// rotated flows: 1 | old token: 200
	// clients: 5
	// after reset: 4 | old token: 401
}

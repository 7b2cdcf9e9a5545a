package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// ctlClientJSON is a client as the control API shows it.
type ctlClientJSON struct {
	ID            string   `json:"id"`
	Secret        string   `json:"secret"`
	Scopes        []string `json:"scopes"`
	TokenLifetime string   `json:"token_lifetime"`
	Flows         []string `json:"flows"`
}

const clientHeader = "ID\tSECRET\tFLOWS\tSCOPES\tTOKEN LIFETIME"

func (c ctlClientJSON) row() string {
	flows, scopes := strings.Join(c.Flows, ","), strings.Join(c.Scopes, ",")
	if flows == "" {
		flows = "all"
	}
	if c.Scopes == nil {
		scopes = "all"
	}
	lifetime := c.TokenLifetime
	if lifetime == "" || lifetime == "0s" {
		lifetime = "the flow's"
	}
	return strings.Join([]string{c.ID, c.Secret, flows, scopes, lifetime}, "\t")
}

func newCtlClientCmd(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "List, show, register or remove clients at run time", Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	list := &cobra.Command{
		Use: "list", Short: "List the registered clients, secrets included (this is a mock)", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.clientCall(cmd, "client list", http.MethodGet, "clients", nil, true)
		},
	}
	get := &cobra.Command{
		Use: "get ID", Short: "Show one client", Args: exactArgs(1, "one client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.clientCall(cmd, "client get", http.MethodGet, "clients/"+url.PathEscape(args[0]), nil, false)
		},
	}
	var c struct {
		secret   string
		scopes   []string
		flows    []string
		lifetime time.Duration
		audience []string
	}
	put := &cobra.Command{
		Use:     "put ID --secret S [flags]",
		Short:   "Register a client, or replace the one of that id",
		Example: "  tollgate ctl client put reportingClient --secret reportingSecret --flow oauth2 --scope metrics-api --token-lifetime 10m",
		Args:    exactArgs(1, "one client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.secret == "" {
				return usagef("ctl: client put: --secret is required: every client of the mock is confidential")
			}
			body := map[string]any{"id": args[0], "secret": c.secret}
			if cmd.Flags().Changed("scope") {
				body["scopes"] = c.scopes
			}
			if len(c.flows) > 0 {
				body["flows"] = c.flows
			}
			if len(c.audience) > 0 {
				body["audience"] = c.audience
			}
			if cmd.Flags().Changed("token-lifetime") {
				body["token_lifetime"] = c.lifetime.String()
			}
			return o.clientCall(cmd, "client put", http.MethodPut, "clients/"+url.PathEscape(args[0]), body, false)
		},
	}
	f := put.Flags()
	f.StringVar(&c.secret, "secret", "", "the client's secret (required)")
	f.StringSliceVar(&c.scopes, "scope", nil, "scopes it may get (repeatable or comma-separated; default: all of its flows')")
	f.StringSliceVar(&c.flows, "flow", nil, "flows it may use (default: all)")
	f.DurationVar(&c.lifetime, "token-lifetime", 0, "lifetime of its tokens in whole seconds, e.g. 90s (default: the flow's)")
	f.StringSliceVar(&c.audience, "audience", nil, "audiences of its JWTs beside the flow's name")
	del := &cobra.Command{
		Use: "delete ID", Short: "Unregister a client (its tokens stay valid until they expire)", Args: exactArgs(1, "one client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.simpleCall(cmd, "client delete", http.MethodDelete, "clients/"+url.PathEscape(args[0]), "deleted client "+args[0])
		},
	}
	cmd.AddCommand(list, get, put, del)
	return cmd
}

// clientCall sends one client request and prints the client(s) answered.
func (o *ctlOptions) clientCall(cmd *cobra.Command, what, method, path string, body any, many bool) error {
	a, err := o.call(cmd.Context(), what, method, path, nil, body)
	if err != nil {
		return err
	}
	var clients []ctlClientJSON
	if many {
		var out struct {
			Clients []ctlClientJSON `json:"clients"`
		}
		err = decode(what, a, &out)
		clients = out.Clients
	} else {
		var one ctlClientJSON
		err = decode(what, a, &one)
		clients = []ctlClientJSON{one}
	}
	if err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error {
		if len(clients) == 0 {
			_, err := fmt.Fprintln(w, "no client registered")
			return err
		}
		rows := make([]string, len(clients))
		for i, c := range clients {
			rows[i] = c.row()
		}
		return table(w, clientHeader, rows)
	})
}

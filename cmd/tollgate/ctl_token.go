package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newCtlTokenCmd(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Mint tokens (good or defective), list the live ones, revoke them all", Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var req struct {
		flow, clientID, scope, defect string
		lifetime                      time.Duration
		claims                        []string
	}
	mint := &cobra.Command{
		Use:   "mint [flags]",
		Short: "Mint a token without a token request; prints the access token alone (--json: the whole answer)",
		Example: "  TOKEN=$(tollgate ctl token mint --flow simple)\n" +
			"  tollgate ctl token mint --flow oauth2 --defect expired --claim tenant=acme",
		Args: exactArgs(0, "flags only"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{}
			for k, v := range map[string]string{"flow": req.flow, "client_id": req.clientID, "scope": req.scope, "defect": req.defect} {
				if v != "" {
					body[k] = v
				}
			}
			if cmd.Flags().Changed("lifetime") {
				body["lifetime"] = req.lifetime.String()
			}
			if len(req.claims) > 0 {
				claims, err := parseClaims(req.claims)
				if err != nil {
					return err
				}
				body["claims"] = claims
			}
			a, err := o.call(cmd.Context(), "token mint", http.MethodPost, "tokens", nil, body)
			if err != nil {
				return err
			}
			var out struct {
				AccessToken string `json:"access_token"`
			}
			if err := decode("token mint", a, &out); err != nil {
				return err
			}
			return o.print(a, func(w io.Writer) error { _, err := fmt.Fprintln(w, out.AccessToken); return err })
		},
	}
	f := mint.Flags()
	f.StringVar(&req.flow, "flow", "", "the flow (required when the mock serves several)")
	f.StringVar(&req.clientID, "client-id", "", "the token's client (default testClient)")
	f.StringVar(&req.scope, "scope", "", "space-delimited scopes (default: all the client may have)")
	f.DurationVar(&req.lifetime, "lifetime", 0, "lifetime in whole seconds, e.g. 90s (default: the client's)")
	f.StringArrayVar(&req.claims, "claim", nil, "extra JWT claim NAME=VALUE (VALUE as JSON when it parses, else a string; repeatable)")
	f.StringVar(&req.defect, "defect", "", "expired, not-yet-valid, wrong-issuer, wrong-audience, bad-signature, alg-none, unknown-kid or foreign-key")
	list := &cobra.Command{
		Use: "list", Short: "List the live tokens, redacted", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.listTokens(cmd) },
	}
	revoke := &cobra.Command{
		Use: "revoke-all", Short: "Make every issued token dead", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := o.call(cmd.Context(), "token revoke-all", http.MethodDelete, "tokens", nil, nil)
			if err != nil {
				return err
			}
			var out struct {
				Revoked int `json:"revoked"`
			}
			if err := decode("token revoke-all", a, &out); err != nil {
				return err
			}
			return o.print(a, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "revoked %s\n", plural(out.Revoked, "token"))
				return err
			})
		},
	}
	cmd.AddCommand(mint, list, revoke)
	return cmd
}

// parseClaims reads NAME=VALUE pairs; VALUE is JSON when it parses.
func parseClaims(pairs []string) (map[string]any, error) {
	claims := map[string]any{}
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usagef("ctl: token mint: --claim %q: write NAME=VALUE, e.g. --claim tenant=acme", p)
		}
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			v = value
		}
		claims[name] = v
	}
	return claims, nil
}

func (o *ctlOptions) listTokens(cmd *cobra.Command) error {
	a, err := o.call(cmd.Context(), "token list", http.MethodGet, "tokens", url.Values{}, nil)
	if err != nil {
		return err
	}
	var out struct {
		Tokens []struct {
			Token     string `json:"token"`
			Flow      string `json:"flow"`
			ClientID  string `json:"client_id"`
			Scope     string `json:"scope"`
			ExpiresAt string `json:"expires_at"`
		} `json:"tokens"`
	}
	if err := decode("token list", a, &out); err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error {
		if len(out.Tokens) == 0 {
			_, err := fmt.Fprintln(w, "no live token")
			return err
		}
		rows := make([]string, len(out.Tokens))
		for i, t := range out.Tokens {
			rows[i] = strings.Join([]string{t.Token, t.Flow, t.ClientID, orDash(t.Scope), t.ExpiresAt}, "\t")
		}
		return table(w, "TOKEN\tFLOW\tCLIENT\tSCOPE\tEXPIRES AT", rows)
	})
}

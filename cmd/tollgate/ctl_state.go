package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// ctlClock is the clock as the control API shows it.
type ctlClock struct {
	Now    string `json:"now"`
	Frozen bool   `json:"frozen"`
}

func (c ctlClock) String() string {
	if c.Frozen {
		return c.Now + " (frozen)"
	}
	return c.Now + " (running)"
}

// clockCall sends one clock request and prints the clock it answers with.
func (o *ctlOptions) clockCall(cmd *cobra.Command, what, method, path string, body any) error {
	a, err := o.call(cmd.Context(), what, method, path, nil, body)
	if err != nil {
		return err
	}
	var clock ctlClock
	if err := decode(what, a, &clock); err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error { _, err := fmt.Fprintln(w, clock); return err })
}

func newCtlClockCmd(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Show the mock's clock; set, advance or reset it",
		Args:  unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.clockCall(cmd, "clock", http.MethodGet, "clock", nil)
		},
	}
	var frozen bool
	set := &cobra.Command{
		Use:     "set TIME",
		Short:   "Move the clock to TIME (RFC 3339), running or --frozen",
		Example: "  tollgate ctl clock set 2030-01-01T00:00:00Z --frozen",
		Args:    exactArgs(1, "one RFC 3339 time"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := time.Parse(time.RFC3339Nano, args[0]); err != nil {
				return usagef("ctl: clock set: %q is not an RFC 3339 time: write it like 2030-01-01T00:00:00Z", args[0])
			}
			return o.clockCall(cmd, "clock set", http.MethodPut, "clock", map[string]any{"now": args[0], "frozen": frozen})
		},
	}
	set.Flags().BoolVar(&frozen, "frozen", false, "keep the clock there until told otherwise")
	advance := &cobra.Command{
		Use:     "advance DURATION",
		Short:   "Move the clock by DURATION (2h, 90s; -- -1h moves it back)",
		Example: "  tollgate ctl clock advance 31m\n  tollgate ctl clock advance -- -1h",
		Args:    exactArgs(1, "one duration"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := time.ParseDuration(args[0]); err != nil {
				return usagef("ctl: clock advance: %q is not a duration: write it like 90s, 31m or 2h (-- -1h moves back)", args[0])
			}
			return o.clockCall(cmd, "clock advance", http.MethodPost, "clock/advance", map[string]string{"duration": args[0]})
		},
	}
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Back to the system clock",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.clockCall(cmd, "clock reset", http.MethodDelete, "clock", nil)
		},
	}
	cmd.AddCommand(set, advance, reset)
	return cmd
}

func newCtlKeysCmd(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Rotate the signing keys of jwt flows", Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var flow string
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Give the jwt flows (or --flow) a new signing key; the previous one stays in the JWKS until its tokens expire",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client(0)
			if err != nil {
				return err
			}
			body := map[string]string{}
			if flow != "" {
				body["flow"] = flow
			}
			a, err := c.do(cmd.Context(), "keys rotate", http.MethodPost, "keys/rotate", nil, body)
			if err != nil {
				return err
			}
			var out struct {
				Rotated []struct {
					Flow        string `json:"flow"`
					Kid         string `json:"kid"`
					PreviousKid string `json:"previous_kid"`
					RetiresAt   string `json:"retires_at"`
				} `json:"rotated"`
			}
			if err := decode("keys rotate", a, &out); err != nil {
				return err
			}
			return o.print(a, func(w io.Writer) error {
				var rows []string
				for _, r := range out.Rotated {
					rows = append(rows, strings.Join([]string{r.Flow, r.Kid, r.PreviousKid, r.RetiresAt}, "\t"))
				}
				return table(w, "FLOW\tKID\tPREVIOUS KID\tPREVIOUS RETIRES AT", rows)
			})
		},
	}
	rotate.Flags().StringVar(&flow, "flow", "", "rotate only this flow's key")
	cmd.AddCommand(rotate)
	return cmd
}

func newCtlResetCmd(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Back to the configured clock, clients, faults and keys; every token dead; no request captured",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := o.call(cmd.Context(), "reset", http.MethodPost, "reset", nil, nil)
			if err != nil {
				return err
			}
			var out struct {
				Clock  ctlClock `json:"clock"`
				Faults []any    `json:"faults"`
			}
			if err := decode("reset", a, &out); err != nil {
				return err
			}
			return o.print(a, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "reset: clock %s, %s in force\n", out.Clock, plural(len(out.Faults), "fault"))
				return err
			})
		},
	}
}

// plural writes n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// requestFilterFlags registers --endpoint, --flow and --client-id and
// returns the query they make.
func requestFilterFlags(f *pflag.FlagSet) func() url.Values {
	endpoint := f.String("endpoint", "", "only requests to this endpoint: token, revocation, introspection, jwks, metadata or a protected operationId")
	flow := f.String("flow", "", "only requests of this flow")
	client := f.String("client-id", "", "only requests of this client")
	return func() url.Values {
		q := url.Values{}
		for k, v := range map[string]string{"endpoint": *endpoint, "flow": *flow, "client_id": *client} {
			if v != "" {
				q.Set(k, v)
			}
		}
		return q
	}
}

func newCtlRequestsCmd(o *ctlOptions) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "List the requests the mock answered (latest last); count them or wait for them",
		Args:  unknownSubcommand,
	}
	query := requestFilterFlags(cmd.Flags())
	cmd.Flags().IntVar(&limit, "limit", 0, "only the latest N")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := query()
		if cmd.Flags().Changed("limit") {
			if limit < 1 {
				return usagef("ctl: requests: --limit %d: give a positive number", limit)
			}
			q.Set("limit", strconv.Itoa(limit))
		}
		return o.listRequests(cmd, q)
	}
	count := &cobra.Command{
		Use: "count", Short: "Print how many captured requests match", Args: exactArgs(0, "flags only"),
	}
	countQuery := requestFilterFlags(count.Flags())
	count.RunE = func(cmd *cobra.Command, _ []string) error {
		return o.countRequests(cmd, "requests count", "requests/count", countQuery(), 0)
	}
	var n int
	var timeout time.Duration
	wait := &cobra.Command{
		Use:     "wait --count N [--timeout D]",
		Short:   "Wait until N captured requests match; exit 1 when fewer came within the timeout",
		Example: "  tollgate ctl requests wait --endpoint token --count 3 --timeout 5s",
		Args:    exactArgs(0, "flags only"),
	}
	waitQuery := requestFilterFlags(wait.Flags())
	wait.Flags().IntVar(&n, "count", 0, "how many requests to wait for (required)")
	wait.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait, at most 1m")
	wait.RunE = func(cmd *cobra.Command, _ []string) error {
		if n < 1 {
			return usagef("ctl: requests wait: --count %d: say how many requests to wait for, e.g. --count 3", n)
		}
		q := waitQuery()
		q.Set("count", strconv.Itoa(n))
		q.Set("timeout", timeout.String())
		return o.countRequests(cmd, "requests wait", "requests/wait", q, timeout)
	}
	cmd.AddCommand(count, wait)
	return cmd
}

func (o *ctlOptions) listRequests(cmd *cobra.Command, q url.Values) error {
	a, err := o.call(cmd.Context(), "requests", http.MethodGet, "requests", q, nil)
	if err != nil {
		return err
	}
	var out struct {
		Requests []struct {
			Time     string `json:"time"`
			Method   string `json:"method"`
			Path     string `json:"path"`
			Endpoint string `json:"endpoint"`
			Flow     string `json:"flow"`
			ClientID string `json:"client_id"`
			Status   int    `json:"status"`
		} `json:"requests"`
	}
	if err := decode("requests", a, &out); err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error {
		if len(out.Requests) == 0 {
			_, err := fmt.Fprintln(w, "no request captured")
			return err
		}
		rows := make([]string, len(out.Requests))
		for i, r := range out.Requests {
			status := strconv.Itoa(r.Status)
			if r.Status == 0 {
				status = "reset"
			}
			rows[i] = strings.Join([]string{r.Time, r.Method, r.Path, r.Endpoint, orDash(r.Flow), orDash(r.ClientID), status}, "\t")
		}
		return table(w, "TIME\tMETHOD\tPATH\tENDPOINT\tFLOW\tCLIENT\tSTATUS", rows)
	})
}

// countRequests prints the count the server answers with.
func (o *ctlOptions) countRequests(cmd *cobra.Command, what, path string, q url.Values, wait time.Duration) error {
	c, err := o.client(wait)
	if err != nil {
		return err
	}
	a, err := c.do(cmd.Context(), what, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	var out struct {
		Count int `json:"count"`
	}
	if err := decode(what, a, &out); err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error { _, err := fmt.Fprintln(w, out.Count); return err })
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/suites/probe"
)

// defaultCtlTarget is where `tollgate ctl` looks for a mock: the address
// `tollgate serve` listens on by default.
const defaultCtlTarget = "http://" + defaultAddr

// ctlOptions are the flags every `tollgate ctl` command shares.
type ctlOptions struct {
	target  string
	token   string
	json    bool
	timeout time.Duration
	stdout  io.Writer
}

func newCtlCmd(stdout io.Writer) *cobra.Command {
	o := &ctlOptions{stdout: stdout}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Control a running mock: clock, faults, requests, tokens, clients, keys",
		Long: `Control a running tollgate mock through its control API (/_tollgate/,
docs/control.md): move its clock, inject faults, count the requests it got,
mint tokens (good or defective), register clients, rotate keys, reset it.

The target is --target, else TOLLGATE_TARGET, else ` + defaultCtlTarget + `; the
control token (when the mock was started with one) is --control-token, else
TOLLGATE_CONTROL_TOKEN. Output is one line or a small table; --json prints
the server's JSON. Exit codes: 0 done, 1 the mock cannot be reached, failed
(5xx) or a wait timed out, 2 a usage error or a request the mock refused.`,
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.target, "target", "", "base URL of the mock (or TOLLGATE_TARGET; default "+defaultCtlTarget+")")
	f.StringVar(&o.token, "control-token", "", "control token (or TOLLGATE_CONTROL_TOKEN): visible in ps; prefer the variable")
	f.BoolVar(&o.json, "json", false, "print the server's JSON answer")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long one request may take")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usagef("ctl: %w (see --help)", err)
	})
	cmd.AddCommand(newCtlClockCmd(o), newCtlFaultCmd(o), newCtlRequestsCmd(o), newCtlTokenCmd(o),
		newCtlClientCmd(o), newCtlKeysCmd(o), newCtlResetCmd(o))
	return cmd
}

// unknownSubcommand refuses arguments to a command that only groups others.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("ctl: unknown command %q for %s (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

// exactArgs wants n arguments, named in what for the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("ctl: %s takes %s, got %d argument(s) (see %s --help)", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// ctlClient calls the control API of one mock.
type ctlClient struct {
	base  string // no trailing slash
	token string
	http  *http.Client
}

// call sends one control request to the target without waiting for it.
func (o *ctlOptions) call(ctx context.Context, what, method, path string, query url.Values, body any) (ctlAnswer, error) {
	c, err := o.client(0)
	if err != nil {
		return ctlAnswer{}, err
	}
	return c.do(ctx, what, method, path, query, body)
}

// client resolves the target and the token; wait is added to the request
// timeout for calls that wait on the server.
func (o *ctlOptions) client(wait time.Duration) (*ctlClient, error) {
	target := o.target
	if target == "" {
		target = os.Getenv("TOLLGATE_TARGET")
	}
	if target == "" {
		target = defaultCtlTarget
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("ctl: target %q is not an http(s) URL: write it like %s (--target or TOLLGATE_TARGET)", target, defaultCtlTarget)
	}
	token := o.token
	if token == "" {
		token = os.Getenv(controlTokenEnv)
	}
	if o.timeout <= 0 {
		return nil, usagef("ctl: --timeout %v: give a positive duration, e.g. 10s", o.timeout)
	}
	return &ctlClient{base: strings.TrimSuffix(target, "/"), token: token, http: &http.Client{Timeout: o.timeout + wait}}, nil
}

// ctlAnswer is a control API answer that was not refused.
type ctlAnswer struct {
	status int
	body   []byte
}

// do sends one control request (body marshalled as JSON when not nil) and
// returns the answer; refusals and failures are errors that say what to do.
func (c *ctlClient) do(ctx context.Context, what, method, path string, query url.Values, body any) (ctlAnswer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return ctlAnswer{}, fmt.Errorf("ctl: %s: encode the request: %w", what, err)
		}
		r = bytes.NewReader(b)
	}
	u := c.base + "/_tollgate/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return ctlAnswer{}, usagef("ctl: %s: %w", what, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if fix := probe.TransportFix(err); fix != "" {
			return ctlAnswer{}, fmt.Errorf("ctl: %s: cannot reach %s (%w): %s", what, c.base, rootCause(err), fix)
		}
		return ctlAnswer{}, fmt.Errorf("ctl: %s: cannot reach %s (%w): is `tollgate serve` running at %s? set --target or TOLLGATE_TARGET", what, c.base, rootCause(err), c.base)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return ctlAnswer{}, fmt.Errorf("ctl: %s: read the answer of %s: %w", what, c.base, err)
	}
	if resp.StatusCode >= 400 {
		return ctlAnswer{}, c.refusal(what, resp.StatusCode, b)
	}
	return ctlAnswer{status: resp.StatusCode, body: b}, nil
}

// refusal describes an error answer in one line: exit 2 for 4xx (fix the
// request), 1 for 5xx and a wait that timed out.
func (c *ctlClient) refusal(what string, status int, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Description
	switch {
	case status == http.StatusNotFound && !strings.Contains(msg, "/_tollgate/"):
		// Not the control API's own 404, which names the list to look in.
		msg = "the target has no control API at " + c.base + "/_tollgate/ (is it a tollgate mock, started without --control off?)"
	case msg == "":
		msg = strings.TrimSpace(string(bytes.ToValidUTF8(body[:min(len(body), 200)], nil)))
		msg = strings.Join(strings.Fields(msg), " ")
	}
	err := fmt.Errorf("ctl: %s: %s (%d %s)", what, msg, status, strings.TrimSpace(e.Error+" "+http.StatusText(status)))
	if status >= 500 || status == http.StatusRequestTimeout {
		return err
	}
	return usageError{err}
}

// rootCause strips the URL that net/http repeats around a transport error.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// print writes the raw JSON answer with --json, else what human writes.
func (o *ctlOptions) print(a ctlAnswer, human func(w io.Writer) error) error {
	if o.json {
		if len(a.body) == 0 {
			return nil
		}
		_, err := fmt.Fprintf(o.stdout, "%s\n", bytes.TrimSpace(a.body))
		return err
	}
	return human(o.stdout)
}

// decode reads an answer body into v.
func decode(what string, a ctlAnswer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("ctl: %s: the answer is not the control API's JSON (%w): is the target a tollgate mock?", what, err)
	}
	return nil
}

// table writes rows under a header, aligned.
func table(w io.Writer, header string, rows []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	return tw.Flush()
}

// orDash shows an empty cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

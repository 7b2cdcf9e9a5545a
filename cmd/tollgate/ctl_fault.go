package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ctlFault is a fault as the control API shows it.
type ctlFault struct {
	ID          string          `json:"id"`
	Endpoint    string          `json:"endpoint"`
	Flow        string          `json:"flow"`
	ClientID    string          `json:"client_id"`
	After       int             `json:"after"`
	Every       int             `json:"every"`
	Probability float64         `json:"probability"`
	Seed        uint64          `json:"seed"`
	Times       int             `json:"times"`
	Latency     string          `json:"latency"`
	Jitter      string          `json:"jitter"`
	Status      int             `json:"status"`
	Body        json.RawMessage `json:"body"`
	RetryAfter  int             `json:"retry_after"`
	Reset       bool            `json:"reset"`
	Fired       int             `json:"fired"`
}

const faultHeader = "ID\tENDPOINT\tFLOW\tCLIENT\tWHEN\tEFFECT\tFIRED"

// row is the fault as a table row.
func (f ctlFault) row() string {
	var when []string
	if f.After > 0 {
		when = append(when, "after "+strconv.Itoa(f.After))
	}
	if f.Every > 1 {
		when = append(when, "every "+strconv.Itoa(f.Every))
	}
	if f.Probability > 0 {
		when = append(when, "p="+strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	if f.Times > 0 {
		when = append(when, plural(f.Times, "time")+" at most")
	}
	if len(when) == 0 {
		when = append(when, "always")
	}
	var effect []string
	if f.Latency != "" {
		effect = append(effect, "+"+f.Latency)
	}
	if f.Jitter != "" {
		effect = append(effect, "±"+f.Jitter)
	}
	if f.Status != 0 {
		effect = append(effect, strconv.Itoa(f.Status))
	}
	if f.RetryAfter > 0 {
		effect = append(effect, "Retry-After "+strconv.Itoa(f.RetryAfter))
	}
	if f.Reset {
		effect = append(effect, "reset")
	}
	return strings.Join([]string{f.ID, f.Endpoint, orDash(f.Flow), orDash(f.ClientID), strings.Join(when, ", "),
		strings.Join(effect, " "), strconv.Itoa(f.Fired)}, "\t")
}

// faultFlags registers a flag for every Fault field and builds the request
// body from the ones given.
func faultFlags(f *pflag.FlagSet) func() (map[string]any, error) {
	strs := map[string]*string{}
	for _, s := range []struct{ flag, help string }{
		{"id", "name of the fault (default: assigned, f1, f2, ...)"},
		{"endpoint", "token, revocation, introspection, jwks, metadata or a protected operationId (required)"},
		{"flow", "only this flow's endpoint"},
		{"client-id", "only requests of this client"},
		{"latency", "delay the answer, e.g. 300ms"},
		{"jitter", "add a uniform ±jitter to the latency"},
		{"body", "answer with this JSON body (with --status)"},
	} {
		strs[s.flag] = f.String(s.flag, "", s.help)
	}
	ints := map[string]*int{}
	for _, s := range []struct{ flag, help string }{
		{"after", "let this many matching requests through first"},
		{"every", "fire on every Nth matching request"},
		{"times", "fire at most this often (0: without end)"},
		{"status", "answer with this HTTP status, e.g. 503"},
		{"retry-after", "seconds in Retry-After (with --status)"},
	} {
		ints[s.flag] = f.Int(s.flag, 0, s.help)
	}
	probability := f.Float64("probability", 0, "fire with this chance, 0 to 1")
	seed := f.Uint64("seed", 0, "makes --probability and --jitter reproducible")
	reset := f.Bool("reset", false, "close the connection without an answer")
	return func() (map[string]any, error) {
		body := map[string]any{}
		for flag, v := range strs {
			if !f.Changed(flag) {
				continue
			}
			if flag == "body" {
				if !json.Valid([]byte(*v)) {
					return nil, usagef("ctl: fault add: --body %q is not JSON: quote it for the shell, e.g. --body '{\"error\":\"slow_down\"}'", *v)
				}
				body["body"] = json.RawMessage(*v)
				continue
			}
			body[strings.ReplaceAll(flag, "-", "_")] = *v
		}
		for flag, v := range ints {
			if f.Changed(flag) {
				body[strings.ReplaceAll(flag, "-", "_")] = *v
			}
		}
		if f.Changed("probability") {
			body["probability"] = *probability
		}
		if f.Changed("seed") {
			body["seed"] = *seed
		}
		if f.Changed("reset") {
			body["reset"] = *reset
		}
		return body, nil
	}
}

func newCtlFaultCmd(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "fault", Short: "Inject faults: latency, error statuses, reset connections", Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	add := &cobra.Command{
		Use:     "add --endpoint E [flags]",
		Short:   "Put a fault in force",
		Example: "  tollgate ctl fault add --endpoint token --status 503 --retry-after 2 --times 1",
		Args:    exactArgs(0, "flags only"),
	}
	build := faultFlags(add.Flags())
	add.RunE = func(cmd *cobra.Command, _ []string) error {
		body, err := build()
		if err != nil {
			return err
		}
		return o.faultCall(cmd, "fault add", http.MethodPost, "faults", body, func(a ctlAnswer) (string, error) {
			var f ctlFault
			err := decode("fault add", a, &f)
			return f.row(), err
		})
	}
	list := &cobra.Command{
		Use: "list", Short: "List the faults in force, with how often each fired", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.faultCall(cmd, "fault list", http.MethodGet, "faults", nil, func(a ctlAnswer) (string, error) {
				var out struct {
					Faults []ctlFault `json:"faults"`
				}
				if err := decode("fault list", a, &out); err != nil {
					return "", err
				}
				if len(out.Faults) == 0 {
					return "", nil
				}
				rows := make([]string, len(out.Faults))
				for i, f := range out.Faults {
					rows[i] = f.row()
				}
				return strings.Join(rows, "\n"), nil
			})
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Take a fault out of force", Args: exactArgs(1, "one fault id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.simpleCall(cmd, "fault delete", http.MethodDelete, "faults/"+url.PathEscape(args[0]), "deleted fault "+args[0])
		},
	}
	clearCmd := &cobra.Command{
		Use: "clear", Short: "Take every fault out of force", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.simpleCall(cmd, "fault clear", http.MethodDelete, "faults", "no fault in force")
		},
	}
	cmd.AddCommand(add, list, del, clearCmd)
	return cmd
}

// faultCall sends one fault request and prints the rows rows makes, under
// the fault table's header.
func (o *ctlOptions) faultCall(cmd *cobra.Command, what, method, path string, body any, rows func(ctlAnswer) (string, error)) error {
	a, err := o.call(cmd.Context(), what, method, path, nil, body)
	if err != nil {
		return err
	}
	text, err := rows(a)
	if err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error {
		if text == "" {
			_, err := fmt.Fprintln(w, "no fault in force")
			return err
		}
		return table(w, faultHeader, strings.Split(text, "\n"))
	})
}

// simpleCall sends a request that answers without a body and prints done.
func (o *ctlOptions) simpleCall(cmd *cobra.Command, what, method, path, done string) error {
	a, err := o.call(cmd.Context(), what, method, path, nil, nil)
	if err != nil {
		return err
	}
	return o.print(a, func(w io.Writer) error { _, err := fmt.Fprintln(w, done); return err })
}

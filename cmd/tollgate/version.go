package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of tollgate",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, "tollgate", version())
			return err
		},
	}
}

// version describes this binary from the build information the Go
// toolchain embeds; `tollgate version` and `tollgate --version` print it.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return describeBuild(info)
}

// describeBuild returns "VERSION [REVISION[-dirty]] GOVERSION": the module
// version ("devel" for a build from a checkout), the first 12 digits of the
// VCS revision with "-dirty" when the tree had uncommitted changes, and the
// Go version that built it.
func describeBuild(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var revision string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if revision != "" {
		v += " " + revision
		if dirty {
			v += "-dirty"
		}
	}
	return v + " " + info.GoVersion
}

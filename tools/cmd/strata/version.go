package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the command's version and the Strata modules it was built with",
		Long: `Print the version of this command's module and of the Strata library modules
it was built with, as go install recorded them ("(devel)" for a build from
a working tree), and the Go version.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}

// versionLine is "strata v0.1.0 (strata v0.1.0, l2redis v0.1.0, ...; go1.26.8)".
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "strata (no build information) " + runtime.Version()
	}
	const prefix = "github.com/AndrewDonelson/strata/"
	var mods []string
	for _, d := range bi.Deps {
		if name, ok := strings.CutPrefix(d.Path, prefix); ok {
			v := d.Version
			if d.Replace != nil {
				v = "(devel)"
			}
			mods = append(mods, name+" "+v)
		}
	}
	return fmt.Sprintf("strata %s (%s; %s)", bi.Main.Version, strings.Join(mods, ", "), runtime.Version())
}

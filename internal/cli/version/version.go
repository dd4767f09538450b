// Package version holds `signet version` and `signet --version`: what the binary was built from,
// read from the build information Go records in it (module version, VCS revision and time when
// the build had them, Go version).
package version

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register sets the root's --version and adds `version`; both print the same text.
func Register(f *cmdutil.Factory, root *cobra.Command) {
	text := Text(debug.ReadBuildInfo())
	root.Version = firstLineVersion(text)
	// cobra runs the template through text/template: quote any braces in the text.
	root.SetVersionTemplate(strings.ReplaceAll(text, "{{", "{{`{{`}}"))
	root.AddCommand(NewCmdVersion(f, text))
}

// NewCmdVersion builds `version`, printing text.
func NewCmdVersion(f *cmdutil.Factory, text string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version signet was built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(f.IO.Out, text)
			return err
		},
	}
}

// Text renders build information: a first line "signet version V" (as nsc's "nsc version V",
// for scripts that take the third word), then the revision, its time and the Go version.
func Text(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "signet version unknown (no build information in the binary)\n"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "signet version %s\n", v)
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if modified {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "commit:  %s\n", rev)
	}
	if at != "" {
		fmt.Fprintf(&b, "built:   %s\n", at)
	}
	if bi.GoVersion != "" {
		fmt.Fprintf(&b, "go:      %s\n", bi.GoVersion)
	}
	return b.String()
}

func firstLineVersion(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimPrefix(line, "signet version ")
}

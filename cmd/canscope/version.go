package main

import (
	"runtime/debug"
	"strings"
)

// version is what `canscope --version` prints: the module version the
// binary was built at, the commit (and whether the tree had changes) when
// it was built from a checkout, and the Go version, from the build
// information Go embeds.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	parts := []string{info.Main.Version}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += " (modified)"
		}
		parts = append(parts, "commit "+rev)
	}
	return strings.Join(append(parts, info.GoVersion), ", ")
}

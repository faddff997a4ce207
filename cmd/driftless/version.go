package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// versionFlag is --version, a global flag: the same text as driftless
// version. (urfave/cli's own has the alias -v, which is --verbose here.)
var versionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit", DisableDefaultText: true}

func init() {
	cli.VersionFlag = versionFlag
	cli.VersionPrinter = func(c *cli.Context) {
		if err := printVersion(c); err != nil {
			fmt.Fprintln(c.App.ErrWriter, "driftless: "+err.Error())
		}
	}
}

// versionJSON is `driftless version --json`.
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the version of this binary from its build info.
func buildVersion() versionJSON { return versionOf(debug.ReadBuildInfo()) }

// versionOf is the version that info says (ok is false without build
// info): Main.Version, vcs.revision and vcs.modified.
func versionOf(info *debug.BuildInfo, ok bool) versionJSON {
	v := versionJSON{Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// printVersion prints the version as text or, with --json, JSON.
func printVersion(c *cli.Context) error {
	u, err := newUI(c)
	if err != nil {
		return err
	}
	v := buildVersion()
	if u.json {
		return u.printJSON(v)
	}
	u.printf("%s", v.text())
	return nil
}

// text is the version as driftless version prints it.
func (v versionJSON) text() string {
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case v.Modified:
		commit += " (modified)"
	}
	return fmt.Sprintf("driftless %s\ncommit     %s\ngo         %s %s\n", v.Version, commit, v.Go, v.Platform)
}

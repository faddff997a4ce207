package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	goLine := "go         " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "856ebd5c0ffee"}, {Key: "vcs.modified", Value: "false"}}}, true,
			"driftless v1.4.0\ncommit     856ebd5c0ffee\n" + goLine},
		{"modified checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "856ebd5c0ffee"}, {Key: "vcs.modified", Value: "true"}}}, true,
			"driftless (devel)\ncommit     856ebd5c0ffee (modified)\n" + goLine},
		{"no VCS stamp", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true,
			"driftless (devel)\ncommit     unknown\n" + goLine},
		{"no build info", nil, false, "driftless (unknown)\ncommit     unknown\n" + goLine},
	} {
		if got := versionOf(tc.info, tc.ok).text(); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

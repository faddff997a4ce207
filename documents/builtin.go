package documents

import (
	"embed"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/internal/diag"
)

// BuiltinPrefix names the built-in documents: driftless:RunShellScript.
const BuiltinPrefix = "driftless:"

//go:embed builtin/*.toml
var builtinFS embed.FS

var builtins = sync.OnceValues(func() (map[string]*Document, error) {
	var list diag.List
	out := map[string]*Document{}
	entries, _ := builtinFS.ReadDir("builtin")
	for _, e := range entries {
		src, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(e.Name(), ".toml")
		d := Parse("builtin:"+e.Name(), BuiltinPrefix+name, ".toml", src, &list)
		if d != nil {
			d.File = ""
			out[d.Name] = d
		}
	}
	return out, list.Err()
})

// Builtin returns the built-in document named name ("driftless:NAME"), or
// nil.
func Builtin(name string) *Document {
	m, _ := builtins()
	return m[name]
}

// Builtins returns every built-in document, sorted by name. An error means
// the binary was built with a broken built-in document.
func Builtins() ([]*Document, error) {
	m, err := builtins()
	out := make([]*Document, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Document) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// AWSAlias is an AWS-owned document name that stands for a built-in: its
// parameters, by their AWS names, map to the built-in's, and some values
// to the built-in's spelling.
type AWSAlias struct {
	Builtin string
	Params  map[string]string            // AWS name -> built-in name
	Values  map[string]map[string]string // built-in name -> AWS value -> built-in value
	// Refused, when set, says why the AWS document cannot run without
	// AWS, and what to use instead.
	Refused string
}

var scriptAlias = map[string]string{"commands": "commands", "workingDirectory": "working_directory", "executionTimeout": "timeout_seconds"}

// AWSAliases are the AWS document names an association may give as its
// document (docs/builtins.md#aws-document-names).
var AWSAliases = map[string]*AWSAlias{
	"AWS-RunShellScript":      {Builtin: BuiltinPrefix + "RunShellScript", Params: scriptAlias},
	"AWS-RunPowerShellScript": {Builtin: BuiltinPrefix + "RunPowerShellScript", Params: scriptAlias},
	"AWS-RunPatchBaseline": {Builtin: BuiltinPrefix + "PatchBaseline",
		Params: map[string]string{"Operation": "operation", "RebootOption": "reboot"},
		Values: map[string]map[string]string{"operation": {"Scan": "scan", "Install": "install"}, "reboot": {"NoReboot": "never", "RebootIfNeeded": "if-needed"}}},
	"AWS-JoinDirectoryServiceDomain": {Refused: "AWS-JoinDirectoryServiceDomain joins a domain through AWS Directory Service (aws:domainJoin), which needs AWS: use driftless:JoinDomain (domain, ou, user, password, dns_servers) instead"},
	"AWS-ConfigureAWSPackage":        {Refused: "AWS-ConfigureAWSPackage installs AWS Distributor packages (aws:configurePackage), which need AWS: use driftless:InstallPackages with the distribution's package names instead"},
	"AWS-UpdateSSMAgent":             {Refused: "AWS-UpdateSSMAgent updates the SSM agent (aws:updateSsmAgent), which driftless does not need: drop the association"},
	"AWS-ConfigureCloudWatch":        {Refused: "AWS-ConfigureCloudWatch configures Amazon CloudWatch (aws:cloudWatch), which needs AWS: install a log or metrics agent with driftless:InstallPackages instead"},
}

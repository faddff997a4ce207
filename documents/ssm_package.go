package documents

import (
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
)

// distributorRefusal is the refusal of an aws:configurePackage step that
// needs AWS Distributor; why says how the step shows it.
func distributorRefusal(why string) string {
	return fmt.Sprintf("aws:configurePackage installs AWS Distributor packages (%s), which need AWS: use the package action (apt/dnf/...) with the distribution's package name instead", why)
}

// ssmDistributorInputs refuses the aws:configurePackage inputs that exist
// only for AWS Distributor packages: a version (other than none or
// "latest", which the agent reads as none) picks a version published to
// Distributor, and additionalArguments are handed to the Distributor
// package's install script (agent/plugins/configurepackage). Written as a
// template ("{{ version }}", as AWS-ConfigureAWSPackage does) they are
// still Distributor's, so the step is refused the same, for that reason.
func ssmDistributorInputs(c cfgtree.Checker, in *cfgtree.Node) {
	for _, k := range []string{"version", "additionalArguments"} {
		v := in.Get(k)
		if v == nil {
			continue
		}
		x, scalar := v.Scalar()
		x = strings.TrimSpace(x)
		switch {
		case scalar && (x == "" || (k == "version" && strings.EqualFold(x, "latest"))):
		case v.Kind == cfgtree.Map && len(v.Entries) == 0, v.Kind == cfgtree.Null:
		case k == "version":
			c.Errf(v, "%s", distributorRefusal(fmt.Sprintf("version %q picks a version published to Distributor", x)))
		default:
			c.Errf(v, "%s", distributorRefusal("additionalArguments go to a Distributor package's install script"))
		}
	}
}

// Package ssmcompat checks driftless against a corpus of real, public SSM
// Command documents (testdata/ssm). Its tests load every document with
// driftless, run the ones that need no AWS service on real sshd hosts with
// driftless and with a reference executor that follows the amazon-ssm-agent
// source, and compare step statuses, exit codes and output against the
// outcomes recorded in testdata/ssm/RESULTS.tsv (see the package's tests and
// testdata/ssm/README.md).
package ssmcompat

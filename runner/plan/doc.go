// Package plan turns a document into the steps one host runs: every
// step's inputs rendered for that host (parameters, host fields,
// environment; sources read and downloads fetched and verified), nested
// documents flattened into "outer/inner" steps, preconditions on values
// decided here and platform preconditions left to the host.
//
// A Step is what the script builders (packages posix and powershell)
// compile and what package eval judges the host's reports against. An
// ApplyStep is a step the evaluation found drifted, with what the apply
// script must write or run; Resume says where a script killed by a step's
// timeout starts again. A Redactor holds the secret values that never
// leave in output, diffs or the journal.
package plan

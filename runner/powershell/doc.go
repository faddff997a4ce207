// Package powershell builds the PowerShell scripts that check and correct
// a Windows host's steps (over WinRM, or OpenSSH on Windows), the twins of
// package posix's: CheckScript checks every step, ApplyScript corrects the
// drifted ones, and both report through the same frames (package frame),
// so that the runner evaluates them unchanged. A script travels on stdin
// (Stdin, read by StdinScript), line by line, never on a command line.
// Every generated script parses with a real PowerShell grammar
// (tree-sitter-powershell, in the tests).
package powershell

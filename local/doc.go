// Package local is driftless's transport for transport = "local": it
// implements transport.Conn on the machine driftless runs on, with no
// network. Scripts run with /bin/sh -c (PowerShell on Windows; a script
// too long for one argument from a private temporary file) in their own
// process group, which is killed as a whole when the context is cancelled
// or the Conn closed.
package local

// Command driftless keeps a fleet of machines in a declared state over SSH
// and WinRM, with nothing installed on them, and remembers every drift.
package main

import "os"

func main() {
	os.Exit(Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

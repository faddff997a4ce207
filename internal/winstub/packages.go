package winstub

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// WingetNotFound is winget's exit code when no package matches
// (APPINSTALLER_CLI_ERROR_NO_APPLICATIONS_FOUND, 0x8A150014), as
// PowerShell's $LASTEXITCODE holds it.
const WingetNotFound = -1978335212

// Packages is the package database that DefaultNative serves: what is
// installed, what the sources offer.
type Packages struct {
	// Installed maps a package id (winget) or name (choco) to its
	// installed version; Latest to the newest version the source has (a
	// package missing there cannot be installed).
	Installed map[string]string
	Latest    map[string]string
	// Pinned choco packages are never reported outdated.
	Pinned map[string]bool
	// Fail makes install, upgrade or uninstall of a package exit with
	// this code; Reboot makes them exit 3010 (success, reboot needed).
	Fail   map[string]int
	Reboot map[string]bool
	// ChocoVersion is what choco --version prints (default 2.2.2).
	ChocoVersion string
}

// NewPackages returns an empty database.
func NewPackages() *Packages {
	return &Packages{Installed: map[string]string{}, Latest: map[string]string{}, Pinned: map[string]bool{},
		Fail: map[string]int{}, Reboot: map[string]bool{}, ChocoVersion: "2.2.2"}
}

// Package returns a package's installed version.
func (h *Host) Package(name string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.Packages.Installed[name]
	return v, ok
}

// SetPackage installs (version != "") or removes a package behind the
// runner's back.
func (h *Host) SetPackage(name, version string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if version == "" {
		delete(h.Packages.Installed, name)
		return
	}
	h.Packages.Installed[name] = version
}

// wingetSpinner is what winget writes before its answer when its output
// is not a console: the frames of its progress spinner, each ended by a
// carriage return.
const wingetSpinner = "   - \r   \\ \r   | \r   / \r                                                                                                                        \r"

// WingetList is winget list --id ID --exact for an installed package:
// a table whose Available column appears only when an upgrade exists.
func WingetList(name, id, version, available string) string {
	w := func(s string, n int) string { return s + strings.Repeat(" ", max(1, n-len(s)+1)) }
	nw, iw, vw := max(len(name), 4), max(len(id), 2), max(len(version), 7)
	if available == "" {
		head := w("Name", nw) + w("Id", iw) + w("Version", vw) + "Source"
		return wingetSpinner + head + "\r\n" + strings.Repeat("-", len(head)) + "\r\n" +
			w(name, nw) + w(id, iw) + w(version, vw) + "winget\r\n"
	}
	aw := max(len(available), 9)
	head := w("Name", nw) + w("Id", iw) + w("Version", vw) + w("Available", aw) + "Source"
	return wingetSpinner + head + "\r\n" + strings.Repeat("-", len(head)) + "\r\n" +
		w(name, nw) + w(id, iw) + w(version, vw) + w(available, aw) + "winget\r\n"
}

// WingetNoneInstalled is winget list's answer (exit WingetNotFound) when
// nothing installed matches.
const WingetNoneInstalled = wingetSpinner + "No installed package found matching input criteria.\r\n"

// DefaultNative answers winget.exe and choco.exe from h.Packages with
// their real output formats. h.mu is held.
func (h *Host) DefaultNative(exe string, args []string) (int, string) {
	db := h.Packages
	has := func(a string) bool { return slices.Contains(args, a) }
	after := func(flag string) string {
		if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
		return ""
	}
	upgradable := func(n string) bool {
		cur, ok := db.Installed[n]
		return ok && db.Latest[n] != "" && db.Latest[n] != cur
	}
	switch exe {
	case "winget.exe":
		if len(args) == 0 {
			return 1, "usage: winget [<command>] [<options>]\r\n"
		}
		id := after("--id")
		short := id[strings.LastIndex(id, ".")+1:]
		switch args[0] {
		case "list":
			v, ok := db.Installed[id]
			if !ok || (has("--upgrade-available") && !upgradable(id)) {
				return WingetNotFound, WingetNoneInstalled
			}
			avail := ""
			if upgradable(id) {
				avail = db.Latest[id]
			}
			return 0, WingetList(short, id, v, avail)
		case "install", "upgrade", "uninstall":
			if code, ok := db.Fail[id]; ok {
				return code, fmt.Sprintf("Found %s [%s] Version %s\r\nStarting package install...\r\nInstaller failed with exit code: %d\r\n", short, id, db.Latest[id], code)
			}
			if args[0] == "uninstall" {
				delete(db.Installed, id)
				return 0, fmt.Sprintf("Found %s [%s]\r\nStarting package uninstall...\r\nSuccessfully uninstalled\r\n", short, id)
			}
			if db.Latest[id] == "" {
				return WingetNotFound, "No package found matching input criteria.\r\n"
			}
			db.Installed[id] = db.Latest[id]
			out := fmt.Sprintf("Found %s [%s] Version %s\r\nThis application is licensed to you by its owner.\r\n"+
				"Microsoft is not responsible for, nor does it grant any licenses to, third-party packages.\r\n"+
				"Downloading https://example.invalid/%s.exe\r\n  ██████████████████████████████  1.00 MB / 1.00 MB\r\n"+
				"Successfully verified installer hash\r\nStarting package install...\r\nSuccessfully installed\r\n", short, id, db.Latest[id], short)
			if db.Reboot[id] {
				return 3010, out + "Restart your PC to finish installation.\r\n"
			}
			return 0, out
		}
		return 1, fmt.Sprintf("Unrecognized command: '%s'\r\n", args[0])
	case "choco.exe":
		v2 := !strings.HasPrefix(db.ChocoVersion, "0.") && !strings.HasPrefix(db.ChocoVersion, "1.")
		if len(args) == 0 {
			return 1, "Please run 'choco -?' or 'choco <command> -?' for help menu.\r\n"
		}
		switch args[0] {
		case "--version":
			return 0, db.ChocoVersion + "\r\n"
		case "list":
			if has("--local-only") && v2 {
				return 1, "Chocolatey v" + db.ChocoVersion + "\r\nInvalid argument --local-only. This argument has been removed from the list command and cannot be used.\r\n"
			}
			if !has("--local-only") && !v2 {
				return 1, "Chocolatey v" + db.ChocoVersion + "\r\nthe remote list of the community repository is not what the test expects\r\n"
			}
			name := after("--exact")
			v, ok := db.Installed[name]
			switch {
			case has("--limit-output") && ok:
				return 0, name + "|" + v + "\r\n"
			case has("--limit-output"):
				return 0, ""
			case ok:
				return 0, "Chocolatey v" + db.ChocoVersion + "\r\n" + name + " " + v + "\r\n1 packages installed.\r\n"
			}
			return 0, "Chocolatey v" + db.ChocoVersion + "\r\n0 packages installed.\r\n"
		case "outdated":
			var b strings.Builder
			names := make([]string, 0, len(db.Installed))
			for n := range db.Installed {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				if upgradable(n) {
					fmt.Fprintf(&b, "%s|%s|%s|%t\r\n", n, db.Installed[n], db.Latest[n], db.Pinned[n])
				}
			}
			return 0, b.String()
		case "install", "upgrade", "uninstall":
			var b strings.Builder
			fmt.Fprintf(&b, "Chocolatey v%s\r\n", db.ChocoVersion)
			code := 0
			n := 0
			var names []string
			for _, a := range args[1:] {
				if !strings.HasPrefix(a, "-") {
					names = append(names, a)
				}
			}
			for _, name := range names {
				if c, ok := db.Fail[name]; ok {
					fmt.Fprintf(&b, "ERROR: Running [\"C:\\ProgramData\\chocolatey\\lib\\%s\\tools\\chocolateyInstall.ps1\"] was not successful. Exit code was '%d'.\r\n", name, c)
					code = c
					continue
				}
				if args[0] == "uninstall" {
					delete(db.Installed, name)
					fmt.Fprintf(&b, " %s has been successfully uninstalled.\r\n", name)
					n++
					continue
				}
				if db.Latest[name] == "" {
					fmt.Fprintf(&b, "%s not installed. The package was not found with the source(s) listed.\r\n", name)
					code = 1
					continue
				}
				db.Installed[name] = db.Latest[name]
				fmt.Fprintf(&b, "The %s of %s was successful.\r\n", map[string]string{"install": "install", "upgrade": "upgrade"}[args[0]], name)
				if db.Reboot[name] && code == 0 {
					code = 3010
				}
				n++
			}
			verb := map[string]string{"install": "installed", "upgrade": "upgraded", "uninstall": "uninstalled"}[args[0]]
			fmt.Fprintf(&b, "\r\nChocolatey %s %d/%d packages.\r\n", verb, n, len(names))
			return code, b.String()
		}
		return 1, "Could not find a command registered that meets '" + args[0] + "'.\r\n"
	}
	return 9009, fmt.Sprintf("'%s' is not recognized as an internal or external command.\r\n", exe)
}

// native runs a native command through Host.Native (or DefaultNative),
// logging it.
func (x *execution) native(exe string, args ...string) (int, string) {
	h := x.h
	h.native = append(h.native, strings.TrimSpace(exe+" "+strings.Join(args, " ")))
	if h.Native != nil {
		return h.Native(exe, args)
	}
	return h.DefaultNative(exe, args)
}

// pmFind plays dl_pm_find: the manager asked for (m, or "" for winget
// then choco), "choco <version>", or "none". Cached per script.
func (x *execution) pmFind(m string) string {
	if pm, ok := x.pm[m]; ok {
		return pm
	}
	pm := "none"
	switch {
	case (m == "" || m == "winget") && x.h.Winget:
		pm = "winget"
	case (m == "" || m == "choco") && x.h.Choco:
		_, out := x.native("choco.exe", "--version")
		v := strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0])
		if v == "" {
			v = "0"
		}
		pm = "choco " + v
	}
	x.pm[m] = pm
	return pm
}

// pkgOut plays dl_pkgout: a pkg frame with a query's exit code and
// output.
func (x *execution) pkgOut(i, query, name string, code int, out string) {
	b := []byte(out)
	n := len(b)
	b = b[:min(n, MaxOutput)]
	fmt.Fprintf(x.out, "\n%s %s pkg %d %d %d %s %s\n", x.marker, i, len(b), n, code, query, name)
	x.out.Write(b)
}

// pkgCheck plays dl_pkg_check.
func (x *execution) pkgCheck(i, tag, manager, want string, names []string) {
	pm := x.pmFind(manager)
	x.frame(i, tag, pm)
	f := strings.Fields(pm)
	switch f[0] {
	case "winget":
		for _, n := range names {
			code, out := x.native("winget.exe", "list", "--id", n, "--exact", "--accept-source-agreements")
			x.pkgOut(i, "list", n, code, out)
			if want == "latest" && code == 0 {
				code, out = x.native("winget.exe", "list", "--id", n, "--exact", "--upgrade-available", "--accept-source-agreements")
				x.pkgOut(i, "upgrade", n, code, out)
			}
		}
	case "choco":
		major, _ := strconv.Atoi(strings.SplitN(f[1], ".", 2)[0])
		for _, n := range names {
			args := []string{"list", "--exact", n, "--limit-output"}
			if major < 2 {
				args = []string{"list", "--local-only", "--exact", n, "--limit-output"}
			}
			code, out := x.native("choco.exe", args...)
			x.pkgOut(i, "list", n, code, out)
		}
		if want == "latest" {
			code, out := x.native("choco.exe", "outdated", "--limit-output")
			x.pkgOut(i, "outdated", "-", code, out)
		}
	}
}

// pkgDo plays dl_pkg_do: the manager's command per package (winget) or
// for all (choco), stopping at the first failure; exit 3010 and 1641
// are successes that ask for a reboot.
func (x *execution) pkgDo(pm, verb string, names []string) {
	run := func(exe string, args ...string) {
		if x.rc != 0 {
			return
		}
		code, out := x.native(exe, args...)
		x.so += out
		if out != "" && !strings.HasSuffix(out, "\n") {
			x.so += "\n"
		}
		if code == 3010 || code == 1641 {
			x.so += fmt.Sprintf("driftless: %s exited %d: a reboot is needed to finish\n", exe, code)
			code = 0
		}
		if code != 0 {
			hexa := ""
			if code < 0 {
				hexa = fmt.Sprintf(" (0x%08X)", uint32(code))
			}
			last := ""
			if t := strings.TrimSpace(strings.ReplaceAll(out, "\r\n", "\n")); t != "" {
				ls := strings.Split(t, "\n")
				last = ": " + strings.TrimSpace(ls[len(ls)-1])
			}
			x.se += fmt.Sprintf("%s %s exited %d%s%s\n", exe, strings.Join(args, " "), code, hexa, last)
			x.rc = code
		}
	}
	if pm == "winget" {
		for _, n := range names {
			switch verb {
			case "install", "upgrade":
				run("winget.exe", verb, "--id", n, "--exact", "--silent", "--accept-package-agreements", "--accept-source-agreements")
			case "remove":
				run("winget.exe", "uninstall", "--id", n, "--exact", "--silent", "--accept-source-agreements")
			}
		}
		return
	}
	v := map[string]string{"install": "install", "upgrade": "upgrade", "remove": "uninstall"}[verb]
	run("choco.exe", append(append([]string{v}, names...), "-y", "--no-progress")...)
}

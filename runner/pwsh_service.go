package runner

// The Windows side of the service action: the PowerShell twins of
// system.go's dl_svc_state and dl_svc_do, reporting through the same
// frames, so that evaluateSystem, verifySystem and applied read them
// unchanged:
//
//	state, after  "windows <exists> <running> <enabled>"   (1 or 0 each)
//	run           "<exit code>", then payloads out and err
//
// A service is found by its service name (Get-Service -Name; a match on
// the display name alone does not count). It is running when its Status
// is Running, and enabled when its StartType is Automatic (delayed start
// included). Enabling sets StartType Automatic; disabling sets Manual,
// the Windows equivalent of a systemd unit that is not started at boot
// but can still be started (Disabled would also forbid starting it).
// Startup type changes run before start and stop, so that a Disabled
// service that should be running and enabled can start.

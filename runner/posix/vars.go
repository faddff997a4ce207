package posix

// shellVars declares every variable the scripts set (a numbered one,
// such as dl_p3, by its name without the number): the names the
// fragments exchange values through, with what each holds, who sets it
// and who reads it. A test checks that the golden scripts set no other.
//
// Script-wide values live for the whole script; a step's values are set
// by the first fragment of its block and read only within it; a helper's
// are its own (sh has no local variables).
var shellVars = map[string]string{
	// Script-wide.
	"dl_os":      "the host's OS: Linux, MacOS, … (prelude)",
	"dl_ob":      "frames not yet written: dl_frame and its like gather them, and they are written in one go before anything else writes to stdout, when a command starts or ends, and at the end",
	"dl_shacmd":  "the SHA-256 program: sha256sum or shasum -a 256 (prelude)",
	"dl_t":       "the prefix of the script's private files, once made (dl_need_t)",
	"dl_um0":     "the login umask, restored after a mode is given by umask (dl_need_t)",
	"dl_clean":   "check script: every step so far is in state or was corrected; emptied by a step that is not (writeClean)",
	"dl_stop":    "apply script: why the steps after are skipped, empty while none is (ApplyScript)",
	"dl_fixed":   "dl_fixedN: step N was corrected by the check script (inlineFix)",
	"dl_pm_auto": "the package manager detected, once (SystemPrelude)",
	// What the script keeps on its host (hostPrelude).
	"dl_key": "the association and host the script runs (MainFor): its record's name, empty for none",
	"dl_tok": "the marker's random part: the name of the script's private files",
	"dl_id":  "dl_key and the shell's pid: the environment markers' start",
	"dl_me":  "the shell's pid: what the record and the .u file say of the script",
	"dl_mt":  "the time the record was last written (dl_same)",
	"dl_u":   "the user's private directory of driftless files, empty when none is safe",
	"dl_lk":  "the record of the script's association and host, empty when none",
	"dl_cn":  "how many commands the script started (dl_mark)",
	"dl_cur": "the environment marker (DRIFTLESS_STEP) of the running command, empty between commands",
	"dl_rn":  "rounds so far (dl_reap, dl_end)",
	"dl_rm":  "the marker dl_reap looks for",
	"dl_rq":  "a process found by dl_reap",
	"dl_gq":  "the prefix of the dead script's files dl_gone removes",
	"dl_q":   "a dead script's .u file (dl_sweep)",
	"dl_wp":  "pid of an older script: the record's, a .u file's (dl_sweep)",
	"dl_wc":  "its running command's marker (the record's)",
	// The batch stat of the check script, slot N (batchStat), read by the
	// step in that slot (statFrameAt, lineCheck).
	"dl_bok": "the batch stat gave a line per path",
	"dl_any": "one of the batch's paths exists",
	"dl_p":   "dl_pN: the path of slot N, or / when it is missing",
	"dl_e":   "dl_eN: slot N's path existed when the batch was taken; also dl_svc_state's 'exists'",
	"dl_f":   "dl_fN: the file of slot N to hash, or /dev/null",
	"dl_l":   "dl_lN: the stat line of slot N; also a line read by a helper",
	"dl_x":   "the batch stat's output; also a helper's scratch",
	"dl_ifs": "IFS, kept while the batch's lines are split",
	// A step's values (kindTest, dl_stat, dl_sha, lineCheck), read by its
	// clean test and its correction.
	"dl_k":   "what is at the path: 0 missing, 1 as wanted, 2 something else",
	"dl_s":   "the file's SHA-256, or - (dl_sN: slot N's)",
	"dl_m":   "the path's mode in octal, or - (dl_mN: slot N's)",
	"dl_o":   "the path's owner, or - (dl_oN: slot N's)",
	"dl_g":   "the path's group, or - (dl_gN: slot N's)",
	"dl_z":   "the file's size (dl_zN: slot N's)",
	"dl_lc":  "line step: in state",
	"dl_sr":  "line step: the shell read the whole file",
	"dl_h":   "line step: the line is in the file (dl_hasline)",
	"dl_rc":  "the exit status of the step's last command (checkCmd, runCmd)",
	"dl_a":   "the attempt of a run (runLoop)",
	"dl_nf":  "nopwsh when an SSM PowerShell step found no pwsh, else empty (pwshCmd)",
	"dl_ok":  "the correction has not failed so far (applyFragment)",
	"dl_tmp": "the temporary file beside a target, renamed over it (applyFragment, lineFix)",
	"dl_um":  "the umask that gives a new file its mode (lineFix)",
	// A helper's own.
	"dl_n":  "bytes read so far (dl_payload, dl_hasline)",
	"dl_r":  "a remainder (lineFix's umask); dl_svc_state's 'running'",
	"dl_en": "dl_svc_state's 'enabled'",
	"dl_w":  "what dl_pkg_list reports: absent or present",
	"dl_i":  "the interpreter a #! line names (dl_script)",
}

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// runCompletion prints the completion script of the shell named.
func runCompletion(c *cli.Context) error {
	switch c.Args().First() {
	case "bash":
		fmt.Fprint(c.App.Writer, bashCompletion)
	case "zsh":
		fmt.Fprint(c.App.Writer, zshCompletion)
	case "fish":
		s, err := c.App.ToFishCompletion()
		if err != nil {
			return exitWith(exitInvalid, err)
		}
		fmt.Fprint(c.App.Writer, s)
	default:
		return usageError("completion: expected bash, zsh or fish, got %q", c.Args().First())
	}
	return nil
}

const bashCompletion = `# driftless bash completion
_driftless() {
	local cur words
	COMPREPLY=()
	cur="${COMP_WORDS[COMP_CWORD]}"
	if [[ "$cur" == -* ]]; then
		words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _driftless driftless
`

const zshCompletion = `#compdef driftless
_driftless() {
	local -a opts
	local cur=${words[-1]}
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[@]:0:#words[@]-1} $cur --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
	fi
	_describe 'values' opts
}
compdef _driftless driftless
`

#!/bin/sh
# dupcount.sh: the repeated blocks of six or more lines in the committed
# tree, counted by the developers' `duplicates` tool (from the team's
# tool library, not part of this repository) with import lines passed
# over, as the tool documents.
#
# The tool passes over single import lines (import "fmt") but reads the
# lines inside a grouped import ( ... ) as code, and any run of four or
# more import paths then looks like any other (a path is a "value" to
# it). So this copies HEAD to a temporary directory, rewrites each group
# as the single import lines it stands for (the same program: gofmt
# accepts both forms), and counts the copy. Arguments go to the tool
# (default: --most 200 --seconds 120).
set -eu
command -v duplicates >/dev/null || { echo "dupcount: the duplicates tool is not on PATH" >&2; exit 1; }
repo=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$repo" archive HEAD | tar -x -C "$tmp"
find "$tmp" -name '*.go' | while IFS= read -r f; do
	awk '
		/^import \([[:space:]]*(\/\/.*)?$/ { group = 1; next }
		group && inblock { print; if ($0 ~ /\*\//) inblock = 0; next }
		group && /^[[:space:]]*\)[[:space:]]*(\/\/.*)?$/ { group = 0; next }
		group && /^[[:space:]]*\/\*/ { print; if ($0 !~ /\*\//) inblock = 1; next }
		group && /^[[:space:]]*(\/\/.*)?$/ { print; next }
		group { sub(/^[[:space:]]+/, ""); print "import " $0; next }
		{ print }
	' "$f" >"$f.dupcount" && mv "$f.dupcount" "$f"
done
cd "$tmp"
git init -q
git add -A
git -c user.name=dupcount -c user.email=dupcount@localhost -c commit.gpgsign=false commit -q --no-verify -m tree
if [ $# -eq 0 ]; then set -- --most 200 --seconds 120; fi
duplicates "$@"

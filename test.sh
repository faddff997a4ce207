#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine
# with Go (OpenSSH's sshd for tests against real SSH servers; the five
# shells the generated scripts run under; shellcheck; Node.js for the
# PowerShell grammar; Chromium for the HTML report's browser tests;
# PostgreSQL's server programs for the journal's tests on a throwaway
# server, internal/pgtest),
# checks formatting, go.mod, vet and staticcheck, then runs every test
# with the race detector.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/lib/openssh/sftp-server ] || need+=(openssh-sftp-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v script >/dev/null || need+=(bsdutils)
/usr/bin/python3 -c 'import winrm, requests_ntlm' 2>/dev/null || need+=(python3-winrm)
for p in dash bash busybox mksh zsh shellcheck; do
  command -v "$p" >/dev/null || need+=("$p")
done
# driftless completion is tested in fish too; driftless man is rendered by man.
command -v fish >/dev/null || need+=(fish)
command -v man >/dev/null || need+=(man-db)
command -v chromium >/dev/null || need+=(chromium)
# Debian keeps the server programs off PATH, one directory per version.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# npm ci builds tree-sitter's native module where its prebuilt one does not
# load (Debian 12's libstdc++ is too old for it): node-gyp needs these.
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The PowerShell grammar the tests parse generated scripts with
# (internal/psparse), installed inside the repository from its lock file,
# again when the lock file is newer than the installation.
psnode=internal/psparse/node
[ "$psnode/node_modules/.package-lock.json" -nt "$psnode/package-lock.json" ] ||
  npm ci --prefix "$psnode" --no-audit --no-fund

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:" >&2
  echo "$unformatted" >&2
  exit 1
fi
unsorted=$(go tool goimports -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unsorted" ]; then
  echo "goimports needed on (import groups and order):" >&2
  echo "$unsorted" >&2
  exit 1
fi
go mod tidy -diff || { echo "test.sh: go.mod/go.sum are not tidy: run go mod tidy" >&2; exit 1; }
go vet ./...
go tool staticcheck ./...
# Every switch over an enumerated type (statuses, actions, frame kinds...)
# names each value or says what the others do (a default).
go tool exhaustive -d ./...
# PostgreSQL was installed above: tests needing it fail rather than skip
# when it cannot be found (internal/pgtest).
export DRIFTLESS_REQUIRE_PG=1
go test -race -timeout 14m ./...
# The 10,000-host report's size and speed (docs/report.md) are measured
# without the race detector, which makes SQLite ~30x slower.
go test -count=1 -run '^TestReportLargeFleet$' ./internal/htmlreport

#!/usr/bin/env bash
# setup.sh — installs the Debian 12 packages needed to build, test and run (idempotent; a fast
# no-op when everything is present). Services are not started by apt: a temporary
# /usr/sbin/policy-rc.d forbids it while installing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libpq-dev libhiredis-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    postgresql-15 postgresql-client-15 redis-server
    wrk nginx-light curl tzdata
)

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian 12"

# One dpkg-query for all packages; unknown ones are simply absent from its output.
declare -A installed=()
while read -r name status; do
    if [[ "$status" == "install ok installed" ]]; then
        installed[${name%%:*}]=1
    fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for pkg in "${PACKAGES[@]}"; do
    [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    info "all ${#PACKAGES[@]} required packages are installed"
    exit 0
fi

step "installing packages: ${missing[*]}"

POLICY=/usr/sbin/policy-rc.d
created_policy=0
remove_policy() {
    if [[ $created_policy -eq 1 ]]; then
        as_root rm -f "$POLICY"
        created_policy=0
    fi
}
trap remove_policy EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Keep apt from starting postgresql/redis/nginx system-wide; we run private instances.
if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# temporary, from scripts/setup.sh: do not start services during install\nexit 101\n' |
        as_root tee "$POLICY" >/dev/null
    as_root chmod 755 "$POLICY"
    created_policy=1
fi

as_root env DEBIAN_FRONTEND=noninteractive apt-get update
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

remove_policy
info "installed: ${missing[*]}"

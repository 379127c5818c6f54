#!/usr/bin/env bash
# Shared helpers for scripts/*.sh. Source it; do not execute it.
# shellcheck shell=bash

if [[ -n "${EC_LIB_COMMON_LOADED:-}" ]]; then
    return 0
fi
EC_LIB_COMMON_LOADED=1

# Progress line: "==> message".
step() { printf '==> %s\n' "$*"; }
# Informational line, indented under the current step.
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Runs "$@" with root privileges: directly when root, through sudo when available.
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root privileges for: $* (run as root or install sudo)"
    fi
}

# "12s" / "3m 05s" from a number of seconds.
fmt_elapsed() {
    local s=$1
    if (( s >= 60 )); then
        printf '%dm %02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

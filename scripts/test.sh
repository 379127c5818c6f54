#!/usr/bin/env bash
# test.sh — the one command for all tests (.ci/run calls it):
#   installs missing packages, builds the `debug` preset (ASan+UBSan), starts throw-away
#   PostgreSQL and Redis on free loopback ports in a temp dir, runs ctest, stops them.
# Extra arguments go to ctest, e.g. `./scripts/test.sh -L unit` or `./scripts/test.sh -R Coupon`.
# Environment: EC_BUILD_JOBS (default 2), EC_TEST_JOBS (default 2: unit tests run in parallel;
# integration and e2e tests are RUN_SERIAL), EC_KEEP_TEMP=1 keeps the temp dir even on success.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

START_SECONDS=$SECONDS
SVC_DIR=""
PG_PORT=""
REDIS_PORT=""

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n "$SVC_DIR" && -d "$SVC_DIR" ]]; then
        step "stopping PostgreSQL and Redis"
        [[ -n "$REDIS_PORT" ]] && redis_stop "$SVC_DIR/redis" "$REDIS_PORT"
        pg_stop "$SVC_DIR/pg"
        if [[ $rc -eq 0 && -z "${EC_KEEP_TEMP:-}" ]]; then
            rm -rf "$SVC_DIR"
        else
            if [[ $rc -ne 0 ]]; then
                svc_tail_logs "$SVC_DIR/pg" 40
                svc_tail_logs "$SVC_DIR/redis" 20
            fi
            info "kept service directory: $SVC_DIR"
        fi
    fi
    if [[ $rc -eq 0 ]]; then
        step "all tests passed ($(fmt_elapsed $((SECONDS - START_SECONDS))))"
    else
        step "FAILED with exit status $rc ($(fmt_elapsed $((SECONDS - START_SECONDS))))"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# LeakSanitizer cannot run under ptrace (strace/gdb, some container sandboxes). Probe once with a
# tiny leak-free ASan program and fall back to detect_leaks=0 when LSan itself fails.
lsan_works() {
    local probe_dir out
    probe_dir=$(mktemp -d)
    printf 'int main(void) { return 0; }\n' >"$probe_dir/p.c"
    if ! cc -fsanitize=address -o "$probe_dir/p" "$probe_dir/p.c" >/dev/null 2>&1; then
        rm -rf "$probe_dir"
        return 0 # cannot tell; keep leak detection on
    fi
    if out=$(ASAN_OPTIONS=detect_leaks=1 "$probe_dir/p" 2>&1); then
        rm -rf "$probe_dir"
        return 0
    fi
    rm -rf "$probe_dir"
    [[ -n "$out" ]] && info "LeakSanitizer probe: $(head -n 2 <<<"$out" | tr '\n' ' ')"
    return 1
}

step "installing packages (if missing)"
scripts/setup.sh

step "building (debug, ASan+UBSan)"
cmake --preset debug --log-level=WARNING
cmake --build --preset debug -j "${EC_BUILD_JOBS:-2}"

SVC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ec-test.XXXXXX")
if is_root; then
    chmod 755 "$SVC_DIR" # the postgres user must reach $SVC_DIR/pg
fi

PG_PORT=$(free_port)
step "starting PostgreSQL on 127.0.0.1:$PG_PORT (dir $SVC_DIR/pg)"
pg_start "$SVC_DIR/pg" "$PG_PORT"
pg_create_db "$PG_PORT" ecommerce_test

REDIS_PORT=$(free_port)
while [[ "$REDIS_PORT" == "$PG_PORT" ]]; do REDIS_PORT=$(free_port); done
step "starting Redis on 127.0.0.1:$REDIS_PORT (dir $SVC_DIR/redis)"
redis_start "$SVC_DIR/redis" "$REDIS_PORT" ephemeral

export EC_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ecommerce_test"
export EC_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export EC_TEST_SERVICES_CTL="$ROOT/scripts/services-ctl.sh"
export EC_SVC_DIR="$SVC_DIR"
export EC_SVC_PG_PORT="$PG_PORT"
export EC_SVC_REDIS_PORT="$REDIS_PORT"
export EC_SVC_REDIS_MODE=ephemeral

if lsan_works; then
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
else
    info "LeakSanitizer does not work here (ptrace/sandbox?): running with detect_leaks=0"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

step "running tests (ctest --preset debug $*)"
info "EC_TEST_PG_URL=$EC_TEST_PG_URL"
info "EC_TEST_REDIS_URL=$EC_TEST_REDIS_URL"
info "ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
set +e
ctest --preset debug --output-on-failure --no-tests=error -j "${EC_TEST_JOBS:-2}" "$@"
ctest_rc=$?
set -e
exit "$ctest_rc"

#!/usr/bin/env bash
# run.sh — the one command for the main job:
#   installs missing packages, builds the `release` preset, starts a private PostgreSQL
#   (127.0.0.1:55432) and Redis (127.0.0.1:56379, AOF) under .local/ (data kept between runs;
#   reused when already running), creates database `ecommerce`, and serves
#   `build/release/ecommerce --profile local serve` (it migrates and seeds itself) on
#   http://127.0.0.1:8080. Ctrl-C / SIGTERM stops the server and the services this run started.
# Environment: EC_PORT (HTTP port, default 8080), EC_BUILD_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

APP_PORT=${EC_PORT:-8080}
PG_PORT=55432
REDIS_PORT=56379
LOCAL_DIR=$ROOT/.local
PG_DIR=$LOCAL_DIR/pg
REDIS_DIR=$LOCAL_DIR/redis
BIN=$ROOT/build/release/ecommerce
READY_URL="http://127.0.0.1:$APP_PORT/actuator/health/readiness"

if ! [[ "$APP_PORT" =~ ^[0-9]+$ ]] || ((APP_PORT < 1 || APP_PORT > 65535)); then
    die "EC_PORT must be a TCP port number, got '$APP_PORT'"
fi

SERVER_PID=""
OWN_PG=0
OWN_REDIS=0

# shellcheck disable=SC2317  # called from the EXIT trap
stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        step "stopping the server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        if ! wait_pid_gone "$SERVER_PID" 30; then
            warn "server did not stop within 30 s; killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT
    trap '' INT TERM # finish cleaning up even if Ctrl-C is pressed again
    set +e
    stop_server
    if [[ $OWN_REDIS -eq 1 ]]; then
        step "stopping Redis"
        redis_stop "$REDIS_DIR" "$REDIS_PORT"
    fi
    if [[ $OWN_PG -eq 1 ]]; then
        step "stopping PostgreSQL"
        pg_stop "$PG_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy_message() {
    echo "port $APP_PORT on 127.0.0.1 is already in use; stop whatever listens there or run with EC_PORT=<port> $0"
}

if port_in_use "$APP_PORT"; then
    die "$(port_busy_message)"
fi

step "installing packages (if missing)"
scripts/setup.sh

step "building (release)"
cmake --preset release --log-level=WARNING
cmake --build --preset release -j "${EC_BUILD_JOBS:-2}"
[[ -x "$BIN" ]] || die "build finished but $BIN is missing"

mkdir -p "$LOCAL_DIR"

step "starting PostgreSQL on 127.0.0.1:$PG_PORT (data in ${PG_DIR#"$ROOT"/})"
pg_start "$PG_DIR" "$PG_PORT"
OWN_PG=$PG_STARTED
pg_create_db "$PG_PORT" ecommerce

step "starting Redis on 127.0.0.1:$REDIS_PORT (data in ${REDIS_DIR#"$ROOT"/})"
redis_start "$REDIS_DIR" "$REDIS_PORT" persistent
OWN_REDIS=$REDIS_STARTED

if port_in_use "$APP_PORT"; then
    die "$(port_busy_message)"
fi

server_args=(--profile local)
if [[ -n "${EC_PORT:-}" ]]; then
    server_args+=(--set "server.port=$APP_PORT")
fi
export SERVER_PORT="$APP_PORT"

step "starting ${BIN#"$ROOT"/} ${server_args[*]} serve"
"$BIN" "${server_args[@]}" serve &
SERVER_PID=$!

info "waiting for $READY_URL (up to 60 s)"
set +e
wait_for_http "$READY_URL" 60 "$SERVER_PID"
ready_rc=$?
set -e
if [[ $ready_rc -eq 2 ]]; then
    set +e
    wait "$SERVER_PID"
    server_rc=$?
    set -e
    SERVER_PID=""
    die "the server exited during start-up (status $server_rc); see its output above"
elif [[ $ready_rc -ne 0 ]]; then
    warn "the server is not ready after 60 s; readiness says: $(curl -s --max-time 2 "$READY_URL" || echo 'no answer')"
fi

base="http://127.0.0.1:$APP_PORT"
cat <<EOF

==> ready on $base — try:
   curl -s $base/api/users/1
   curl -s $base/api/users/1/balance
   curl -s -X POST $base/api/users/1/balance/charge -H 'Content-Type: application/json' -d '{"amount":10000,"idempotencyKey":"demo-1"}'
   curl -s $base/api/products/top
   curl -s '$base/api/products/ranking/top?limit=5'
   curl -s -X POST $base/api/orders/complete -H 'Content-Type: application/json' -d '{"userId":1,"items":[{"productId":2,"quantity":1}]}'
   curl -s -X POST $base/api/coupons/1/reserve -H 'Content-Type: application/json' -d '{"userId":1000}'
   curl -s $base/api/coupons/1/reservations/1000
   curl -s $base/actuator/health
   curl -s $base/actuator/prometheus | head
    (Ctrl-C stops the server$( ((OWN_PG || OWN_REDIS)) && echo ", and the PostgreSQL/Redis this run started"))

EOF

set +e
wait "$SERVER_PID"
server_rc=$?
set -e
SERVER_PID=""
info "the server exited with status $server_rc"
exit "$server_rc"

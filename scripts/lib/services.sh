#!/usr/bin/env bash
# Private PostgreSQL and Redis instances under a directory of our own, on loopback.
# Source it; do not execute it. Used by run.sh, test.sh and services-ctl.sh.
#
#   pg_start DIR PORT          initdb DIR/data when missing, start (or reuse) on 127.0.0.1:PORT
#   pg_stop DIR                fast shutdown; no-op when not running
#   pg_crash DIR               immediate shutdown, like a crash (tests of durability)
#   pg_restart DIR PORT
#   pg_is_running DIR
#   pg_create_db PORT NAME     create database NAME when missing
#   redis_start DIR PORT [persistent|ephemeral]   (default ephemeral: no RDB, no AOF)
#   redis_stop DIR PORT        SHUTDOWN (or kill by pidfile), wait until gone
#   redis_restart DIR PORT [MODE]
#   redis_is_running DIR PORT
#   wait_for_pg PORT SECS, wait_for_redis PORT SECS, wait_for_http URL SECS [PID], wait_pid_gone PID SECS
#   free_port                  prints a free TCP port on 127.0.0.1
#   port_in_use PORT           true when something accepts connections on 127.0.0.1:PORT
#   svc_tail_logs DIR [N]      last N lines of DIR/pg.log and DIR/redis.log, when present
#
# Layout inside a PostgreSQL DIR: data/ (cluster), sock/ (unix socket), pg.log, initdb.log.
# Layout inside a Redis DIR: redis.pid, redis.log, appendonlydir/ (persistent mode).
#
# PostgreSQL refuses to run as root: when root, the server-side binaries run as the `postgres`
# system user and DIR is owned by it.
#
# After pg_start / redis_start, PG_STARTED / REDIS_STARTED is 1 when this call started the
# server and 0 when it reused one that was already running.
# shellcheck shell=bash

if [[ -n "${EC_LIB_SERVICES_LOADED:-}" ]]; then
    return 0
fi
EC_LIB_SERVICES_LOADED=1

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-postgres}
PG_STARTED=0
REDIS_STARTED=0

# ---------------------------------------------------------------------------------------------
# generic helpers

# _svc_abs DIR: DIR as an absolute path (server-side commands run from /).
_svc_abs() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/${1#./}" ;;
    esac
}

# Sleeps a fraction of a second (falls back to 1 s where fractional sleep is unsupported).
_svc_nap() { sleep 0.2 2>/dev/null || sleep 1; }

# wait_pid_gone PID SECS: true once PID no longer exists, false on timeout.
wait_pid_gone() {
    local pid=$1 secs=$2 deadline
    deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null; do
        # A zombie child of ours counts as gone.
        if [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == Z* ]]; then
            return 0
        fi
        ((SECONDS < deadline)) || return 1
        _svc_nap
    done
    return 0
}

# port_in_use PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    local port=$1
    (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null
}

# free_port: prints a TCP port on 127.0.0.1 that nothing is bound to, chosen at random below the
# usual ephemeral range (so outgoing connections do not take it meanwhile).
free_port() {
    local port tries
    if command -v python3 >/dev/null 2>&1 && python3 -c '' >/dev/null 2>&1; then
        if python3 - <<'PY' 2>/dev/null; then
import random, socket, sys
for _ in range(200):
    port = random.randint(20000, 32000)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
PY
            return 0
        fi
    fi
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 12000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

# wait_for_http URL SECS [PID]: true once URL answers 2xx; false on timeout or when PID dies.
wait_for_http() {
    local url=$1 secs=$2 pid=${3:-} deadline
    deadline=$((SECONDS + secs))
    until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        ((SECONDS < deadline)) || return 1
        _svc_nap
    done
    return 0
}

# svc_tail_logs DIR [N]: prints the tail of the service logs found directly in DIR.
svc_tail_logs() {
    local dir=$1 n=${2:-30} f
    for f in "$dir/pg.log" "$dir/redis.log"; do
        if [[ -s "$f" ]]; then
            printf -- '---- last %d lines of %s ----\n' "$n" "$f"
            tail -n "$n" "$f"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Runs a PostgreSQL server-side command as the cluster owner: the postgres system user when we
# are root, ourselves otherwise. Runs from / so that an unreadable cwd does not matter.
pg_as_owner() {
    if is_root; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u "$PG_OS_USER" -- "$@")
        else
            local cmd
            cmd=$(printf '%q ' "$@")
            (cd / && su "$PG_OS_USER" -s /bin/bash -c "$cmd")
        fi
    else
        "$@"
    fi
}

_pg_require_binaries() {
    [[ -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/initdb" ]] ||
        die "PostgreSQL 15 binaries not found in $PG_BIN (run ./scripts/setup.sh)"
    if is_root; then
        id -u "$PG_OS_USER" >/dev/null 2>&1 ||
            die "running as root but system user '$PG_OS_USER' does not exist (install postgresql-15)"
    fi
}

# As root: makes DIR and every ancestor searchable by the postgres user (adds o+x where missing).
_pg_make_traversable() {
    local target=$1 path="" part
    local -a parts
    IFS=/ read -r -a parts <<<"${target#/}"
    for part in "${parts[@]}"; do
        [[ -n "$part" ]] || continue
        path="$path/$part"
        [[ -d "$path" ]] || break
        if ! pg_as_owner test -x "$path"; then
            info "making $path traversable for the $PG_OS_USER user (chmod o+x)"
            chmod o+x "$path"
        fi
    done
}

# Creates DIR and DIR/sock, owned by the cluster owner.
_pg_prepare_dir() {
    local dir=$1
    mkdir -p "$dir/sock"
    if is_root; then
        _pg_make_traversable "$dir"
        local owner
        owner=$(stat -c %U "$dir")
        if [[ "$owner" != "$PG_OS_USER" ]] ||
            { [[ -e "$dir/data" ]] && [[ "$(stat -c %U "$dir/data")" != "$PG_OS_USER" ]]; }; then
            chown -R "$PG_OS_USER:" "$dir"
        else
            chown "$PG_OS_USER:" "$dir/sock"
        fi
    else
        if [[ -e "$dir/data" && ! -O "$dir/data" ]]; then
            die "$dir/data belongs to $(stat -c %U "$dir/data"), not to $(id -un); remove it or run as that user"
        fi
    fi
}

# pg_is_running DIR: a postmaster for DIR/data is running.
pg_is_running() {
    local dir
    dir=$(_svc_abs "$1")
    [[ -f "$dir/data/PG_VERSION" ]] || return 1
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# wait_for_pg PORT SECS: true once PostgreSQL accepts connections on 127.0.0.1:PORT.
wait_for_pg() {
    local port=$1 secs=$2 deadline
    deadline=$((SECONDS + secs))
    until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
        ((SECONDS < deadline)) || return 1
        _svc_nap
    done
}

_pg_initdb() {
    local dir=$1 port=$2 data=$1/data
    if [[ -e "$data" ]]; then
        # An initdb that did not finish: start over.
        warn "removing incomplete PostgreSQL data directory $data"
        rm -rf "$data"
    fi
    info "initialising PostgreSQL cluster in $data"
    if ! pg_as_owner "$PG_BIN/initdb" -D "$data" -A trust -U postgres --encoding=UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1; then
        tail -n 30 "$dir/initdb.log" >&2
        die "initdb failed (full log: $dir/initdb.log)"
    fi
    cat >>"$data/postgresql.conf" <<CONF

# ---- added by scripts/lib/services.sh ----
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
CONF
}

# pg_start DIR PORT
pg_start() {
    local dir port=$2 data
    dir=$(_svc_abs "$1")
    data=$dir/data
    PG_STARTED=0
    _pg_require_binaries
    _pg_prepare_dir "$dir"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        _pg_initdb "$dir" "$port"
    fi
    if pg_is_running "$dir"; then
        if wait_for_pg "$port" 30; then
            info "PostgreSQL already running on 127.0.0.1:$port (data $data), reusing it"
            return 0
        fi
        die "a PostgreSQL server for $data is running but not answering on 127.0.0.1:$port"
    fi
    if port_in_use "$port"; then
        die "cannot start PostgreSQL: 127.0.0.1:$port is already in use by another process"
    fi
    # -p/-k override postgresql.conf so that a moved directory or another port still works.
    if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/pg.log" -w -t 60 \
        -o "-p $port -k $dir/sock" start >/dev/null; then
        svc_tail_logs "$dir" >&2
        die "PostgreSQL failed to start (log: $dir/pg.log)"
    fi
    # shellcheck disable=SC2034  # read by callers
    PG_STARTED=1
    wait_for_pg "$port" 30 || die "PostgreSQL started but does not answer on 127.0.0.1:$port"
}

# pg_stop DIR: fast shutdown (immediate if that does not finish in 60 s); no-op when not running.
pg_stop() {
    local dir data
    dir=$(_svc_abs "$1")
    data=$dir/data
    pg_is_running "$dir" || return 0
    if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1; then
        warn "PostgreSQL fast shutdown did not finish; trying immediate"
        pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if pg_is_running "$dir"; then
        warn "PostgreSQL in $data is still running"
        return 1
    fi
}

# pg_crash DIR: immediate shutdown, the state a crash leaves: no shutdown checkpoint, and WAL not
# yet flushed (asynchronous commits) is lost; the next start recovers from the WAL. No-op when not
# running.
pg_crash() {
    local dir
    dir=$(_svc_abs "$1")
    pg_is_running "$dir" || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    if pg_is_running "$dir"; then
        warn "PostgreSQL in $dir/data is still running after an immediate shutdown"
        return 1
    fi
}

# pg_restart DIR PORT
pg_restart() {
    pg_stop "$1"
    pg_start "$1" "$2"
}

# pg_create_db PORT NAME: creates database NAME (owner postgres) unless it exists.
pg_create_db() {
    local port=$1 name=$2 exists
    exists=$("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -qtA \
        -c "SELECT 1 FROM pg_database WHERE datname='$name'")
    if [[ "$exists" != 1 ]]; then
        info "creating database $name"
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
    fi
}

# ---------------------------------------------------------------------------------------------
# Redis

_redis_cli() {
    local port=$1
    shift
    redis-cli -h 127.0.0.1 -p "$port" "$@"
}

_redis_pid() {
    local pidfile=$1/redis.pid pid
    [[ -s "$pidfile" ]] || return 1
    pid=$(<"$pidfile")
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
        return 0
    fi
    return 1
}

# redis_is_running DIR PORT: our Redis (pidfile in DIR) is alive and answers PING on PORT.
redis_is_running() {
    local dir port=$2
    dir=$(_svc_abs "$1")
    _redis_pid "$dir" >/dev/null || return 1
    [[ "$(_redis_cli "$port" ping 2>/dev/null)" == PONG ]]
}

# wait_for_redis PORT SECS: true once Redis answers PING on 127.0.0.1:PORT.
wait_for_redis() {
    local port=$1 secs=$2 deadline
    deadline=$((SECONDS + secs))
    until [[ "$(_redis_cli "$port" ping 2>/dev/null)" == PONG ]]; do
        ((SECONDS < deadline)) || return 1
        _svc_nap
    done
}

# redis_start DIR PORT [persistent|ephemeral]
#   persistent: AOF on (appendfsync everysec) plus the default RDB snapshots — for run.sh data
#   ephemeral:  nothing written to disk — for tests
redis_start() {
    local dir port=$2 mode=${3:-ephemeral}
    dir=$(_svc_abs "$1")
    REDIS_STARTED=0
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found (run ./scripts/setup.sh)"
    mkdir -p "$dir"
    if redis_is_running "$dir" "$port"; then
        info "Redis already running on 127.0.0.1:$port (dir $dir), reusing it"
        return 0
    fi
    if port_in_use "$port"; then
        die "cannot start Redis: 127.0.0.1:$port is already in use by another process"
    fi
    local -a args=(
        --port "$port" --bind 127.0.0.1 --protected-mode yes
        --dir "$dir" --daemonize yes
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    )
    case "$mode" in
        persistent) args+=(--appendonly yes --appendfsync everysec) ;;
        ephemeral) args+=(--save '' --appendonly no) ;;
        *) die "redis_start: unknown mode '$mode' (persistent|ephemeral)" ;;
    esac
    if ! redis-server "${args[@]}" >/dev/null; then
        svc_tail_logs "$dir" >&2
        die "redis-server failed to start (log: $dir/redis.log)"
    fi
    if ! wait_for_redis "$port" 30; then
        svc_tail_logs "$dir" >&2
        die "Redis does not answer on 127.0.0.1:$port (log: $dir/redis.log)"
    fi
    # shellcheck disable=SC2034  # read by callers
    REDIS_STARTED=1
}

# redis_stop DIR PORT: SHUTDOWN (saves only what the mode persists), else SIGTERM/SIGKILL by
# pidfile; returns once the process is gone. No-op when not running.
redis_stop() {
    local dir port=$2 pid
    dir=$(_svc_abs "$1")
    if ! pid=$(_redis_pid "$dir"); then
        rm -f "$dir/redis.pid"
        return 0
    fi
    _redis_cli "$port" shutdown >/dev/null 2>&1 || true
    if ! wait_pid_gone "$pid" 20; then
        warn "Redis (pid $pid) ignored SHUTDOWN; sending SIGTERM"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_pid_gone "$pid" 10; then
            warn "Redis (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_pid_gone "$pid" 5 || { warn "Redis (pid $pid) is still running"; return 1; }
        fi
    fi
    rm -f "$dir/redis.pid"
}

# redis_restart DIR PORT [MODE]
redis_restart() {
    redis_stop "$1" "$2"
    redis_start "$1" "$2" "${3:-ephemeral}"
}

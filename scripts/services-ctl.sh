#!/usr/bin/env bash
# services-ctl.sh SERVICE ACTION — stop/start/restart the throw-away PostgreSQL or Redis that
# scripts/test.sh started (integration tests call it through EC_TEST_SERVICES_CTL).
#   SERVICE: pg | redis        ACTION: stop | start | restart | status | crash (pg only: an
#                              immediate shutdown, which loses WAL not yet flushed, like a crash)
# Environment (exported by test.sh):
#   EC_SVC_DIR          directory holding pg/ and redis/
#   EC_SVC_PG_PORT      PostgreSQL port on 127.0.0.1
#   EC_SVC_REDIS_PORT   Redis port on 127.0.0.1
#   EC_SVC_REDIS_MODE   ephemeral (default) | persistent
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

usage() {
    echo "usage: $0 pg|redis stop|start|restart|status, or $0 pg crash" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
service=$1
action=$2

: "${EC_SVC_DIR:?EC_SVC_DIR is not set (run the tests through ./scripts/test.sh)}"
[[ -d "$EC_SVC_DIR" ]] || die "EC_SVC_DIR=$EC_SVC_DIR is not a directory"

case "$service" in
    pg | postgres | postgresql)
        port=${EC_SVC_PG_PORT:?EC_SVC_PG_PORT is not set}
        dir=$EC_SVC_DIR/pg
        case "$action" in
            stop) pg_stop "$dir" ;;
            crash) pg_crash "$dir" ;;
            start) pg_start "$dir" "$port" >/dev/null ;;
            restart) pg_restart "$dir" "$port" >/dev/null ;;
            status) pg_is_running "$dir" && wait_for_pg "$port" 0 ;;
            *) usage ;;
        esac
        ;;
    redis)
        port=${EC_SVC_REDIS_PORT:?EC_SVC_REDIS_PORT is not set}
        dir=$EC_SVC_DIR/redis
        mode=${EC_SVC_REDIS_MODE:-ephemeral}
        case "$action" in
            stop) redis_stop "$dir" "$port" ;;
            start) redis_start "$dir" "$port" "$mode" >/dev/null ;;
            restart) redis_restart "$dir" "$port" "$mode" >/dev/null ;;
            status) redis_is_running "$dir" "$port" ;;
            *) usage ;;
        esac
        ;;
    *) usage ;;
esac

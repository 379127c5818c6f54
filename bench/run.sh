#!/usr/bin/env bash
# bench/run.sh — throughput, latency and memory benchmark of the Release build, with references
# measured on the same machine in the same run:
#   - a static nginx on loopback (the HTTP ceiling of this machine for a tiny JSON response),
#   - pgbench -S / -N / default TPC-B-like against the same PostgreSQL server the application uses
#     (the database ceiling), plus pgbench -S -M prepared on a scale-1 database that fits in
#     shared_buffers (shown, no target).
#
# It installs missing packages (scripts/setup.sh), builds the `release` preset, starts a throw-away
# PostgreSQL and Redis on free loopback ports in a temp dir, starts the application (profile `test`,
# which seeds the load-test users 1000..10999 and 300000..309999) and nginx on free ports, measures
# idle RSS and RSS with 1,000 open keep-alive connections (again after the load), runs every
# scenario (one warm-up, then N measured runs, medians reported), prints a table and writes it to
# bench/results/latest.md. For every run it also reports the CPU time each process spent per
# request (application, PostgreSQL, nginx, load generator; per paid order for order + pay).
# Everything it started is stopped and the temp dir removed on exit.
# Order + pay also reports, per run, the commit-to-visible lag of the ranking (the increase of the
# histogram outbox_visible_lag_seconds during the run: p99 bucket bound and mean), and its final
# check that the outbox drained and that today's Redis ranking holds exactly the units paid.
# Reserve (FCFS coupon reservation) uses a new coupon per run and a user never used before on it for
# every request; it seeds extra users for that (and restarts the application so that its user
# directory holds them). After each run it waits for the issuer to drain the coupon's stream and
# checks that the 200 answers, coupons.issued_quantity, the user_coupons rows and the Redis
# remainder agree exactly; a 5xx answer stops the benchmark.
#
# Usage: bench/run.sh [--quick] [--runs N] [--duration S] [--wait-idle S] [--only NAME[,...]]
#                     [--output FILE] [--perf DIR]
#   --quick        1 run of 3 s per scenario (a smoke test, not a measurement)
#   --runs N       measured runs per scenario (default 3; medians need >= 3)
#   --duration S   seconds per run (default 10)
#   --wait-idle S  before each run, wait up to S seconds (default 120) for other processes to leave
#                  the machine quiet (< 15% busy); each run also measures the CPU share other
#                  processes took meanwhile ("foreign CPU"): a run above 10% is repeated (up to
#                  twice), after which it is kept and the report flags it as disturbed; and the
#                  slowest disk flush (bench/disk_probe.py: 8 KB write + fdatasync every 50 ms on the
#                  WAL's filesystem), which bounds every synchronous commit's latency in that moment
#   --only LIST    run only these scenarios (names as listed by --list); order_pay brings its
#                  reference pgbench_tpcb along, ranking_top and reserve their reference nginx_static
#   --output FILE  write the markdown report to FILE (default bench/results/latest.md)
#   --list         list the scenarios and exit
#   --perf DIR     after the measured runs of each application scenario, one extra (uncounted) run
#                  under `perf record -a -g` (whole machine); writes DIR/<scenario>.perf.data and
#                  DIR/<scenario>.perf.txt (CPU share by process group, the application's self
#                  time by category and by symbol, inclusive time by symbol)
# Environment:
#   BENCH_BIN=path       application binary (default build/release/ecommerce, built by this script;
#                        when set, no build is done — e.g. build/relwithdebinfo/ecommerce for profiling)
#   BENCH_APP_SET="k=v ..."  extra --set overrides for the application
#   BENCH_SERVER_THREADS=N  the application's event-loop threads (server.threads) and nginx's
#                        worker processes (default: the CPUs wrk leaves, nproc − wrk threads, at
#                        least 1 — on 2 CPUs that is 1: a second event-loop thread would only compete
#                        with wrk's two threads for the same two cores)
#   EC_BUILD_JOBS        parallel build jobs (default 2)
#   EC_KEEP_TEMP=1       keep the temp dir (logs) after the run
#   BENCH_RESERVE_USERS=N  users seeded for reserve (default max(200000, 40000 × --duration), at
#                        most 1,000,000; ids from 2,000,000): a run needs one per request
#   BENCH_RESERVE_DRAIN_TIMEOUT=S  reserve: how long to wait for the issuer to drain (default 1200)
# Exit status: 0 when every run completed without request errors (targets may be missed: that is
# a result, not a failure), 3 when some run had errors (non-2xx, socket errors, failed
# transactions), other non-zero when the benchmark could not run.
#
# Adding a scenario: write scenario_<name> (runs ONE measurement for $DURATION seconds and prints
# "<throughput> <p99 ms or -> <errors> [note]"), optionally prepare_<name> (once, before the
# warm-up), optionally after_measure_<name> LABEL (main shell, after every measurement, the warm-up
# and discarded runs included) and after_run_<name> (after each kept run), then
# `register_scenario <name> "<label>" <RPS|TPS> app|ref` and, for its targets,
# add_ratio_target / add_p99_target / add_info_ratio below. wrk_measure and pgbench_measure run
# the tools and parse their output; request scripts live in bench/lua/.
# shellcheck disable=SC2317  # scenario and helper functions are called by name
set -euo pipefail
CALLER_PWD=$PWD # relative --output/--perf paths are the caller's
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

PGBENCH=$PG_BIN/pgbench
PSQL=$PG_BIN/psql

# ---------------------------------------------------------------------------------------------
# options

RUNS=3
DURATION=10
ONLY=""
PERF_DIR=""
LIST_ONLY=0
WRK_THREADS=2
WRK_CONNECTIONS=100
PGBENCH_CLIENTS=10 # ≈ the application's pool (datasource.pool.maximum-pool-size: 10)
PGBENCH_JOBS=2
PGBENCH_SCALE=10
ORDER_PAY_CONNECTIONS=64    # order_pay: the issue's targets are stated at 64 connections
ORDER_PAY_FIRST_USER=300000 # order_pay: users (seeded by profile test) taken round-robin
ORDER_PAY_LAST_USER=309999
HOLD_CONNECTIONS=1000
RESERVE_FIRST_USER=2000000 # reserve: bench-only users (seeded by prepare_reserve) from this id
RESERVE_TOTAL=1000000       # reserve: total_quantity of each run's coupon (never sold out)
RESULTS_MD=$ROOT/bench/results/latest.md # --output
WAIT_IDLE=120       # --wait-idle: seconds to wait for a quiet machine before each run
QUIET_PCT=15        # "quiet": under this % of all CPUs busy
FOREIGN_WARN_PCT=10 # a run in which other processes used more than this % of the machine is
RETRY_DISTURBED=2   # ... repeated up to this many times, then kept and flagged as disturbed
DISTURBED=0

usage() { sed -n '2,/^# shellcheck disable=SC2317/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
        --quick) RUNS=1 DURATION=3 ;;
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#*=} ;;
        --duration) DURATION=${2:?--duration needs seconds}; shift ;;
        --duration=*) DURATION=${1#*=} ;;
        --only) ONLY=${2:?--only needs scenario names}; shift ;;
        --only=*) ONLY=${1#*=} ;;
        --perf) PERF_DIR=${2:?--perf needs a directory}; shift ;;
        --perf=*) PERF_DIR=${1#*=} ;;
        --wait-idle) WAIT_IDLE=${2:?--wait-idle needs seconds}; shift ;;
        --wait-idle=*) WAIT_IDLE=${1#*=} ;;
        --output) RESULTS_MD=${2:?--output needs a file}; shift ;;
        --output=*) RESULTS_MD=${1#*=} ;;
        --list) LIST_ONLY=1 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer (seconds), got '$DURATION'"
[[ "$WAIT_IDLE" =~ ^[0-9]+$ ]] || die "--wait-idle must be a number of seconds, got '$WAIT_IDLE'"
RESERVE_USERS=${BENCH_RESERVE_USERS:-$((DURATION * 40000 > 200000 ? DURATION * 40000 : 200000))}
((RESERVE_USERS > 1000000)) && RESERVE_USERS=1000000
[[ "$RESERVE_USERS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RESERVE_USERS must be a positive integer, got '$RESERVE_USERS'"
RESERVE_LAST_USER=$((RESERVE_FIRST_USER + RESERVE_USERS - 1))
RESERVE_DRAIN_TIMEOUT=${BENCH_RESERVE_DRAIN_TIMEOUT:-1200}
if [[ -n "$PERF_DIR" ]]; then
    [[ "$PERF_DIR" == /* ]] || PERF_DIR=$CALLER_PWD/$PERF_DIR
    mkdir -p "$PERF_DIR"
fi
[[ "$RESULTS_MD" == /* ]] || RESULTS_MD=$CALLER_PWD/$RESULTS_MD

# ---------------------------------------------------------------------------------------------
# scenario and target registries

SCENARIOS=()        # names, in run order
declare -A SC_LABEL=() SC_UNIT=() SC_KIND=()
# results, per scenario: medians and the per-run values (space separated)
declare -A RES_TPUT=() RES_P99=() RES_ERR=() RES_RUNS_TPUT=() RES_RUNS_P99=() RES_NOTE=() RES_FOREIGN=() RES_DISK=() RES_APP_US=() RES_PG_US=() RES_NGINX_US=()
declare -A RES_CLIENT_US=()
# order_pay: commit-to-visible lag per kept run (p99 bucket bound in ms, mean ms, observations)
LAG_P99S=() LAG_MEANS=() LAG_COUNTS=()
TARGETS=()          # "ratio|<scenario>|<reference scenario>|<factor>", "p99|<scenario>|<max ms>",
                    # "rss|<key>|<max MiB>", "info|<scenario>|<reference scenario>"
declare -A RSS_MB=() RSS_LABEL=()

# register_scenario NAME LABEL UNIT KIND — KIND is `ref` (a reference) or `app` (the application)
register_scenario() {
    SCENARIOS+=("$1")
    SC_LABEL[$1]=$2
    SC_UNIT[$1]=$3
    SC_KIND[$1]=$4
}
add_ratio_target() { TARGETS+=("ratio|$1|$2|$3"); }
add_info_ratio() { TARGETS+=("info|$1|$2"); } # a ratio worth showing, without a target
add_p99_target() { TARGETS+=("p99|$1|$2"); }
add_rss_target() { TARGETS+=("rss|$1|$2"); }
add_lag_target() { TARGETS+=("lag|$1|$2"); } # commit-to-visible lag p99 (order_pay only)

# The scenarios, in run order. References first, each just before the application scenario it
# is compared with.
register_scenario nginx_static "nginx static JSON (reference)" RPS ref
register_scenario pgbench_select "pgbench -S (reference)" TPS ref
register_scenario pgbench_select_hot "pgbench -S -M prepared, scale 1 (reference)" TPS ref
register_scenario get_balance "GET /api/users/{id}/balance" RPS app
register_scenario pgbench_simple_update "pgbench -N (reference)" TPS ref
register_scenario post_charge "POST /api/users/{id}/balance/charge" RPS app
register_scenario ranking_top "GET /api/products/ranking/top?limit=10 (100 products ranked)" RPS app
register_scenario pgbench_tpcb "pgbench TPC-B-like (reference)" TPS ref
register_scenario order_pay "POST /api/orders + POST /api/orders/{id}/payment (wrk -c$ORDER_PAY_CONNECTIONS)" "paid orders/s" app
register_scenario reserve "POST /api/coupons/{id}/reserve (new user per request, new coupon per run)" RPS app

# Targets (issue "Service foundation").
add_ratio_target get_balance pgbench_select 0.5
add_ratio_target get_balance nginx_static 0.15
add_info_ratio get_balance pgbench_select_hot
add_p99_target get_balance 10
add_ratio_target post_charge pgbench_simple_update 0.5
# Targets (issue "Sales ranking"): the top 10 from Redis ≥ 0.3 × nginx static RPS, p99 ≤ 5 ms at
# 100 connections (and the commit-to-visible lag below).
add_ratio_target ranking_top nginx_static 0.3
add_p99_target ranking_top 5
# Targets (issue "Commerce core"): paid orders/s ≥ 0.5 × pgbench TPC-B-like TPS, p99 ≤ 50 ms at 64
# connections.
add_ratio_target order_pay pgbench_tpcb 0.5
add_p99_target order_pay 50
# Target (issue "Sales ranking"): commit-to-visible lag of paid orders p99 ≤ 100 ms under order + pay.
add_lag_target order_pay 100
# Targets (issue "FCFS coupon reservation"): reserve ≥ 0.25 × nginx static RPS, p99 ≤ 5 ms at 100
# connections (and the exact-count check after the issuer drained, below).
add_ratio_target reserve nginx_static 0.25
add_p99_target reserve 5
add_rss_target idle 30
add_rss_target conns 100
add_rss_target conns_after 100

if ((LIST_ONLY)); then
    for s in "${SCENARIOS[@]}"; do printf '%-24s %s\n' "$s" "${SC_LABEL[$s]}"; done
    exit 0
fi
if [[ -n "$ONLY" ]]; then
    IFS=, read -r -a only_list <<<"$ONLY"
    for s in "${only_list[@]}"; do
        [[ -n "${SC_LABEL[$s]:-}" ]] || die "unknown scenario '$s' (see --list)"
    done
    # order + pay is judged against pgbench TPC-B-like of the same run, the ranking and reserve
    # against nginx: selecting one selects its reference too
    for s in "${only_list[@]}"; do
        [[ "$s" == order_pay ]] && only_list+=(pgbench_tpcb)
        [[ "$s" == ranking_top || "$s" == reserve ]] && only_list+=(nginx_static)
    done
    selected=()
    for s in "${SCENARIOS[@]}"; do
        for o in "${only_list[@]}"; do [[ "$s" == "$o" ]] && { selected+=("$s"); break; }; done
    done
    SCENARIOS=("${selected[@]}")
fi
scenario_selected() {
    local s
    for s in "${SCENARIOS[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    return 1
}
# Paired runs: the machine's speed drifts by up to 30 % within minutes, and a ratio of two medians
# measured minutes apart carries that drift. So an application scenario's first ratio target is
# judged on pairs instead: before each of its runs, one run of the reference, and the ratio is the
# median of the per-pair ratios. (The reference's own row still shows its own block of runs.)
declare -A PAIR_REF=()
for t in "${TARGETS[@]}"; do
    IFS='|' read -r kind a b _ <<<"$t"
    [[ "$kind" == ratio && -z "${PAIR_REF[$a]:-}" ]] || continue
    if scenario_selected "$a" && scenario_selected "$b"; then PAIR_REF[$a]=$b; fi
done
declare -A RES_PAIR_RATIO=() RES_PAIR_RUNS=()

# ---------------------------------------------------------------------------------------------
# state and cleanup

START_SECONDS=$SECONDS
WORK=""
PG_PORT=""
REDIS_PORT=""
APP_PORT=""
APP_PID=""
NGINX_PORT=""
NGINX_PID=""
HOLDER_PID=""
BIN=${BENCH_BIN:-$ROOT/build/release/ecommerce}
ANY_ERRORS=0

# stop_pid PID NAME [SECS]: SIGTERM, wait, SIGKILL if needed.
stop_pid() {
    local pid=$1 name=$2 secs=${3:-30}
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_pid_gone "$pid" "$secs"; then
            warn "$name (pid $pid) did not stop within $secs s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT
    trap '' INT TERM
    set +e
    if [[ -n "$WORK" ]]; then
        step "cleaning up"
        stop_pid "$HOLDER_PID" "connection holder" 5
        stop_pid "$APP_PID" "the application" 30
        stop_pid "$NGINX_PID" "nginx" 10
        [[ -n "$REDIS_PORT" ]] && redis_stop "$WORK/redis" "$REDIS_PORT"
        [[ -d "$WORK/pg" ]] && pg_stop "$WORK/pg"
        if [[ $rc -ne 0 && $rc -ne 3 ]]; then
            [[ -s "$WORK/app.log" ]] && { echo "---- last 30 lines of $WORK/app.log ----"; tail -n 30 "$WORK/app.log"; }
            svc_tail_logs "$WORK/pg" 20
        fi
        if [[ -n "${EC_KEEP_TEMP:-}" ]]; then
            info "kept temp dir: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    step "done in $(fmt_elapsed $((SECONDS - START_SECONDS))) (exit status $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# numeric helpers

# median V...: the middle value (mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# to_ms VALUE: "812.5us" / "3.2ms" / "1.05s" / "2.1m" → milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (match(v, /^[0-9.]+/) == 0) { print "-"; exit }
        n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
        if (f < 0) { print "-"; exit }
        printf "%.3f\n", n * f }'
}
fmt_num() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.0f\n", v }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.2f\n", v }'; }
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# ---------------------------------------------------------------------------------------------
# measurement helpers

# wrk_measure URL [wrk options...] [-- script args...]: one wrk run of $DURATION s (or $WRK_DURATION), prints
# "<requests/s> <p99 ms> <errors> [note]" — errors = non-2xx/3xx responses + socket errors (+ the
# `bad` count printed by a Lua script's done() as "bench-status ok=N bad=M sample=...").
# The raw wrk output is appended to $WORK/wrk.log.
wrk_measure() {
    local url=$1 out rps p99 non2xx sock bad note=""
    local -a opts=() script_args=()
    shift
    while (($#)) && [[ "$1" != "--" ]]; do opts+=("$1"); shift; done
    (($#)) && script_args=("$@") # starts with "--"
    out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_DURATION:-$DURATION}s" --latency \
        "${opts[@]}" "$url" "${script_args[@]}" 2>&1) ||
        { printf '%s\n' "$out" >&2; die "wrk failed for $url"; }
    printf '==== wrk %s %s %s\n%s\n' "${opts[*]}" "$url" "${script_args[*]}" "$out" >>"$WORK/wrk.log"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' <<<"$out")
    sock=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' <<<"$out")
    bad=$(sed -n 's/^bench-status ok=[0-9]* bad=\([0-9]*\).*/\1/p' <<<"$out")
    [[ -n "$rps" ]] || { printf '%s\n' "$out" >&2; die "could not parse wrk output"; }
    local errors=$(( ${non2xx:-0} + ${sock:-0} ))
    # the Lua count and wrk's own count see the same responses; take the larger, not the sum
    (( ${bad:-0} > ${non2xx:-0} )) && errors=$(( ${bad:-0} + ${sock:-0} ))
    if ((errors > 0)); then
        note="non2xx=${non2xx:-0} socket=${sock:-0}"
        local sample
        sample=$(sed -n 's/^bench-status .* sample=\(.*\)$/\1/p' <<<"$out")
        [[ -n "$sample" ]] && note+=" first: ${sample}"
    fi
    echo "$rps $(to_ms "${p99:--}") $errors $note"
}

# pgbench_measure DB [pgbench args...]: one run of $DURATION s; prints "<tps> - <failed> [note]".
pgbench_measure() {
    local db=$1 out tps failed
    shift
    out=$("$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" \
        -T "${WRK_DURATION:-$DURATION}" "$@" "$db" 2>&1) || { printf '%s\n' "$out" >&2; die "pgbench failed"; }
    printf '==== pgbench %s\n%s\n' "$*" "$out" >>"$WORK/pgbench.log"
    tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
    failed=$(awk '/^number of failed transactions:/ { print $5 }' <<<"$out")
    [[ -n "$tps" ]] || { printf '%s\n' "$out" >&2; die "could not parse pgbench output"; }
    echo "$tps - ${failed:-0}"
}

# rss_mb PID: resident set size in MiB (VmRSS).
rss_mb() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }

app_metric() {
    curl -fsS --max-time 5 "http://127.0.0.1:$APP_PORT/actuator/metrics/$1" 2>/dev/null |
        python3 -c 'import json,sys; print(int(json.load(sys.stdin)["measurements"][0]["value"]))' 2>/dev/null ||
        echo "?"
}

# measure_conns_rss KEY LABEL: opens $HOLD_CONNECTIONS keep-alive connections to the application
# (one GET /actuator/health/liveness each), samples VmRSS while they are open into RSS_MB[KEY],
# closes them. LABEL is a printf format taking the number of connections held.
measure_conns_rss() {
    local key=$1 label=$2 line held held_ok server_conns
    coproc HOLDER { exec python3 "$ROOT/bench/hold_connections.py" 127.0.0.1 "$APP_PORT" "$HOLD_CONNECTIONS"; }
    line=""
    read -r -t 60 line <&"${HOLDER[0]}" || true
    read -r _ held held_ok <<<"$line"
    [[ "$line" == ready* ]] || die "the connection holder did not get ready: '$line'"
    sleep 1
    RSS_MB[$key]=$(rss_mb "$APP_PID")
    # shellcheck disable=SC2059  # the label is a format
    RSS_LABEL[$key]=$(printf "$label" "$held")
    server_conns=$(app_metric http.server.connections.active)
    info "VmRSS with $held connections open ($held_ok answered 2xx; server counts $server_conns open): ${RSS_MB[$key]} MiB"
    if [[ "$held" != "$HOLD_CONNECTIONS" || "$held_ok" != "$HOLD_CONNECTIONS" ]]; then
        warn "only $held_ok of $HOLD_CONNECTIONS connections were answered 2xx"
        RSS_LABEL[$key]+=" (only $held_ok answered 2xx)"
        ANY_ERRORS=1
    fi
    eval "exec ${HOLDER[1]}>&-" # closing its stdin makes it close the connections and exit
    stop_pid "$HOLDER_PID" "connection holder" 10
    HOLDER_PID=""
    sleep 1
}

app_psql() { "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d ecommerce -X -qtA -c "$1"; }
bench_redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# The ranking's day: "today" in the business zone (business.time-zone), as yyyyMMdd, and its key.
business_day() { TZ=Asia/Seoul date +%Y%m%d; }
ranking_key() { echo "ranking:product:orders:daily:{$1}"; }

# prom_scrape FILE: saves /actuator/prometheus to FILE.
prom_scrape() {
    curl -fsS --max-time 5 "http://127.0.0.1:$APP_PORT/actuator/prometheus" >"$1" ||
        die "GET /actuator/prometheus failed"
}
# prom_value FILE NAME: the value of the unlabelled sample NAME in a saved scrape ("?" if absent).
prom_value() { awk -v n="$1" '$1 == n { v = $2 } END { print (v == "" ? "?" : v) }' "$2"; }
# outbox_backlog_sql: outbox events not yet published (parked ones included).
outbox_backlog_sql() { app_psql "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"; }

# cost_text SCENARIO APP PG NGINX CLIENT: "application 62, PostgreSQL 56, wrk 20" (the
# processes that serve SCENARIO), values in CPU µs per request.
cost_text() {
    local sc=$1 client=wrk
    [[ "$sc" == pgbench_* ]] && client=pgbench
    case "$sc" in
        nginx_static) echo "nginx $(fmt_num "$4"), $client $(fmt_num "$5")" ;;
        pgbench_*) echo "PostgreSQL $(fmt_num "$3"), $client $(fmt_num "$5")" ;;
        *) echo "application $(fmt_num "$2"), PostgreSQL $(fmt_num "$3"), $client $(fmt_num "$5")" ;;
    esac
}

# perf_app_report DATA [perf report args...]: the application's part of a whole-machine profile,
# in % of the application's own samples.
perf_app_report() {
    local data=$1
    shift
    perf report -i "$data" --pid "$APP_PID" --percentage relative -g none --stdio "$@" 2>/dev/null |
        grep -v -e '^#' -e '^$' | cut -c1-160 | head -40 || true
}

# perf_groups DATA: whole-machine samples grouped into the application, our PostgreSQL (its
# current backends), wrk, the rest of the benchmark (nginx, Redis), other processes and idle.
perf_groups() {
    local pm pg_pids app_tids
    pm=$(pg_postmaster_pid || true)
    pg_pids="$pm $(pgrep -P "${pm:-0}" 2>/dev/null | tr '\n' ' ')"
    app_tids=$(cd "/proc/$APP_PID/task" 2>/dev/null && printf '%s ' *)
    # perf's "pid" sort key is the thread id
    perf report -i "$1" --no-children --sort pid -g none --stdio 2>/dev/null | grep -v -e '^#' -e '^$' |
        awk -v app=" $app_tids " -v pg=" $pg_pids " '{
            p = $1; sub("%", "", p); split($2, a, ":"); pid = a[1]; comm = a[2]
            if (index(app, " " pid " ")) g = "application"
            else if (index(pg, " " pid " ")) g = "PostgreSQL (ours)"
            else if (comm == "wrk") g = "wrk"
            else if (comm == "nginx" || comm == "redis-server") g = "nginx/Redis"
            else if (comm == "swapper") g = "idle"
            else { g = "other processes"; top[comm] += p }
            sum[g] += p
        } END {
            n = split("application|PostgreSQL (ours)|wrk|nginx/Redis|other processes|idle", order, "|")
            for (i = 1; i <= n; i++) printf "    %6.2f%%  %s\n", sum[order[i]], order[i]
            for (c in top) if (top[c] >= 1) printf "            other: %s %.1f%%\n", c, top[c]
        }' || true
}

# perf_app_categories DATA: the application's self time grouped into coarse categories.
perf_app_categories() {
    perf report -i "$1" --pid "$APP_PID" --percentage relative --no-children --sort dso,sym -g none --stdio \
        2>/dev/null | grep -v -e '^#' -e '^$' | awk '{
            p = $1; sub("%", "", p); dso = $2; kind = $3; sym = ""; for (i = 4; i <= NF; i++) sym = sym " " $i
            if (kind == "[k]") {
                if (sym ~ /epoll/) c = "kernel: epoll"
                else if (sym ~ /futex|schedule|wake|switch|irq|rseq/) c = "kernel: futex, scheduler, interrupts"
                else c = "kernel: sockets (TCP/IP over loopback), other syscalls"
            } else if (sym ~ /malloc|_int_free|cfree|unlink_chunk|consolidate|operator new|operator delete|__libc_free/) c = "user: malloc/free"
            else if (sym ~ /pthread_mutex|lll_lock|futex|pthread_cond/) c = "user: mutexes, condition variables (libc)"
            else if (sym ~ /^ (__send|__libc_send|__libc_recv|__recv|epoll_ctl|epoll_wait|__libc_recvmsg|__libc_sendmsg|writev|readv)/) c = "user: libc syscall wrappers"
            else if (dso ~ /libpq/) c = "user: libpq"
            else if (sym ~ /boost::beast/) c = "user: Beast (HTTP parser, serializer, stream)"
            else if (sym ~ /boost::asio|boost::mp11/) c = "user: Asio (executors, strands, coroutines, reactor)"
            else if (sym ~ /boost::json/ || dso ~ /json/) c = "user: Boost.JSON"
            else if (sym ~ /ec::/) c = "user: application code (ec::)"
            else if (sym ~ /_Sp_counted|shared_ptr/) c = "user: shared_ptr reference counts"
            else c = "user: other"
            sum[c] += p
        } END { for (c in sum) printf "    %5.1f%%  %s\n", sum[c], c }' | sort -g -r || true
}

# ---------------------------------------------------------------------------------------------
# background load: this machine may be shared (e.g. compilers of other jobs). Before each scenario
# we wait (up to $WAIT_IDLE s) until the machine is quiet, and during each run we measure the CPU
# time used by processes that are not part of the benchmark ("foreign CPU", % of all CPUs). A run
# with a high foreign share measured a disturbed machine; the report says so.

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
NCPU=$(nproc)
MARK_BUSY=0 MARK_TOTAL=0 MARK_OURS=0 MARK_APP=0 MARK_PG=0 MARK_NGINX=0 MARK_CLIENT=0
T_APP=0 T_PG=0 T_NGINX=0 T_CLIENT=0 T_OURS=0 CPU_SINCE=""

# cpu_ticks: "<busy> <total>" CPU ticks summed over all CPUs since boot (busy = not idle/iowait).
cpu_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat; }
# pid_ticks PID [with_children]: utime+stime (+cutime+cstime of reaped children) of PID.
pid_ticks() {
    local f=/proc/$1/stat
    [[ -r "$f" ]] || { echo 0; return; }
    sed 's/^.*) //' "$f" | awk -v c="${2:-0}" '{ t = $12 + $13; if (c) t += $14 + $15; print t }'
}
# tree_ticks PID: CPU ticks of PID, its reaped children and its live children.
tree_ticks() {
    local total c
    total=$(pid_ticks "$1" 1)
    for c in $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(pid_ticks "$c"))); done
    echo "$total"
}
pg_postmaster_pid() { [[ -s "$WORK/pg/data/postmaster.pid" ]] && head -n 1 "$WORK/pg/data/postmaster.pid"; }
# our_ticks: sets T_APP T_PG T_NGINX T_CLIENT T_OURS to the CPU ticks used so far by the
# benchmark's own processes: the application, our PostgreSQL (postmaster, its reaped and live
# backends), nginx, the load generators (this shell's waited-for children: wrk, pgbench, curl...)
# and (in T_OURS only) Redis. Must run in the main shell, not in a subshell: `times` reports the
# children of the shell that runs it.
our_ticks() {
    local pm rp redis=0
    T_APP=0 T_PG=0 T_NGINX=0 T_CLIENT=0
    [[ -n "$APP_PID" ]] && T_APP=$(pid_ticks "$APP_PID" 1)
    pm=$(pg_postmaster_pid || true)
    [[ -n "$pm" ]] && T_PG=$(tree_ticks "$pm")
    [[ -s "$WORK/redis/redis.pid" ]] && rp=$(<"$WORK/redis/redis.pid") && redis=$(tree_ticks "$rp")
    [[ -n "$NGINX_PID" ]] && T_NGINX=$(tree_ticks "$NGINX_PID")
    # `times` line 2: user and system time of waited-for children, e.g. "0m1.230s 0m0.450s"
    times >"$WORK/times.txt"
    T_CLIENT=$(sed -n 2p "$WORK/times.txt" | awk -v t="$CLK_TCK" '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%d\n", s * t }')
    T_OURS=$((T_APP + T_PG + T_NGINX + T_CLIENT + redis))
}
# cpu_mark: remembers the counters. cpu_since_mark REQUESTS: sets CPU_SINCE to "<foreign %> <app>
# <postgres> <nginx> <client>" for the time since cpu_mark: foreign % is the share of all CPUs used
# by processes outside the benchmark, the others are CPU µs per request (or transaction).
cpu_mark() {
    read -r MARK_BUSY MARK_TOTAL < <(cpu_ticks)
    our_ticks
    MARK_APP=$T_APP MARK_PG=$T_PG MARK_NGINX=$T_NGINX MARK_CLIENT=$T_CLIENT MARK_OURS=$T_OURS
}
cpu_since_mark() {
    local busy total
    sleep 0.3 # let the postmaster reap the backends of a finished pgbench
    read -r busy total < <(cpu_ticks)
    our_ticks
    CPU_SINCE=$(awk -v b=$((busy - MARK_BUSY)) -v o=$((T_OURS - MARK_OURS)) -v t=$((total - MARK_TOTAL)) \
        -v a=$((T_APP - MARK_APP)) -v p=$((T_PG - MARK_PG)) -v x=$((T_NGINX - MARK_NGINX)) \
        -v c=$((T_CLIENT - MARK_CLIENT)) -v n="$1" -v hz="$CLK_TCK" 'BEGIN {
            f = t > 0 ? (b - o) / t * 100 : 0; if (f < 0) f = 0
            if (n > 0) { k = 1e6 / hz / n; printf "%.0f %.0f %.0f %.0f %.0f\n", f, a * k, p * k, x * k, c * k }
            else printf "%.0f - - - -\n", f }')
}
# wait_quiet: waits until the machine is under $QUIET_PCT % busy (1 s samples) for up to $WAIT_IDLE s.
wait_quiet() {
    local start=$SECONDS b0 b1 pct announced=0
    while :; do
        read -r b0 t0 < <(cpu_ticks); sleep 1; read -r b1 t1 < <(cpu_ticks)
        pct=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
        ((pct < QUIET_PCT)) && return 0
        if ((SECONDS - start >= WAIT_IDLE)); then
            warn "the machine is still ${pct}% busy with other work after ${WAIT_IDLE}s; measuring anyway"
            return 0
        fi
        if ((!announced)); then
            info "machine ${pct}% busy with other work; waiting up to ${WAIT_IDLE}s for it to quiet down"
            announced=1
        fi
    done
}

# disk_probe_start / disk_probe_stop: during each measured run, bench/disk_probe.py times an 8 KB
# write + fdatasync every 50 ms on the filesystem of PostgreSQL's WAL (the same-run reference for
# commit latency: when this virtual disk stalls a flush for 0.5 s, every synchronous commit of that
# moment waits as long, and a run's p99 shows it; docs/performance.md, "WAL flush stalls").
# disk_probe_stop sets DISK_PROBE to "<max ms> <p99 ms> <flushes over 100 ms> <flushes>". The probe
# is not this shell's child, so its CPU counts as foreign, not as the load generator's.
DISK_PROBE=""
disk_probe_start() {
    rm -f "$WORK/disk_probe.out"
    (python3 "$ROOT/bench/disk_probe.py" "$WORK/disk_probe.dat" "$WORK/disk_probe.out" &
        echo $! >"$WORK/disk_probe.pid")
}
disk_probe_stop() {
    local i
    DISK_PROBE="- - - -"
    [[ -s "$WORK/disk_probe.pid" ]] || return 0
    kill -TERM "$(<"$WORK/disk_probe.pid")" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        [[ -s "$WORK/disk_probe.out" ]] && { DISK_PROBE=$(<"$WORK/disk_probe.out"); break; }
        sleep 0.1
    done
    rm -f "$WORK/disk_probe.pid"
}

# ---------------------------------------------------------------------------------------------
# scenarios: each prints "<throughput> <p99 ms|-> <errors> [note]" for one run

scenario_nginx_static() {
    wrk_measure "http://127.0.0.1:$NGINX_PORT/api/users/1000/balance"
}

# pgbench_init DB SCALE: creates and initialises DB once (pgbench -i vacuums it), then forces a
# checkpoint so that the load's dirty pages are not written back during the measured runs.
declare -A PGBENCH_READY=()
pgbench_init() {
    local db=$1 scale=$2
    [[ -z "${PGBENCH_READY[$db]:-}" ]] || return 0
    info "initialising database $db (pgbench -i -s $scale)"
    pg_create_db "$PG_PORT" "$db" >/dev/null
    "$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -q -s "$scale" "$db" >>"$WORK/pgbench.log" 2>&1 ||
        { tail -n 20 "$WORK/pgbench.log" >&2; die "pgbench -i failed"; }
    "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -X -qtA -c CHECKPOINT >/dev/null
    PGBENCH_READY[$db]=1
}
prepare_pgbench_select() { pgbench_init pgbench "$PGBENCH_SCALE"; }
scenario_pgbench_select() { pgbench_measure pgbench -S; }

# Not a target: the closer database ceiling for GET balance. Like the application (prepared
# statements, 20,101 users: a few MB), it reads a table that fits in shared_buffers; scale 10
# (~160 MB) does not fit in the default 128 MB, so `pgbench -S` above also pays buffer misses.
prepare_pgbench_select_hot() { pgbench_init pgbench_hot 1; }
scenario_pgbench_select_hot() { pgbench_measure pgbench_hot -S -M prepared; }

prepare_pgbench_simple_update() { pgbench_init pgbench "$PGBENCH_SCALE"; }
scenario_pgbench_simple_update() { pgbench_measure pgbench -N; }

scenario_get_balance() {
    wrk_measure "http://127.0.0.1:$APP_PORT" -s "$ROOT/bench/lua/balance.lua"
}

CHARGE_SEQ=0
scenario_post_charge() {
    # a prefix unique to this run keeps every idempotency key unique across runs
    CHARGE_SEQ=$((CHARGE_SEQ + 1))
    wrk_measure "http://127.0.0.1:$APP_PORT" -s "$ROOT/bench/lua/charge.lua" -- "b$$r$CHARGE_SEQ"
}

# pgbench's default script (TPC-B-like: 3 updates, 1 select, 1 insert, one commit) on the scale-10
# database, as many clients as the application has pool connections: the database ceiling for a
# multi-row write transaction, the reference of order + pay.
prepare_pgbench_tpcb() { pgbench_init pgbench "$PGBENCH_SCALE"; }
scenario_pgbench_tpcb() { pgbench_measure pgbench; }

# The benchmark catalogue, shared by order_pay and ranking_top: products BENCH-OP-1..100 with ample
# stock (10^9 each, price 1,000), consecutive ids from ORDER_PAY_PRODUCT. Created (or their stock
# reset) by bench_products, which also waits until the application's product catalogue serves them.
ORDER_PAY_PRODUCTS=100
ORDER_PAY_PRODUCT=""  # the first product id; the catalogue is ORDER_PAY_PRODUCT .. +ORDER_PAY_PRODUCTS-1
bench_products() {
    ORDER_PAY_PRODUCT=$(app_psql "WITH p AS (
        INSERT INTO products (product_code, name, description, price, category, stock)
        SELECT 'BENCH-OP-' || i, '벤치마크 상품 ' || i, 'bench/run.sh order_pay', 1000, '벤치마크', 1000000000
          FROM generate_series(1, $ORDER_PAY_PRODUCTS) i
        ON CONFLICT (product_code) DO UPDATE SET price = EXCLUDED.price, stock = EXCLUDED.stock, updated_at = now()
        RETURNING id) SELECT CASE WHEN max(id) - min(id) = count(*) - 1 THEN min(id) END FROM p")
    [[ "$ORDER_PAY_PRODUCT" =~ ^[0-9]+$ ]] || die "could not create $ORDER_PAY_PRODUCTS consecutive benchmark products ('$ORDER_PAY_PRODUCT')"
    # the application's product cache may not know the products yet: wait until it serves the last
    local i
    for ((i = 0; i < 50; i++)); do
        curl -fsS --max-time 2 "http://127.0.0.1:$APP_PORT/api/products/$((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1))" >/dev/null 2>&1 && break
        sleep 0.1
    done
}

# ranking_top: GET /api/products/ranking/top?limit=10 while today's Redis ranking holds the 100
# benchmark products. Setup: ZADD of the 100 product ids into today's day key with distinct scores
# ((i × 7919) mod 1000 + 1 for the i-th product: 7919 is prime to 1000), then one checked request:
# it must answer source "redis" with the expected 10 products, units and names, else the benchmark
# stops. After each run the check is repeated (a failure counts as an error of that run).
RANKING_DAY=""
RANKING_EXPECTED=""  # file: the expected top 10, "productId salesCount name" per line
prepare_ranking_top() {
    local key i args=() added cnt
    bench_products
    RANKING_DAY=$(business_day)
    key=$(ranking_key "$RANKING_DAY")
    for ((i = 0; i < ORDER_PAY_PRODUCTS; i++)); do
        args+=("$(((i * 7919) % 1000 + 1))" "$((ORDER_PAY_PRODUCT + i))")
    done
    added=$(bench_redis ZADD "$key" "${args[@]}") || die "ranking_top: ZADD $key failed"
    cnt=$(bench_redis ZCARD "$key")
    ((cnt >= ORDER_PAY_PRODUCTS)) || die "ranking_top: $key holds $cnt members after ZADD (added $added)"
    RANKING_EXPECTED=$WORK/ranking_expected.txt
    app_psql "SELECT id || ' ' || ((id - $ORDER_PAY_PRODUCT) * 7919 % 1000 + 1) || ' ' || name FROM products
        WHERE id BETWEEN $ORDER_PAY_PRODUCT AND $((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1))
        ORDER BY (id - $ORDER_PAY_PRODUCT) * 7919 % 1000 DESC LIMIT 10" >"$RANKING_EXPECTED"
    # the product names come from the application's catalogue: give it a moment to know them all
    for ((i = 0; i < 50; i++)); do
        ranking_check >/dev/null 2>&1 && break
        sleep 0.1
    done
    ranking_check >&2 || die "ranking_top: GET /api/products/ranking/top?limit=10 does not answer today's Redis ranking (see above)"
    info "ranking_top: $key holds $cnt products (ids $ORDER_PAY_PRODUCT..$((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1)), scores 1..1000); the top 10 answers source redis as expected"
}
# ranking_check: one GET of the top 10; prints what is wrong (and the body) and fails unless it
# is HTTP 200 with date = today (business zone), source "redis" and exactly the expected 10 rows.
ranking_check() {
    local body status
    body=$(curl -sS --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$APP_PORT/api/products/ranking/top?limit=10" 2>&1) || true
    status=${body##*$'\n'}
    body=${body%$'\n'*}
    python3 -c '
import json, sys
status, body, expected_file, day = sys.argv[1:5]
problems = []
if status != "200":
    problems.append(f"HTTP {status}")
else:
    try:
        a = json.loads(body)
    except ValueError as e:
        a = {}
        problems.append(f"not JSON ({e})")
    want_date = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    date, source = a.get("date"), a.get("source")
    if date != want_date:
        problems.append(f"date {date!r}, expected {want_date}")
    if source != "redis":
        problems.append(f"source {source!r}, expected redis")
    rows = a.get("rankings") or []
    if len(rows) != 10:
        problems.append(f"{len(rows)} rankings, expected 10")
    with open(expected_file, encoding="utf-8") as f:
        expected = [l.rstrip("\n").split(" ", 2) for l in f if l.strip()]
    for i, (r, e) in enumerate(zip(rows, expected)):
        got = (r.get("rank"), r.get("productId"), r.get("salesCount"), r.get("productName"))
        want = (i + 1, int(e[0]), int(e[1]), e[2])
        if got != want:
            problems.append(f"row {i + 1}: (rank, productId, salesCount, productName) = {got}, expected {want}")
            break
if problems:
    print("ranking check failed: " + "; ".join(problems) + " — body: " + body[:400])
    sys.exit(1)
' "$status" "$body" "$RANKING_EXPECTED" "$RANKING_DAY"
}
scenario_ranking_top() {
    local line tput p99 err note problem
    line=$(wrk_measure "http://127.0.0.1:$APP_PORT/api/products/ranking/top?limit=10")
    read -r tput p99 err note <<<"$line"
    if ! problem=$(ranking_check); then
        printf '    ranking_top: after the run: %s\n' "$problem" >&2
        err=$((err + 1))
        note="${note:+$note; }after the run: $problem"
    fi
    echo "$tput $p99 $err${note:+ $note}"
}

# order_pay: every connection creates an order for one unit of a product of a 100-product catalogue
# and pays it (bench/lua/order_pay.lua); users round-robin over ORDER_PAY_FIRST_USER..LAST_USER,
# products round-robin over the catalogue (a shop sells more than one product: with a single one,
# every payment would queue on that product's row lock). Setup: the benchmark products (above) and
# balances far above what the runs spend (10^12 each).
# Each run is bracketed by two scrapes of /actuator/prometheus (the second 1 s after wrk ends, so
# the relay catches up): the increase of outbox_visible_lag_seconds between them is that run's
# commit-to-visible lag (p99 = upper bound of the bucket reaching 99 % of the observations).
# The final check waits for the outbox backlog to reach 0 and compares, for the benchmark
# products, SUM(quantity) of COMPLETED order lines paid today (business zone) with the sum of
# their ZSCOREs in today's ranking key (both as increases since prepare_order_pay, so that
# ranking_top's ZADD does not count).
ORDER_PAY_STOCK0=""
ORDER_PAY_COMPLETED0=""
ORDER_PAY_DAY=""
ORDER_PAY_UNITS0=""
ORDER_PAY_ZSUM0=""
prepare_order_pay() {
    local users
    bench_products
    users=$(app_psql "WITH u AS (UPDATE users SET balance = 1000000000000, updated_at = now()
        WHERE id BETWEEN $ORDER_PAY_FIRST_USER AND $ORDER_PAY_LAST_USER RETURNING 1) SELECT count(*) FROM u")
    ((users == ORDER_PAY_LAST_USER - ORDER_PAY_FIRST_USER + 1)) ||
        die "order_pay: only $users of the users $ORDER_PAY_FIRST_USER..$ORDER_PAY_LAST_USER exist (are the load-test users seeded?)"
    # The database as autovacuum keeps it in service, and as `pgbench -i` leaves the reference's:
    # vacuumed (no dead versions left by the seeding and the balance update above) and analysed
    # (plans made from the tables' real sizes, not from the defaults of never-analysed tables).
    app_psql "VACUUM ANALYZE" >/dev/null
    ORDER_PAY_STOCK0=$(app_psql "SELECT sum(stock) FROM products WHERE id BETWEEN $ORDER_PAY_PRODUCT AND $((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1))")
    ORDER_PAY_COMPLETED0=$(order_pay_db_counts | awk '{ print $1 }')
    wait_outbox_drained 30 >/dev/null || warn "order_pay: the outbox backlog is not 0 before the runs"
    ORDER_PAY_DAY=$(business_day)
    ORDER_PAY_UNITS0=$(order_pay_units_today "$ORDER_PAY_DAY")
    ORDER_PAY_ZSUM0=$(order_pay_zscore_sum "$ORDER_PAY_DAY")
    info "order_pay: $ORDER_PAY_PRODUCTS products from id $ORDER_PAY_PRODUCT (stock $ORDER_PAY_STOCK0 in all, price 1,000), balances of users $ORDER_PAY_FIRST_USER..$ORDER_PAY_LAST_USER set to 10^12; ranking day $ORDER_PAY_DAY: $ORDER_PAY_UNITS0 units paid, ZSCORE sum $ORDER_PAY_ZSUM0 before the runs"
}
# order_pay_units_today DAY: SUM(quantity) of the COMPLETED order lines of the benchmark products
# paid on DAY (yyyyMMdd, business zone).
order_pay_units_today() {
    app_psql "SELECT coalesce(sum(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.status = 'COMPLETED' AND i.product_id BETWEEN $ORDER_PAY_PRODUCT AND $((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1))
          AND (o.paid_at AT TIME ZONE 'Asia/Seoul')::date = to_date('$1', 'YYYYMMDD')"
}
# order_pay_zscore_sum DAY: the sum of the benchmark products' scores in DAY's ranking key.
order_pay_zscore_sum() {
    local ids=() i
    for ((i = 0; i < ORDER_PAY_PRODUCTS; i++)); do ids+=("$((ORDER_PAY_PRODUCT + i))"); done
    bench_redis ZMSCORE "$(ranking_key "$1")" "${ids[@]}" | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
# wait_outbox_drained SECS: waits until no outbox event is unpublished; prints the seconds waited
# and fails if the backlog is still not 0 after SECS.
wait_outbox_drained() {
    local start=$SECONDS n
    while :; do
        n=$(outbox_backlog_sql)
        if ((n == 0)); then echo $((SECONDS - start)); return 0; fi
        ((SECONDS - start < $1)) || { echo "$n"; return 1; }
        sleep 0.2
    done
}
# order_pay_db_counts: "<COMPLETED orders> <PENDING orders with a payment in flight> <outbox events>"
# for the benchmark product.
order_pay_db_counts() {
    app_psql "WITH o AS (SELECT DISTINCT o.id, o.status, o.payment_key FROM orders o
                 JOIN order_items i ON i.order_id = o.id WHERE i.product_id BETWEEN $ORDER_PAY_PRODUCT AND $((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1)))
              SELECT (SELECT count(*) FROM o WHERE status = 'COMPLETED') || ' ' ||
                     (SELECT count(*) FROM o WHERE status = 'PENDING' AND payment_key IS NOT NULL) || ' ' ||
                     (SELECT count(*) FROM outbox_events e WHERE e.event_type = 'OrderCompleted'
                         AND e.aggregate_id IN (SELECT id FROM o))"
}
scenario_order_pay() {
    local line stats paid_per_s lag backlog
    prom_scrape "$WORK/prom.before"
    # a prefix unique to this run keeps every idempotency key unique across runs
    line=$(WRK_CONNECTIONS=$ORDER_PAY_CONNECTIONS wrk_measure "http://127.0.0.1:$APP_PORT" \
        -s "$ROOT/bench/lua/order_pay.lua" -- "op$(date +%s%N)" "$ORDER_PAY_PRODUCT" \
        "$ORDER_PAY_FIRST_USER" "$ORDER_PAY_LAST_USER" "$WRK_THREADS" "$ORDER_PAY_PRODUCTS")
    stats=$(grep '^bench-orderpay ' "$WORK/wrk.log" | tail -n 1)
    paid_per_s=$(sed -n 's/.* paid_per_s=\([0-9.]*\).*/\1/p' <<<"$stats")
    [[ -n "$paid_per_s" ]] || die "order_pay: no bench-orderpay line in the wrk output"
    # wrk's throughput counts both requests; the result is paid orders (payments answered 200) per second
    printf '    order_pay: %s requests/s in all; %s\n' "$(fmt_num "${line%% *}")" "${stats#bench-orderpay }" >&2
    # commit-to-visible lag of this run: let the relay catch up, scrape again, take the increase
    sleep 1
    prom_scrape "$WORK/prom.after"
    lag=$(python3 "$ROOT/bench/prom_histogram.py" outbox_visible_lag_seconds "$WORK/prom.before" "$WORK/prom.after") ||
        die "order_pay: could not read outbox_visible_lag_seconds from /actuator/prometheus"
    backlog=$(prom_value outbox_backlog "$WORK/prom.after")
    echo "$lag backlog=$backlog" >"$WORK/order_pay.lag.last"
    printf '    order_pay: commit-to-visible lag over the run: %s; outbox_backlog gauge 1 s after: %s\n' "$lag" "$backlog" >&2
    echo "$paid_per_s ${line#* }"
}
# after_measure_order_pay LABEL: (main shell, after every measurement, outside its CPU accounting)
# shows where the time went: the server's latency per request kind and the wait for a pool
# connection (increases of their histograms over the run; p99 = bucket bound).
after_measure_order_pay() {
    local h=(python3 "$ROOT/bench/prom_histogram.py")
    printf '    order_pay (%s): create %s; pay %s; pool acquire %s\n' "$1" \
        "$("${h[@]}" http_server_requests_seconds "$WORK/prom.before" "$WORK/prom.after" uri=/api/orders method=POST)" \
        "$("${h[@]}" http_server_requests_seconds "$WORK/prom.before" "$WORK/prom.after" 'uri=/api/orders/{orderId}/payment')" \
        "$("${h[@]}" hikaricp_connections_acquire_seconds "$WORK/prom.before" "$WORK/prom.after" pool=HikariPool-1)" >&2
}
# after_run_order_pay: (main shell, after each kept measured run) records that run's lag.
after_run_order_pay() {
    local count p99 mean
    read -r count p99 mean _ <"$WORK/order_pay.lag.last"
    count=${count#count=} p99=${p99#p99_ms=} mean=${mean#mean_ms=}
    [[ "$p99" == "+Inf" ]] && p99=1e9 # beyond the last bucket (10 s)
    if [[ "$p99" == "-" ]]; then
        warn "order_pay: outbox_visible_lag_seconds recorded nothing during the run: no paid order became visible in the ranking"
        ANY_ERRORS=1
        p99=1e9
    fi
    LAG_COUNTS+=("$count")
    LAG_P99S+=("$p99")
    LAG_MEANS+=("$mean")
}

# reserve: FCFS coupon reservation, POST /api/coupons/{id}/reserve {"userId":U} (bench/lua/reserve.lua).
# Each user may reserve a coupon once, so every run (the warm-up and every repeat too) gets a coupon
# of its own (total_quantity $RESERVE_TOTAL, open from yesterday to tomorrow) and every request a user
# not used before on it: thread t of the wrk threads walks RESERVE_FIRST_USER + t, + 2t, ...
# The 20,101 load-test users are too few for 10 s at >10k RPS, so prepare_reserve seeds
# RESERVE_USERS bench-only users and restarts the application: its user directory (the ids it
# accepts without asking the database) is loaded at start.
# After every run (after_measure_reserve, in the main shell, outside the CPU accounting of the run)
# the issuer must drain the coupon's stream (XLEN 0, nothing pending in the consumer group, gauge
# coupon_issue_requests_pending 0; progress every 10 s, timeout BENCH_RESERVE_DRAIN_TIMEOUT s), then:
#   200 answers counted by wrk + the reservations the server made for requests still in flight when
#   wrk stopped (their users' state in coupon:{id}:users) == coupons.issued_quantity ==
#   count(*) and count(DISTINCT user_id) of its user_coupons == total − coupon:{id}:remaining ==
#   users marked ISSUED in coupon:{id}:users, with no dead letters.
# Any 5xx answer stops the benchmark (die); other non-200 answers count as errors of the run.
RESERVE_RESTARTED=0
RESERVE_CHECK_LINES=() # one exactness line per coupon (warm-up and every attempt)
RESERVE_DRAIN_LINES=() # one drain line per coupon
RESERVE_DRAIN_SECS=()  # kept runs: seconds from the end of wrk to the stream drained
RESERVE_ISSUE_RATES=() # kept runs: user coupons issued per second, from the start of wrk to drained
RESERVE_DRAIN_RATES=() # kept runs: backlog at the end of wrk / drain seconds
prepare_reserve() {
    local t0=$SECONDS inserted cnt rss prev i
    info "reserve: seeding bench users $RESERVE_FIRST_USER..$RESERVE_LAST_USER ($RESERVE_USERS; one per request of a run)"
    inserted=$(app_psql "WITH u AS (INSERT INTO users (id, email, username)
        SELECT i, 'bench-reserve-' || i || '@bench.invalid', 'bench' || i
          FROM generate_series($RESERVE_FIRST_USER, $RESERVE_LAST_USER) i
        ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM u")
    cnt=$(app_psql "SELECT count(*) FROM users WHERE id BETWEEN $RESERVE_FIRST_USER AND $RESERVE_LAST_USER")
    ((cnt == RESERVE_USERS)) || die "reserve: only $cnt of the users $RESERVE_FIRST_USER..$RESERVE_LAST_USER exist after seeding"
    app_psql "VACUUM ANALYZE users" >/dev/null
    app_psql "CHECKPOINT" >/dev/null
    info "reserve: $inserted users inserted ($cnt present) in $((SECONDS - t0)) s; restarting the application so that its user directory holds them"
    stop_pid "$APP_PID" "the application" 30
    APP_PID=""
    start_app
    RESERVE_RESTARTED=1
    # the directory loads in the background after start: wait until the RSS stops growing
    prev=0
    for ((i = 0; i < 60; i++)); do
        sleep 0.5
        rss=$(rss_mb "$APP_PID")
        [[ "$rss" == "$prev" ]] && break
        prev=$rss
    done
    info "reserve: application restarted (pid $APP_PID, VmRSS $rss MiB with the directory loaded)"
}
scenario_reserve() {
    local seq code coupon line t0 t1 backlog stats inflight v5xx s503 sample
    # scenario_reserve runs in a subshell: the coupon counter lives in a file
    seq=$(($(cat "$WORK/reserve.seq" 2>/dev/null || echo 0) + 1))
    echo "$seq" >"$WORK/reserve.seq"
    code="BENCH-RES-$seq"
    coupon=$(app_psql "INSERT INTO coupons (coupon_code, name, discount_rate, total_quantity, start_date, end_date)
        VALUES ('$code', 'bench', 10, $RESERVE_TOTAL, now() - interval '1 day', now() + interval '1 day') RETURNING id")
    [[ "$coupon" =~ ^[0-9]+$ ]] || die "reserve: could not create coupon $code ('$coupon')"
    t0=$(date +%s.%N)
    line=$(wrk_measure "http://127.0.0.1:$APP_PORT" -s "$ROOT/bench/lua/reserve.lua" -- \
        "$coupon" "$RESERVE_FIRST_USER" "$RESERVE_LAST_USER" "$WRK_THREADS")
    t1=$(date +%s.%N)
    backlog=$(bench_redis XLEN "coupon:{$coupon}:issue-requests")
    stats=$(grep '^bench-reserve ' "$WORK/wrk.log" | tail -n 1)
    inflight=$(grep '^bench-reserve-inflight' "$WORK/wrk.log" | tail -n 1)
    [[ -n "$stats" ]] || die "reserve: no bench-reserve line in the wrk output"
    echo "coupon=$coupon start=$t0 end=$t1 backlog=$backlog ${stats#bench-reserve }" >"$WORK/reserve.last"
    echo "${inflight#bench-reserve-inflight}" >"$WORK/reserve.inflight"
    printf '    reserve: coupon %s: %s; stream length at the end of wrk %s\n' "$coupon" "${stats#bench-reserve }" "$backlog" >&2
    s503=$(sed -n 's/.* s503=\([0-9]*\).*/\1/p' <<<"$stats")
    v5xx=$(sed -n 's/.* s5xx=\([0-9]*\).*/\1/p' <<<"$stats")
    if ((s503 + v5xx > 0)); then
        sample=$(grep '^bench-status ' "$WORK/wrk.log" | tail -n 1 | sed -n 's/.* sample=//p')
        die "reserve: FAILED — $((s503 + v5xx)) answers were 5xx (503: $s503, other 5xx: $v5xx) on coupon $coupon; first non-200: $sample"
    fi
    echo "$line"
}
# reserve_field NAME: a field of the last run's $WORK/reserve.last ("name=value ...").
reserve_field() { tr ' ' '\n' <"$WORK/reserve.last" | sed -n "s/^$1=//p"; }
# reserve_pending COUPON: "<stream length> <pending in the consumer group>".
reserve_pending() {
    local key="coupon:{$1}:issue-requests" xlen pend
    xlen=$(bench_redis XLEN "$key")
    pend=$(bench_redis XPENDING "$key" coupon-issuers 2>/dev/null | head -n 1)
    [[ "$pend" =~ ^[0-9]+$ ]] || pend=0 # NOGROUP: nothing was ever reserved
    echo "$xlen $pend"
}
# after_measure_reserve LABEL: (main shell, after every measurement, the warm-up included) waits
# until the issuer drained the last run's coupon, then checks the exact count (see above).
after_measure_reserve() {
    local label=$1 coupon t0 t1 backlog ok inflight_users start=$SECONDS last=$SECONDS
    local xlen pend gauge issued drained_at drain_s rate drain_rate p x rows distinct remaining hlen issued_h
    local others dead line drain_line
    coupon=$(reserve_field coupon) t0=$(reserve_field start) t1=$(reserve_field end)
    backlog=$(reserve_field backlog) ok=$(reserve_field ok)
    read -r -a inflight_users <"$WORK/reserve.inflight"
    info "reserve ($label): waiting for the issuer to drain coupon $coupon ($backlog issue requests in its stream when wrk stopped; timeout ${RESERVE_DRAIN_TIMEOUT}s)"
    while :; do
        read -r xlen pend <<<"$(reserve_pending "$coupon")"
        prom_scrape "$WORK/prom.reserve"
        gauge=$(prom_value coupon_issue_requests_pending "$WORK/prom.reserve")
        if ((xlen == 0 && pend == 0)) && [[ "$gauge" == 0 || "$gauge" == 0.0 ]]; then break; fi
        if ((SECONDS - start >= RESERVE_DRAIN_TIMEOUT)); then
            warn "reserve ($label): coupon $coupon not drained after ${RESERVE_DRAIN_TIMEOUT}s: stream length $xlen, pending $pend, gauge coupon_issue_requests_pending $gauge"
            ANY_ERRORS=1
            break
        fi
        if ((SECONDS - last >= 10)); then
            last=$SECONDS
            issued=$(app_psql "SELECT issued_quantity FROM coupons WHERE id = $coupon")
            info "reserve ($label): $((SECONDS - start)) s: stream length $xlen (gauge coupon_issue_requests_length $(prom_value coupon_issue_requests_length "$WORK/prom.reserve")), pending $pend (gauge $gauge), issued_quantity $issued"
        fi
        sleep 0.5
    done
    drained_at=$(date +%s.%N)
    # the reservations made for requests wrk did not see answered (in flight when it stopped)
    p=0
    if ((${#inflight_users[@]})); then
        p=$(bench_redis HMGET "coupon:{$coupon}:users" "${inflight_users[@]}" | grep -c -E '^(RESERVED|ISSUED|FAILED)$' || true)
    fi
    IFS='|' read -r x rows distinct <<<"$(app_psql "SELECT c.issued_quantity, count(uc.id), count(DISTINCT uc.user_id)
        FROM coupons c LEFT JOIN user_coupons uc ON uc.coupon_id = c.id WHERE c.id = $coupon GROUP BY c.id")"
    remaining=$(bench_redis GET "coupon:{$coupon}:remaining")
    hlen=$(bench_redis HLEN "coupon:{$coupon}:users")
    issued_h=$(bench_redis HVALS "coupon:{$coupon}:users" | grep -c -x ISSUED || true)
    others=$((hlen - issued_h))
    dead=$(bench_redis XLEN "coupon:{$coupon}:dead-letters")
    drain_s=$(awk -v a="$t1" -v b="$drained_at" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v n="$x" -v a="$t0" -v b="$drained_at" 'BEGIN { printf "%.0f", n / (b - a) }')
    drain_rate=$(awk -v n="$backlog" -v s="$drain_s" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')
    line="reserve exactness, $label (coupon $coupon): 200 answers $ok + $p reserved for the ${#inflight_users[@]} requests in flight when wrk stopped = $((ok + p));"
    line+=" coupons.issued_quantity $x; user_coupons $rows rows, $distinct distinct users;"
    line+=" total − Redis remaining = $RESERVE_TOTAL − ${remaining:-nil} = $((RESERVE_TOTAL - ${remaining:-0})); Redis users hash: $issued_h ISSUED, $others other; dead letters $dead"
    if ((ok + p == x && x == rows && rows == distinct && distinct == RESERVE_TOTAL - ${remaining:-0} && x == issued_h && others == 0 && dead == 0)) &&
        [[ -n "$remaining" ]]; then
        line+=": equal"
        info "$line"
    else
        line+=": DIFFERENT"
        warn "$line"
        ANY_ERRORS=1
    fi
    drain_line="reserve drain, $label (coupon $coupon): $backlog issue requests in the stream when wrk stopped, drained ${drain_s} s later ($drain_rate/s);"
    drain_line+=" $x user coupons issued in $(awk -v a="$t0" -v b="$drained_at" 'BEGIN { printf "%.1f", b - a }') s from the start of wrk = $rate issued/s"
    info "$drain_line"
    RESERVE_CHECK_LINES+=("$line")
    RESERVE_DRAIN_LINES+=("$drain_line")
    RESERVE_LAST="$drain_s $rate $drain_rate"
    return 0
}
# after_run_reserve: (main shell, after each kept measured run) records that run's drain.
RESERVE_LAST=""
after_run_reserve() {
    local drain_s rate drain_rate
    read -r drain_s rate drain_rate <<<"$RESERVE_LAST"
    RESERVE_DRAIN_SECS+=("$drain_s")
    RESERVE_ISSUE_RATES+=("$rate")
    RESERVE_DRAIN_RATES+=("$drain_rate")
}

# ---------------------------------------------------------------------------------------------
# setup

step "installing packages (if missing)"
scripts/setup.sh

if [[ -z "${BENCH_BIN:-}" ]]; then
    step "building (release)"
    cmake --preset release --log-level=WARNING >/dev/null
    cmake --build --preset release -j "${EC_BUILD_JOBS:-2}"
fi
[[ -x "$BIN" ]] || die "application binary $BIN is missing"
for tool in wrk nginx curl python3 "$PGBENCH"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run ./scripts/setup.sh)"
done
if [[ -n "$PERF_DIR" ]]; then
    command -v perf >/dev/null 2>&1 || die "--perf needs perf (linux-perf)"
fi

# 1,000 held connections plus wrk's need file descriptors in this shell and in the application.
if (($(ulimit -n) < 4096)); then
    ulimit -n 4096 2>/dev/null || warn "cannot raise the open-files limit to 4096 (now $(ulimit -n))"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ec-bench.XXXXXX")
if is_root; then
    chmod 755 "$WORK" # the postgres user must reach $WORK/pg
fi

PG_PORT=$(free_port)
step "starting PostgreSQL on 127.0.0.1:$PG_PORT (dir $WORK/pg)"
pg_start "$WORK/pg" "$PG_PORT"
pg_create_db "$PG_PORT" ecommerce >/dev/null

REDIS_PORT=$(free_port)
step "starting Redis on 127.0.0.1:$REDIS_PORT"
redis_start "$WORK/redis" "$REDIS_PORT" ephemeral

APP_PORT=$(free_port)
# The load generator runs on the same machine: give the server the cores wrk leaves it.
SERVER_THREADS=${BENCH_SERVER_THREADS:-$((NCPU > WRK_THREADS ? NCPU - WRK_THREADS : 1))}
app_args=(
    --config-dir "$ROOT/config" --profile test
    --set "datasource.url=postgresql://postgres@127.0.0.1:$PG_PORT/ecommerce"
    --set "redis.url=redis://127.0.0.1:$REDIS_PORT/0"
    --set "server.address=127.0.0.1"
    --set "server.port=$APP_PORT"
    --set "logging.level=warn"
    --set "server.threads=$SERVER_THREADS"
)
for kv in ${BENCH_APP_SET:-}; do app_args+=(--set "$kv"); done
# start_app: starts the application (log appended to $WORK/app.log) and waits until it is ready.
start_app() {
    local ready_rc
    "$BIN" "${app_args[@]}" serve >>"$WORK/app.log" 2>&1 &
    APP_PID=$!
    set +e
    wait_for_http "http://127.0.0.1:$APP_PORT/actuator/health/readiness" 120 "$APP_PID"
    ready_rc=$?
    set -e
    case $ready_rc in
        0) ;;
        2) APP_PID=""; die "the application exited during start-up (log: $WORK/app.log)" ;;
        *) die "the application is not ready after 120 s (log: $WORK/app.log)" ;;
    esac
}
step "starting ${BIN#"$ROOT"/} on 127.0.0.1:$APP_PORT (profile test: migrates and seeds the load-test users)"
start_app
curl -fsS --max-time 5 "http://127.0.0.1:$APP_PORT/api/users/1000/balance" >/dev/null ||
    die "GET /api/users/1000/balance fails: are the load-test users seeded? (log: $WORK/app.log)"

NGINX_PORT=$(free_port)
step "starting nginx (static reference) on 127.0.0.1:$NGINX_PORT"
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
# generated by bench/run.sh: a static JSON endpoint, the HTTP ceiling of this machine
worker_processes $SERVER_THREADS; # the same number of workers as the application's event-loop threads
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            default_type application/json;
            return 200 '{"userId":1000,"balance":10000}';
        }
    }
}
CONF
nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
wait_for_http "http://127.0.0.1:$NGINX_PORT/" 20 "$NGINX_PID" ||
    die "nginx did not start (log: $WORK/nginx/error.log)"

# ---------------------------------------------------------------------------------------------
# memory: idle, then with 1,000 open keep-alive connections

step "memory: idle RSS, then with $HOLD_CONNECTIONS open keep-alive connections"
sleep 2 # let start-up work (pool fill, seeding) settle; no request load has run yet
RSS_MB[idle]=$(rss_mb "$APP_PID")
RSS_LABEL[idle]="idle RSS (after start-up, before any load)"
info "idle VmRSS: ${RSS_MB[idle]} MiB"

measure_conns_rss conns "RSS with %d open keep-alive connections"

# ---------------------------------------------------------------------------------------------
# scenarios

charge_rows_before=$(app_psql "SELECT count(*) FROM idempotency_records WHERE operation = 'CHARGE'")
charge_ok_total=0

for sc in "${SCENARIOS[@]}"; do
    step "scenario ${SC_LABEL[$sc]}: warm-up, then $RUNS run(s) of ${DURATION}s"
    if declare -F "prepare_$sc" >/dev/null; then "prepare_$sc"; fi
    WRK_DURATION=$(( DURATION < 3 ? DURATION : 3 )) "scenario_$sc" >/dev/null
    # after_measure_<name>: (optional) after every measurement, the warm-up and discarded runs included
    if declare -F "after_measure_$sc" >/dev/null; then "after_measure_$sc" "warm-up"; fi
    pair_refs=() pair_ratios=()
    tputs=() p99s=() foreign=() disks=() app_uss=() pg_uss=() nginx_uss=() client_uss=() discarded=() errs=0 notes=""
    for ((r = 1; r <= RUNS; r++)); do
        for ((attempt = 0; ; attempt++)); do
            if [[ -n "${PAIR_REF[$sc]:-}" ]]; then
                wait_quiet
                read -r ref_tput _ ref_err _ <<<"$("scenario_${PAIR_REF[$sc]}")"
                RES_ERR[${PAIR_REF[$sc]}]=$(( ${RES_ERR[${PAIR_REF[$sc]}]:-0} + ref_err ))
                ((ref_err == 0)) || ANY_ERRORS=1
                info "run $r/$RUNS: paired ${SC_LABEL[${PAIR_REF[$sc]}]}: $(fmt_num "$ref_tput") ${SC_UNIT[${PAIR_REF[$sc]}]}"
            fi
            wait_quiet
            cpu_mark
            disk_probe_start
            line=$("scenario_$sc")
            disk_probe_stop
            read -r tput p99 err note <<<"$line"
            read -r disk_max _ disk_slow _ <<<"$DISK_PROBE"
            cpu_since_mark "$(awk -v r="$tput" -v d="$DURATION" 'BEGIN { printf "%d", r * d }')"
            read -r fpct app_us pg_us nginx_us client_us <<<"$CPU_SINCE"
            if declare -F "after_measure_$sc" >/dev/null; then
                "after_measure_$sc" "run $r/$RUNS$( ((attempt)) && echo " (attempt $((attempt + 1)))")"
            fi
            ((fpct > FOREIGN_WARN_PCT && attempt < RETRY_DISTURBED)) || break
            # a run that shared the machine with other work is repeated (its errors still count)
            info "run $r/$RUNS: $(fmt_num "$tput") ${SC_UNIT[$sc]} — discarded: other processes used ${fpct}% of the machine; repeating"
            discarded+=("$(fmt_num "$tput") at ${fpct}% foreign")
            errs=$((errs + err))
            [[ -n "$note" && -z "$notes" ]] && notes="discarded run: $note"
        done
        if declare -F "after_run_$sc" >/dev/null; then "after_run_$sc"; fi
        tputs+=("$tput")
        [[ -n "${PAIR_REF[$sc]:-}" ]] && pair_refs+=("$ref_tput") pair_ratios+=("$(fmt_ratio "$tput" "$ref_tput")")
        p99s+=("$p99")
        foreign+=("$fpct")
        disks+=("$disk_max")
        app_uss+=("$app_us")
        pg_uss+=("$pg_us")
        nginx_uss+=("$nginx_us")
        client_uss+=("$client_us")
        errs=$((errs + err))
        [[ -n "$note" && -z "$notes" ]] && notes="run $r: $note"
        cpu_info="CPU µs/req: $(cost_text "$sc" "$app_us" "$pg_us" "$nginx_us" "$client_us")"
        info "run $r/$RUNS: $(fmt_num "$tput") ${SC_UNIT[$sc]}, p99 $(fmt_ms "$p99") ms, errors $err, foreign CPU ${fpct}%, disk flush max ${disk_max} ms (${disk_slow} over 100 ms)${cpu_info:+, $cpu_info}${note:+ ($note)}"
        if ((fpct > FOREIGN_WARN_PCT)); then
            warn "other processes used ${fpct}% of the machine during this run: it measured a disturbed machine"
            DISTURBED=1
        fi
    done
    RES_FOREIGN[$sc]=$(printf '%s\n' "${foreign[@]}" | paste -sd/ -)
    RES_DISK[$sc]=$(printf '%s\n' "${disks[@]}" | paste -sd/ -)
    if ((${#pair_ratios[@]})); then
        RES_PAIR_RATIO[$sc]=$(median "${pair_ratios[@]}")
        RES_PAIR_RUNS[$sc]="paired ${SC_LABEL[${PAIR_REF[$sc]}]% (reference)} runs $(for v in "${pair_refs[@]}"; do fmt_num "$v"; done | paste -sd/ -) ${SC_UNIT[${PAIR_REF[$sc]}]}, per-pair ratios $(printf '%s\n' "${pair_ratios[@]}" | paste -sd/ -)"
    fi
    if ((${#discarded[@]})); then
        notes+="${notes:+; }discarded (disturbed) runs: $(printf '%s, ' "${discarded[@]}")"
        notes=${notes%, }
    fi
    RES_APP_US[$sc]=$(median "${app_uss[@]}")
    RES_PG_US[$sc]=$(median "${pg_uss[@]}")
    RES_NGINX_US[$sc]=$(median "${nginx_uss[@]}")
    RES_CLIENT_US[$sc]=$(median "${client_uss[@]}")
    RES_TPUT[$sc]=$(median "${tputs[@]}")
    if [[ "${p99s[0]}" == "-" ]]; then RES_P99[$sc]="-"; else RES_P99[$sc]=$(median "${p99s[@]}"); fi
    RES_ERR[$sc]=$errs
    RES_NOTE[$sc]=$notes
    RES_RUNS_TPUT[$sc]=$(for v in "${tputs[@]}"; do fmt_num "$v"; done | paste -sd/ -)
    RES_RUNS_P99[$sc]=$(for v in "${p99s[@]}"; do fmt_ms "$v"; done | paste -sd/ -)
    ((errs == 0)) || ANY_ERRORS=1
    info "median: $(fmt_num "${RES_TPUT[$sc]}") ${SC_UNIT[$sc]}, p99 $(fmt_ms "${RES_P99[$sc]}") ms"
    if [[ -n "$PERF_DIR" && "${SC_KIND[$sc]}" == app ]]; then
        info "profiling one extra run (not counted): perf record -a -g, whole machine"
        perf record -a -g -F 999 -o "$PERF_DIR/$sc.perf.data" -- sleep "$DURATION" >"$PERF_DIR/$sc.perf.log" 2>&1 &
        perf_pid=$!
        sleep 0.5
        "scenario_$sc" >"$PERF_DIR/$sc.wrk.txt"
        wait "$perf_pid" || warn "perf record failed (see $PERF_DIR/$sc.perf.log)"
        if declare -F "after_measure_$sc" >/dev/null; then "after_measure_$sc" "perf run"; fi
        {
            echo "## CPU by process group (whole machine, $NCPU CPUs = 100%)"
            perf_groups "$PERF_DIR/$sc.perf.data"
            echo
            echo "## application: self time by category"
            perf_app_categories "$PERF_DIR/$sc.perf.data"
            echo
            echo "## application: self time by symbol"
            perf_app_report "$PERF_DIR/$sc.perf.data" --no-children --sort dso,symbol
            echo
            echo "## application: inclusive time (children) by symbol"
            perf_app_report "$PERF_DIR/$sc.perf.data" --children --sort symbol
        } >"$PERF_DIR/$sc.perf.txt"
        info "profile: $PERF_DIR/$sc.perf.txt (raw: $sc.perf.data)"
    fi
done

# Charge sanity check: every 2xx charge must have written one idempotency record (unique keys,
# so no replays). wrk does not wait for requests in flight when a run ends, so the database may
# hold up to (connections × runs) more rows than 2xx responses were counted.
charge_check=""
if scenario_selected post_charge; then
    charge_rows_after=$(app_psql "SELECT count(*) FROM idempotency_records WHERE operation = 'CHARGE'")
    charge_ok_total=$(awk '/^==== wrk / { charge = /charge\.lua/ }
        charge && /^bench-status ok=/ { split($2, a, "="); s += a[2] } END { print s + 0 }' "$WORK/wrk.log")
    charge_check="charges: $charge_ok_total answered 2xx (warm-up included), $((charge_rows_after - charge_rows_before)) idempotency records written"
    info "$charge_check"
    if ((charge_rows_after - charge_rows_before < charge_ok_total)); then
        warn "fewer idempotency records than successful charges: some charges were replays"
        ANY_ERRORS=1
    fi
fi
# Order + pay sanity check: every payment answered 200 is one COMPLETED order with one outbox event,
# and the products' stock went down by exactly one per paid order (plus payments still between
# their reservation and completion). Requests in flight when wrk stopped may complete afterwards:
# the database may hold up to (connections × runs) more paid orders than 200s were counted.
order_pay_check=""
if scenario_selected order_pay; then
    sleep 1 # let payments still in flight finish
    read -r op_completed op_inflight op_outbox <<<"$(order_pay_db_counts)"
    op_completed=$((op_completed - ORDER_PAY_COMPLETED0))
    op_stock=$(app_psql "SELECT sum(stock) FROM products WHERE id BETWEEN $ORDER_PAY_PRODUCT AND $((ORDER_PAY_PRODUCT + ORDER_PAY_PRODUCTS - 1))")
    read -r op_created op_paid < <(awk '/^bench-orderpay / {
        for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] += a[2] } }
        END { print v["created"] + 0, v["paid"] + 0 }' "$WORK/wrk.log")
    order_pay_check="orders + payments: $op_created orders answered 201 and $op_paid payments 200 (warm-up included);"
    order_pay_check+=" database: $op_completed orders COMPLETED, $op_inflight payments in flight, $op_outbox OrderCompleted events,"
    order_pay_check+=" stock down by $((ORDER_PAY_STOCK0 - op_stock))"
    info "$order_pay_check"
    if ((op_completed < op_paid)); then
        warn "fewer COMPLETED orders ($op_completed) than payments answered 200 ($op_paid)"
        ANY_ERRORS=1
    fi
    if ((ORDER_PAY_STOCK0 - op_stock != op_completed + op_inflight)); then
        warn "stock went down by $((ORDER_PAY_STOCK0 - op_stock)), but $op_completed orders were paid and $op_inflight are being paid"
        ANY_ERRORS=1
    fi
    if ((op_outbox != op_completed + ORDER_PAY_COMPLETED0)); then
        warn "$op_outbox OrderCompleted outbox events for $((op_completed + ORDER_PAY_COMPLETED0)) paid orders"
        ANY_ERRORS=1
    fi
    # the relay must drain the outbox, and today's ranking must then hold exactly the units paid
    if op_drain=$(wait_outbox_drained 30); then
        outbox_check="outbox: backlog 0 (SQL: unpublished outbox_events) ${op_drain} s after the check began"
    else
        outbox_check="outbox: backlog still $op_drain unpublished events 30 s after the runs"
        warn "$outbox_check"
        ANY_ERRORS=1
    fi
    prom_scrape "$WORK/prom.final"
    outbox_check+=", gauge outbox_backlog $(prom_value outbox_backlog "$WORK/prom.final"), outbox_parked $(prom_value outbox_parked "$WORK/prom.final")"
    info "$outbox_check"
    op_day=$(business_day)
    op_units=$(order_pay_units_today "$ORDER_PAY_DAY")
    op_zsum=$(order_pay_zscore_sum "$ORDER_PAY_DAY")
    exact_check="ranking exactness (day $ORDER_PAY_DAY, key $(ranking_key "$ORDER_PAY_DAY"), the $ORDER_PAY_PRODUCTS bench products):"
    exact_check+=" SUM(quantity) of COMPLETED lines paid that day $op_units, sum of ZSCOREs $op_zsum"
    if [[ "$ORDER_PAY_UNITS0" != 0 || "$ORDER_PAY_ZSUM0" != 0 ]]; then
        exact_check+=" (before the runs: $ORDER_PAY_UNITS0 and $ORDER_PAY_ZSUM0; increases $((op_units - ORDER_PAY_UNITS0)) and $((op_zsum - ORDER_PAY_ZSUM0)))"
    fi
    if ((op_units - ORDER_PAY_UNITS0 == op_zsum - ORDER_PAY_ZSUM0)); then
        exact_check+=": equal"
        info "$exact_check"
    else
        exact_check+=": DIFFERENT by $(((op_zsum - ORDER_PAY_ZSUM0) - (op_units - ORDER_PAY_UNITS0))) units"
        warn "$exact_check"
        ANY_ERRORS=1
    fi
    if [[ "$op_day" != "$ORDER_PAY_DAY" ]]; then
        exact_check+=" (the business day changed to $op_day during the runs: units paid after midnight are in the next day's key)"
        warn "the business day changed during the runs; the exactness check covers $ORDER_PAY_DAY only"
    fi
    order_pay_check+=$'\n'"$outbox_check"$'\n'"$exact_check"
fi
# Reserve: the exact-count check and the drain of every coupon (warm-up and discarded runs included)
reserve_check=""
if scenario_selected reserve; then
    reserve_check=$(printf '%s\n' "${RESERVE_CHECK_LINES[@]}" "${RESERVE_DRAIN_LINES[@]}")
    if ((${#RESERVE_DRAIN_SECS[@]})); then
        reserve_check+=$'\n'"reserve drain per measured run: $(printf '%s\n' "${RESERVE_DRAIN_SECS[@]}" | paste -sd/ -) s after wrk stopped"
        reserve_check+=" (median $(median "${RESERVE_DRAIN_SECS[@]}") s; $(printf '%s\n' "${RESERVE_DRAIN_RATES[@]}" | paste -sd/ -) requests/s);"
        reserve_check+=" issuance throughput from the start of wrk to drained: $(printf '%s\n' "${RESERVE_ISSUE_RATES[@]}" | paste -sd/ -) user coupons/s (median $(fmt_num "$(median "${RESERVE_ISSUE_RATES[@]}")"))"
    fi
fi
restart_note=""
((RESERVE_RESTARTED)) && restart_note=" (of the application restarted by reserve, its user directory also holding the $RESERVE_USERS bench users)"
RSS_MB[after]=$(rss_mb "$APP_PID")
RSS_MB[peak]=$(hwm_mb "$APP_PID")
step "memory: $HOLD_CONNECTIONS open keep-alive connections again, after the load scenarios"
measure_conns_rss conns_after "RSS with %d open keep-alive connections, after the load scenarios$restart_note"

# ---------------------------------------------------------------------------------------------
# report

# rows: scenario | median | p99 | errors | ratio | target | result
rows=()
row() { rows+=("$(printf '%s\t' "$@")"); }

declare -A has_target=()
for t in "${TARGETS[@]}"; do
    IFS='|' read -r kind a _ <<<"$t"
    [[ "$kind" != rss ]] && has_target[$a]=1
done
for sc in "${SCENARIOS[@]}"; do
    if [[ -z "${has_target[$sc]:-}" ]]; then
        row "${SC_LABEL[$sc]}" "$(fmt_num "${RES_TPUT[$sc]}") ${SC_UNIT[$sc]}" "$(fmt_ms "${RES_P99[$sc]}")" \
            "${RES_ERR[$sc]}" "-" "reference" "-"
    fi
done
misses=0
# judge PASSED(0/1) ERRORS: sets RESULT (and counts misses)
judge() {
    if (($2 > 0)); then
        RESULT=ERRORS
    elif (($1)); then
        RESULT=PASS
    else
        RESULT=MISS
        misses=$((misses + 1))
    fi
}
for t in "${TARGETS[@]}"; do
    IFS='|' read -r kind a b c <<<"$t"
    case $kind in
        ratio)
            if ! scenario_selected "$a" || ! scenario_selected "$b"; then continue; fi
            ratio=$(fmt_ratio "${RES_TPUT[$a]}" "${RES_TPUT[$b]}")
            ratio_how=""
            if [[ "${PAIR_REF[$a]:-}" == "$b" && -n "${RES_PAIR_RATIO[$a]:-}" ]]; then
                ratio=$(fmt_ratio "${RES_PAIR_RATIO[$a]}" 1)
                ratio_how=" (median of per-pair ratios)"
            fi
            passed=0; ge "$ratio" "$c" && passed=1
            judge $passed $((RES_ERR[$a] + RES_ERR[$b]))
            row "${SC_LABEL[$a]}" "$(fmt_num "${RES_TPUT[$a]}") ${SC_UNIT[$a]}" "$(fmt_ms "${RES_P99[$a]}")" \
                "${RES_ERR[$a]}" "$ratio × ${SC_LABEL[$b]% (reference)}$ratio_how" "≥ $c × ${SC_LABEL[$b]% (reference)}" \
                "$RESULT"
            ;;
        info)
            if ! scenario_selected "$a" || ! scenario_selected "$b"; then continue; fi
            row "${SC_LABEL[$a]}" "$(fmt_num "${RES_TPUT[$a]}") ${SC_UNIT[$a]}" "$(fmt_ms "${RES_P99[$a]}")" \
                "${RES_ERR[$a]}" "$(fmt_ratio "${RES_TPUT[$a]}" "${RES_TPUT[$b]}") × ${SC_LABEL[$b]% (reference)}" \
                "(no target)" "-"
            ;;
        p99)
            scenario_selected "$a" || continue
            passed=0; ge "$b" "${RES_P99[$a]}" && passed=1
            judge $passed "${RES_ERR[$a]}"
            row "${SC_LABEL[$a]}" "$(fmt_num "${RES_TPUT[$a]}") ${SC_UNIT[$a]}" "$(fmt_ms "${RES_P99[$a]}")" \
                "${RES_ERR[$a]}" "-" "p99 ≤ $b ms" "$RESULT"
            ;;
        lag)
            scenario_selected "$a" || continue
            ((${#LAG_P99S[@]})) || continue
            lag_p99=$(median "${LAG_P99S[@]}")
            lag_mean=$(median "${LAG_MEANS[@]}")
            passed=0; ge "$b" "$lag_p99" && passed=1
            judge $passed "${RES_ERR[$a]}"
            lag_shown=$(fmt_ms "$lag_p99"); ge "$lag_p99" 1e9 && lag_shown="> 10000"
            row "outbox commit-to-visible lag during ${SC_LABEL[$a]} (p99 = histogram bucket bound)" \
                "$(fmt_num "${RES_TPUT[$a]}") ${SC_UNIT[$a]}" "$lag_shown" "${RES_ERR[$a]}" \
                "mean $(fmt_ms "$lag_mean") ms" "lag p99 ≤ $b ms" "$RESULT"
            ;;
        rss)
            passed=0; ge "$b" "${RSS_MB[$a]}" && passed=1
            rss_err=0
            [[ "${RSS_LABEL[$a]}" == *"only "* ]] && rss_err=1
            judge $passed $rss_err
            row "${RSS_LABEL[$a]}" "${RSS_MB[$a]} MiB" "-" "$rss_err" "-" "≤ $b MiB" "$RESULT"
            ;;
    esac
done

headers=("scenario" "median RPS/TPS" "p99 ms" "errors" "ratio" "target" "result")
print_table_text() {
    {
        printf '%s\t' "${headers[@]}"
        echo
        printf '%s\n' "${rows[@]}"
    } | column -t -s $'\t'
}
print_table_md() {
    local r
    r=$(printf '%s\t' "${headers[@]}")
    for r in "$r" "$(printf -- '---\t%.0s' "${headers[@]}")" "${rows[@]}"; do
        r=${r%$'\t'}
        echo "| ${r//$'\t'/ | } |"
    done
}

# cost_rows: fills cost_lines with "<label>: <process> N µs, ..." per scenario (medians).
cost_lines=()
cost_rows() {
    local sc
    cost_lines=()
    for sc in "${SCENARIOS[@]}"; do
        cost_lines+=("${SC_LABEL[$sc]}: $(cost_text "$sc" "${RES_APP_US[$sc]}" "${RES_PG_US[$sc]}" \
            "${RES_NGINX_US[$sc]}" "${RES_CLIENT_US[$sc]}")")
    done
}

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB\n", $2 / 1048576 }' /proc/meminfo)
git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src CMakeLists.txt 2>/dev/null || git_rev+=" (src/ has uncommitted changes)"
run_date=$(date -u '+%Y-%m-%d %H:%M UTC')

echo
step "results (medians of $RUNS run(s) of ${DURATION}s; wrk -t$WRK_THREADS -c$WRK_CONNECTIONS (order + pay: -c$ORDER_PAY_CONNECTIONS); pgbench -c$PGBENCH_CLIENTS -j$PGBENCH_JOBS -s$PGBENCH_SCALE)"
print_table_text
echo
info "per-run values:"
for sc in "${SCENARIOS[@]}"; do
    info "  ${SC_LABEL[$sc]}: ${RES_RUNS_TPUT[$sc]} ${SC_UNIT[$sc]}; p99 ${RES_RUNS_P99[$sc]} ms; foreign CPU ${RES_FOREIGN[$sc]} %; disk flush max ${RES_DISK[$sc]} ms${RES_NOTE[$sc]:+; ${RES_NOTE[$sc]}}"
done
lag_runs=""
if ((${#LAG_P99S[@]})); then
    lag_runs="commit-to-visible lag per run (order + pay; outbox_visible_lag_seconds increase): p99 $(for v in "${LAG_P99S[@]}"; do if ge "$v" 1e9; then echo '>10000'; else fmt_ms "$v"; fi; done | paste -sd/ -) ms;"
    lag_runs+=" mean $(for v in "${LAG_MEANS[@]}"; do fmt_ms "$v"; done | paste -sd/ -) ms; observations $(printf '%s\n' "${LAG_COUNTS[@]}" | paste -sd/ -)"
    info "  $lag_runs"
fi
info "application RSS after the scenarios: ${RSS_MB[after]} MiB (peak VmHWM ${RSS_MB[peak]} MiB)$restart_note"
[[ -n "$charge_check" ]] && info "$charge_check"
if [[ -n "$order_pay_check" ]]; then
    while IFS= read -r l; do info "$l"; done <<<"$order_pay_check"
fi
if [[ -n "$reserve_check" ]]; then
    while IFS= read -r l; do info "$l"; done <<<"$reserve_check"
fi
echo
info "CPU cost per request or transaction, µs (medians; CPU time of each process during a run / requests served):"
cost_rows
for r in "${cost_lines[@]}"; do info "  $r"; done

mkdir -p "$(dirname "$RESULTS_MD")"
{
    echo "# Benchmark results"
    echo
    echo "Generated by \`bench/run.sh\` on $run_date."
    echo
    echo "- machine: $(nproc) CPUs ($cpu_model), $mem_total RAM, $(uname -sr)"
    echo "- git: $git_rev; binary: ${BIN#"$ROOT"/}"
    echo "- everything on one machine over loopback: application (profile test, logging.level=warn, server.threads=$SERVER_THREADS${BENCH_APP_SET:+, $BENCH_APP_SET})," \
        "PostgreSQL 15, Redis, nginx ($(nginx -v 2>&1 | sed 's/.*\///')," \
        "worker_processes $SERVER_THREADS), wrk and pgbench"
    echo "- wrk: $WRK_THREADS threads, $WRK_CONNECTIONS connections (order + pay: $ORDER_PAY_CONNECTIONS), ${DURATION}s per run, --latency;" \
        "pgbench: -c $PGBENCH_CLIENTS -j $PGBENCH_JOBS -T $DURATION, scale $PGBENCH_SCALE, same PostgreSQL server"
    echo "- each scenario: one warm-up of up to 3 s (not counted), then $RUNS measured run(s); the table shows medians"
    if ((${#PAIR_REF[@]})); then
        echo "- paired runs: before each run of $(for a in "${!PAIR_REF[@]}"; do printf '%s, ' "$a"; done | sed 's/, $//'), one run of its reference; its ratio target is judged on the median of the per-pair ratios (the machine's speed drifts within minutes)"
    fi
    echo
    if ((DISTURBED)); then
        echo "**Disturbed:** in some runs other processes used more than ${FOREIGN_WARN_PCT}% of the machine (see foreign CPU below); those numbers understate this machine."
        echo
    fi
    print_table_md
    echo
    echo "Per-run values (throughput; p99; foreign CPU = share of all CPUs used by processes outside the benchmark during the run; disk flush max = the slowest 8 KB write + fdatasync of bench/disk_probe.py, one every 50 ms on the WAL's filesystem during the run: every synchronous commit of that moment waited at least as long):"
    echo
    for sc in "${SCENARIOS[@]}"; do
        echo "- ${SC_LABEL[$sc]}: ${RES_RUNS_TPUT[$sc]} ${SC_UNIT[$sc]}; p99 ${RES_RUNS_P99[$sc]} ms; foreign CPU ${RES_FOREIGN[$sc]} %; disk flush max ${RES_DISK[$sc]} ms${RES_PAIR_RUNS[$sc]:+; ${RES_PAIR_RUNS[$sc]}}${RES_NOTE[$sc]:+; ${RES_NOTE[$sc]}}"
    done
    [[ -n "$lag_runs" ]] && echo "- $lag_runs"
    echo "- application RSS after the scenarios: ${RSS_MB[after]} MiB (peak VmHWM ${RSS_MB[peak]} MiB)$restart_note"
    [[ -n "$charge_check" ]] && echo "- $charge_check"
    if [[ -n "$order_pay_check" ]]; then
        while IFS= read -r l; do echo "- $l"; done <<<"$order_pay_check"
    fi
    if [[ -n "$reserve_check" ]]; then
        while IFS= read -r l; do echo "- $l"; done <<<"$reserve_check"
    fi
    echo
    echo "CPU cost per request or transaction in µs (medians; CPU time each process used during a run divided by the requests served; wrk/pgbench = the load generator):"
    echo
    for r in "${cost_lines[@]}"; do echo "- $r"; done
} >"$RESULTS_MD"
echo
info "written: ${RESULTS_MD#"$ROOT"/}"
if ((DISTURBED)); then
    warn "some runs shared the machine with other work (foreign CPU > ${FOREIGN_WARN_PCT}%); see the per-run values"
fi
if ((ANY_ERRORS)); then
    warn "some runs had request errors; their results are marked ERRORS"
    exit 3
fi
if ((misses)); then
    info "$misses target(s) missed"
fi
exit 0

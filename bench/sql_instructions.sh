#!/usr/bin/env bash
# bench/sql_instructions.sh — the database's instructions per paid order: how many CPU instructions a
# PostgreSQL backend executes (valgrind --tool=callgrind, user space) for the three transactions the
# application runs per paid order (create_order, payment_reserve, payment_complete), with the schema
# and functions the given application binary migrates to.
#
# Wall-clock benchmarks on this 2-core VM drift by ±15 % within minutes, which hides SQL changes worth
# a few per cent; an instruction count is exact to 0.01 % from one run to the next. It leaves out what
# the kernel does (network, WAL fsync) and any contention, so it is a comparison between schemas, not
# a throughput: bench/run.sh measures that (docs/performance.md, "Instructions per paid order").
#
# For each binary: a throw-away cluster (same settings as the bench's), `migrate` and `seed` (profile
# test), balances of users 300000..309999 and all stock set high, VACUUM ANALYZE; then a single-user
# backend runs N and 5N paid orders (1 unit of one of 21 products, distinct users, one statement per
# transaction as the application sends them) under callgrind on a fresh copy of that cluster; the
# difference divided by 4N is the cost of one paid order without start-up. The same is done with only
# the creations, and with the creations and reservations, to split it by step.
#
# Usage: bench/sql_instructions.sh [--orders N] [BIN ...]
#   BIN         application binaries to compare (default build/release/ecommerce); the first is the
#               reference of the printed ratios
#   --orders N  N (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

ORDERS=50
BINS=()
while (($#)); do
    case $1 in
        --orders) ORDERS=${2:?--orders needs a number}; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) BINS+=("$1") ;;
    esac
    shift
done
((${#BINS[@]})) || BINS=("$ROOT/build/release/ecommerce")
for b in "${BINS[@]}"; do [[ -x "$b" ]] || die "not an executable: $b (build it: cmake --build --preset release)"; done
command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
_pg_require_binaries

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ec-sqlinstr.XXXXXX")
mkdir "$WORK/cg" # callgrind's output, written by the backend's user
if is_root; then
    chmod 755 "$WORK"
    chown "$PG_OS_USER" "$WORK/cg"
fi
PG_PORT=""
cleanup() {
    [[ -d "$WORK/pg" ]] && pg_stop "$WORK/pg" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# script FILE N STEPS: N paid orders (STEPS: c = create, r = reserve, p = complete), users and
# products round-robin as in bench/lua/order_pay.lua; currval() is the order just created.
script() {
    local file=$1 n=$2 steps=$3 i uid pid
    : >"$file"
    for ((i = 0; i < n; i++)); do
        uid=$((300000 + (i * 37) % 10000))
        pid=$((1 + i % 21))
        echo "SELECT * FROM create_order($uid, 'o$i', 'fp', ARRAY[$pid]::BIGINT[], ARRAY[1]::INT[], NULL)" >>"$file"
        [[ $steps == *r* ]] && echo "SELECT * FROM payment_reserve(currval('orders_id_seq'), $uid, 'p$i'), set_config('synchronous_commit', 'off', true)" >>"$file"
        [[ $steps == *p* ]] && echo "SELECT * FROM payment_complete(currval('orders_id_seq'), $uid, 'p$i', 'PG_APPROVED: x'$RECEIPT_ARGS)" >>"$file"
    done
    chmod 644 "$file"
}

# instructions DATA SCRIPT: callgrind's instruction count of a single-user backend on a copy of DATA.
instructions() {
    local data=$1 sql=$2 copy=$WORK/copy log=$WORK/callgrind.log
    rm -rf "$copy"
    cp -a "$data" "$copy"
    pg_as_owner valgrind --tool=callgrind --callgrind-out-file="$WORK/cg/callgrind.out" \
        "$PG_BIN/postgres" --single -D "$copy" ecommerce <"$sql" >"$WORK/single.out" 2>"$log" ||
        die "the single-user backend failed (log: $log)"
    if grep -q "ERROR" "$WORK/single.out"; then
        grep -m3 "ERROR" "$WORK/single.out" >&2
        die "a statement failed under callgrind"
    fi
    awk '/Collected/ { gsub(",", "", $NF); print $NF }' "$log"
}

declare -a TOTAL=()
for b in "${BINS[@]}"; do
    step "$b"
    rm -rf "$WORK/pg"
    PG_PORT=$(free_port)
    pg_start "$WORK/pg" "$PG_PORT" >/dev/null
    pg_create_db "$PG_PORT" ecommerce >/dev/null
    app=("$b" --config-dir "$ROOT/config" --profile test --set logging.level=warn
        --set "datasource.url=postgresql://postgres@127.0.0.1:$PG_PORT/ecommerce"
        --set "redis.url=redis://127.0.0.1:1/0")
    "${app[@]}" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; die "migrate failed"; }
    "${app[@]}" seed >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log" >&2; die "seed failed"; }
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d ecommerce -X -q -v ON_ERROR_STOP=1 \
        -c "UPDATE users SET balance = 1000000000000 WHERE id BETWEEN 300000 AND 309999" \
        -c "UPDATE products SET stock = 1000000000" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    version=$("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d ecommerce -X -qtA \
        -c "SELECT max(version) FROM schema_migrations")
    info "schema version $version"
    # From V019 payment_complete takes step 1's amount and balance (constants here: they only fill
    # the receipt).
    RECEIPT_ARGS=""
    ((version >= 19)) && RECEIPT_ARGS=", 1000, 0"
    for steps in c cr crp; do
        script "$WORK/$steps.1.sql" "$ORDERS" $steps
        script "$WORK/$steps.5.sql" $((5 * ORDERS)) $steps
    done
    pg_stop "$WORK/pg"
    declare -A per=()
    for steps in c cr crp; do
        one=$(instructions "$WORK/pg/data" "$WORK/$steps.1.sql")
        five=$(instructions "$WORK/pg/data" "$WORK/$steps.5.sql")
        per[$steps]=$(((five - one) / (4 * ORDERS)))
    done
    TOTAL+=("${per[crp]}")
    printf '    instructions per paid order: %s (create_order %s, payment_reserve %s, payment_complete %s)\n' \
        "${per[crp]}" "${per[c]}" $((per[cr] - per[c])) $((per[crp] - per[cr]))
    unset per
done

if ((${#BINS[@]} > 1)); then
    step "relative to ${BINS[0]}"
    for i in "${!BINS[@]}"; do
        awk -v a="${TOTAL[$i]}" -v r="${TOTAL[0]}" -v b="${BINS[$i]}" \
            'BEGIN { printf "    %s: %.3f (%+.1f %%)\n", b, a / r, (a / r - 1) * 100 }'
    done
fi

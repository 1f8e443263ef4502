#!/usr/bin/env bash
# Online check-ins against pgbench, in one run (bench/README.md, "Check-ins vs pgbench").
#
#   bench/checkin_online.sh [BUILD_DIR] [SCANNERS] [ROUNDS] [SECONDS] [PACE]
#   (defaults: build 8 3 10 10; BUILD_DIR must be a Release build without ADMIT_SANITIZE)
#
# Sets up a private PostgreSQL cluster in /tmp (scripts/pg: durable commits, as the tests run
# it), an event with one check-in list and enough registrations that every scan of the run is a
# new admission, one device per scanner, and admitd with one HTTP thread per scanner and its
# default check-in worker (ADMITD_ARGS adds flags, e.g. "--checkin-workers 2"). Then, ROUNDS
# times, alternating which goes first:
#   candidate  checkin_load: SCANNERS threads posting one scan per request to
#              POST /api/v1/checkins for SECONDS, each with its own token and connection, as
#              fast as the server answers (throughput; latency is then mostly queueing); admitd
#              decides them on its check-in worker, in groups (sql/queries/checkin_group.sql)
#   paced      the same SCANNERS, each scanning PACE tickets a second (a busy door is one
#              ticket a second or two): the latency of a door's scan while all are busy
#   baseline   pgbench -c SCANNERS: the bare check-in, INSERT INTO an admissions-like table
#              (primary key (registration_id, list_id)) ... ON CONFLICT DO NOTHING, one per
#              transaction, for SECONDS
#   sql        pgbench -c SCANNERS calling the check-in's SQL function (admit_checkin) directly
#              with one scan, as admitd did for every scan until the group statement (and still
#              does for batches, exits, uploads and what the statement leaves)
#   paced base pgbench, the bare check-in at the paced scanners' total rate (--rate): what a
#              lone durable insert's latency is on this machine when it is mostly idle (a
#              woken-up CPU and an idle disk cost milliseconds on a VM), beside the paced p99
# after a warm-up of SECONDS of scans and of the bare insert (not measured), and prints every
# measurement, the medians, the median of the per-round ratios and the paced p99 latency
# against the targets of DESIGN.md (ratio >= 0.5; p99 < 10 ms with 8 scanners busy).
# admitd, PostgreSQL, pgbench and the load driver all share the machine's cores: say so next to
# any figure. The cluster is deleted at the end.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
scanners=${2:-8}
rounds=${3:-3}
seconds=${4:-10}
pace=${5:-10}
admit=$build/cli/admit
admitd=$build/server/admitd
load=$build/bench/checkin_load
[ -f "$build/CMakeCache.txt" ] || { echo "checkin_online.sh: $build is not a CMake build folder" >&2; exit 2; }
# Bring the three programs up to date: a stale load driver once measured without its pacing.
cmake --build "$build" --target admit-cli admitd checkin_load >/dev/null ||
    { echo "checkin_online.sh: cannot build $build" >&2; exit 2; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pgbench=$bindir/pgbench
[ -x "$pgbench" ] || { echo "checkin_online.sh: pgbench not found next to initdb" >&2; exit 2; }

work=$(mktemp -d /tmp/admit-bench-XXXXXX)
chmod 755 "$work"
admitd_pid=
cleanup() {
    [ -n "$admitd_pid" ] && kill "$admitd_pid" 2>/dev/null && wait "$admitd_pid" 2>/dev/null
    "$top/scripts/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "setting up: PostgreSQL in $work/pg, $scanners scanners, $rounds rounds of $seconds s" >&2
# Every scan a new admission: more registrations than the scanners can get through.
per_round=${CHECKIN_BENCH_PER_ROUND:-100000}
sql_range=$per_round # registrations the sql candidate draws from (at random)
paced=$((scanners * pace * seconds * 2))
warm=$per_round # the warm-up's registrations
# shellcheck source=bench/checkin_db.sh
. "$top/bench/checkin_db.sh"
checkin_db_setup "$admit" "$work" $((per_round * rounds + sql_range + paced * rounds + warm))
"$admit" keygen --dir "$work/keys" >/dev/null 2>&1
: >"$work/tokens"
for i in $(seq 1 "$scanners"); do
    "$admit" device add --db "$dsn" --event bench --name "Door $i" 2>/dev/null >>"$work/tokens"
done
# shellcheck disable=SC2086 # ADMITD_ARGS is a list of flags
"$admitd" --db "$dsn" --keys "$work/keys" --listen 127.0.0.1:0 --threads "$scanners" \
    ${ADMITD_ARGS:-} 2>"$work/admitd.log" &
admitd_pid=$!
for _ in $(seq 1 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/admitd.log" | grep -o '[0-9]*$' \
           || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/admitd.log" >&2; exit 1; }
cat >"$work/baseline.sql" <<'SQL'
\set r random(1, 2000000000)
INSERT INTO checkin_baseline VALUES (:r, 1, now(), 'Door') ON CONFLICT DO NOTHING;
SQL

sql_first=$((first_id + per_round * rounds))
paced_first=$((sql_first + sql_range))
cat >"$work/sql.sql" <<SQL
\set r random($sql_first, $((sql_first + sql_range - 1)))
SELECT admit_checkin(sha256('bench-sql'), ('[{"nonce":"' || md5(random()::text) || '","list":"Day 1","direction":"entry","scanned_at":"2030-01-01T10:00:00Z","offline":false,"event_id":$event_id,"registration_id":' || :r || ',"reissue":0}]')::jsonb);
SQL

run_admit() { # round -> JSON line
    "$load" --url "http://127.0.0.1:$port" --tokens "$work/tokens" \
        --key "$work/keys/ticket-signing.key" --event "$event_id" \
        --first $((first_id + $1 * per_round)) --count "$per_round" --threads "$scanners" \
        --seconds "$seconds" --json
}
run_paced() { # round -> JSON line
    "$load" --url "http://127.0.0.1:$port" --tokens "$work/tokens" \
        --key "$work/keys/ticket-signing.key" --event "$event_id" \
        --first $((paced_first + $1 * paced)) --count "$paced" --threads "$scanners" \
        --seconds "$seconds" --rate "$pace" --json
}
run_pgbench_paced() { # -> "p50_ms p99_ms" of the bare check-in at the paced scanners' rate
    rm -f "$work"/paced_log*
    PGOPTIONS="-c synchronous_commit=on" "$pgbench" -h "$work/pg/run" -U admit -n \
        -c "$scanners" -j 2 -T "$seconds" --rate "$((scanners * pace))" -l \
        --log-prefix "$work/paced_log" -f "$work/baseline.sql" bench >/dev/null 2>&1
    cat "$work"/paced_log* | python3 -c '
import sys
us = sorted(int(line.split()[2]) for line in sys.stdin if line.strip())
print("%.3f %.3f" % (us[len(us) // 2] / 1000, us[int(len(us) * 0.99)] / 1000) if us else "0 0")'
}
run_pgbench() { # SCRIPT -> transactions per second
    PGOPTIONS="-c synchronous_commit=on" "$pgbench" -h "$work/pg/run" -U admit -n \
        -c "$scanners" -j 2 -T "$seconds" -f "$work/$1" bench 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# How long a durable commit takes on this disk right now: every figure below waits for it.
fsync_us=$("$bindir/pg_test_fsync" -s 1 -f "$work/fsync.test" 2>/dev/null |
           sed -n 's/^ *fdatasync *[0-9.]* ops\/sec *\([0-9]*\) usecs\/op.*/\1/p' | head -n 1)
echo "fdatasync on $work: ${fsync_us:-?} us per flush (pg_test_fsync)" >&2

# Warm-up, not measured, then fresh statistics. The set-up's VACUUM ANALYZE ran while scans and
# admissions were empty: the planner then believes them empty and reads them whole (sequential
# scans) until autovacuum analyses them again, up to a minute later, and round 1 measured that
# (a third of the other rounds, or less, in every run). A door that has scanned a while has
# statistics with rows in them.
echo "warming up: $seconds s of scans and of the bare insert, not measured" >&2
"$load" --url "http://127.0.0.1:$port" --tokens "$work/tokens" \
    --key "$work/keys/ticket-signing.key" --event "$event_id" \
    --first $((paced_first + rounds * paced)) --count "$warm" --threads "$scanners" \
    --seconds "$seconds" --json >/dev/null
run_pgbench baseline.sql >/dev/null
psql -XqAt -d "$dsn" -c "ANALYZE scans" -c "ANALYZE admissions" -c "ANALYZE checkin_baseline" \
    >/dev/null

results=()
for r in $(seq 0 $((rounds - 1))); do
    if [ $((r % 2)) = 0 ]; then
        a=$(run_admit "$r"); b=$(run_pgbench baseline.sql); q=$(run_pgbench sql.sql)
        p=$(run_paced "$r"); pb=$(run_pgbench_paced)
    else
        pb=$(run_pgbench_paced); p=$(run_paced "$r")
        q=$(run_pgbench sql.sql); b=$(run_pgbench baseline.sql); a=$(run_admit "$r")
    fi
    echo "round $((r + 1)): admit $a; pgbench $b tps; sql $q tps; paced $p; paced pgbench p50/p99 ms $pb" >&2
    results+=("$a|$b|$q|$p|$pb")
done

# How the scans grouped (admitd says when it stops).
kill "$admitd_pid" && wait "$admitd_pid" || true
admitd_pid=
groups=$(sed -n 's/^admitd: door scans: //p' "$work/admitd.log")

python3 - "$scanners" "$seconds" "$pace" "${fsync_us:-0}" "${groups:-none}" "${results[@]}" <<'PY'
import json, statistics, sys
scanners, seconds, pace = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
fsync_us = int(sys.argv[4])
groups = sys.argv[5]
rows, paced, paced_base = [], [], []
for item in sys.argv[6:]:
    a, b, q, p, pb = item.split("|")
    rows.append((json.loads(a), float(b), float(q or 0)))
    paced.append(json.loads(p))
    paced_base.append([float(x) for x in pb.split()])
rates = [a["scans_per_s"] for a, _, _ in rows]
base = [b for _, b, _ in rows]
sql = [q for _, _, q in rows]
ratios = [a["scans_per_s"] / b for a, b, _ in rows]
sql_ratios = [q / b for _, b, q in rows]
p50 = statistics.median(a["p50_ms"] for a, _, _ in rows)
p99s = [a["p99_ms"] for a, _, _ in rows]
print("Check-ins vs pgbench: %d scanners, %d rounds of %g s, interleaved; fdatasync %d us"
      % (scanners, len(rows), seconds, fsync_us))
print("%-6s %9s %8s %8s %12s %7s %9s %7s" % ("round", "scans/s", "p50 ms", "p99 ms",
                                              "pgbench tps", "ratio", "sql tps", "sql/pg"))
for i, (a, b, q) in enumerate(rows):
    print("%-6d %9.0f %8.2f %8.2f %12.0f %7.3f %9.0f %7.3f"
          % (i + 1, a["scans_per_s"], a["p50_ms"], a["p99_ms"], b, a["scans_per_s"] / b, q,
             q / b))
    if a["errors"] or a["other"]:
        print("       (%d errors, %d answers other than valid)" % (a["errors"], a["other"]))
ratio = statistics.median(ratios)
p99 = statistics.median(p["p99_ms"] for p in paced)
print("paced: %d scanners x %g scans/s each:" % (scanners, pace)
      + "".join(" round %d p50 %.2f ms p99 %.2f ms (%d scans, %d errors);"
                % (i + 1, p["p50_ms"], p["p99_ms"], p["scans"], p["errors"])
                for i, p in enumerate(paced)))
print("paced baseline: pgbench, the bare check-in at the same %g transactions/s:" % (scanners * pace)
      + "".join(" round %d p50 %.2f ms p99 %.2f ms;" % (i + 1, b[0], b[1])
                for i, b in enumerate(paced_base)))
base_p99 = statistics.median(b[1] for b in paced_base)
print("paced p99: admit %.2f ms, bare insert %.2f ms (medians of the rounds)"
      % (statistics.median(p["p99_ms"] for p in paced), base_p99))
print("median: %.0f scans/s, p50 %.2f ms, p99 %.2f ms (saturated); pgbench %.0f tps; ratio "
      "%.3f; SQL function alone %.0f tps (%.3f of pgbench)"
      % (statistics.median(rates), p50, statistics.median(p99s), statistics.median(base), ratio,
         statistics.median(sql), statistics.median(sql_ratios)))
print("admitd's check-in groups over the whole run: %s" % groups)
print("online check-ins / pgbench: %.3f (target >= 0.5): %s" % (ratio, "met" if ratio >= 0.5
                                                                  else "NOT met"))
print("p99 with %d scanners busy (%g scans/s each): %.2f ms (target < 10 ms): %s"
      % (scanners, pace, p99, "met" if p99 < 10 else "NOT met"))
print(json.dumps({"scanners": scanners, "rounds": len(rows), "seconds": seconds,
                  "scans_per_s": statistics.median(rates), "p50_ms": p50,
                  "p99_saturated_ms": statistics.median(p99s), "pace": pace,
                  "p99_paced_ms": p99, "p99_paced_baseline_ms": base_p99,
                  "fdatasync_us": fsync_us, "groups": groups,
                  "pgbench_tps": statistics.median(base), "ratio": ratio,
                  "sql_tps": statistics.median(sql), "sql_ratio": statistics.median(sql_ratios),
                  "ratio_target_met": ratio >= 0.5, "p99_target_met": p99 < 10}))
PY

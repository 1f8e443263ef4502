#!/usr/bin/env bash
# What the door's group statement costs in PostgreSQL, and which part of it (bench/README.md,
# "What else was tried for the ratio").
#
#   bench/checkin_statement.sh [BUILD_DIR] [ROUNDS] [SECONDS]   (defaults: build 3 5)
#
# Sets up the door benchmarks' database (bench/checkin_db.sh) and runs, with pgbench and one
# client (-c 1 -M prepared), as admitd's check-in worker runs it: one connection, one statement
# after the other, the generic plan (plan_cache_mode=force_generic_plan, as admitd ends up
# with), each for SECONDS, ROUNDS times in an order reversed every other round:
#   select-1     SELECT 1: a round trip and an empty transaction
#   bare         the bare check-in insert of bench/checkin_online.sh's baseline
#   group-1      sql/queries/checkin_group.sql with one scan (a fresh registration, a new nonce)
#   group-0      the same with no scan (empty arrays): what the statement costs doing nothing
#   group-4      the same with four scans
#   no-log-1     group-1 without the scan log insert (the `logged` CTE)
#   reads-1      group-1 without both inserts: what it reads, locks and decides
# all with synchronous_commit off, so that the figures are the database's work and not the
# disk's; then group-4 and bare durable, for what the flush adds. Between runs scans and
# admissions are emptied, so that every scan is a new admission. The statement is read from
# sql/queries/ and its parameters are replaced by one-row arrays (pgbench variables), so it
# measures the statement admitd runs now. Prints milliseconds per statement (medians of the
# rounds) and the split of group statements into a part per statement and a part per scan.
# PostgreSQL and pgbench share the machine's cores; the device's last_seen_at is set in the
# future, which the statement requires of a working door (admitd's devices refresh it).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
rounds=${2:-3}
seconds=${3:-5}
admit=$build/cli/admit
[ -x "$admit" ] || { echo "checkin_statement.sh: $admit not found (build first)" >&2; exit 2; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pgbench=$bindir/pgbench
[ -x "$pgbench" ] || { echo "checkin_statement.sh: pgbench not found next to initdb" >&2; exit 2; }

work=$(mktemp -d /tmp/admit-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
    "$top/scripts/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

registrations=${CHECKIN_STATEMENT_REGISTRATIONS:-300000}
echo "setting up: PostgreSQL in $work/pg, $registrations registrations" >&2
# shellcheck source=bench/checkin_db.sh
. "$top/bench/checkin_db.sh"
checkin_db_setup "$admit" "$work" "$registrations"
psql -XqAt -d "$dsn" -c "UPDATE devices SET last_seen_at = '2999-01-01' WHERE name = 'SQL door'" \
    >/dev/null

# The pgbench scripts: the statement of sql/queries/checkin_group.sql with its array parameters
# replaced by N scans of fresh registrations and nonces, and the variants without inserts.
python3 - "$top/sql/queries/checkin_group.sql" "$work" "$event_id" "$first_id" \
    "$registrations" <<'PY'
import re, sys
path, work, event_id = sys.argv[1:4]
first, count = int(sys.argv[4]), int(sys.argv[5])
text = "\n".join(line for line in open(path).read().splitlines()
                 if not line.lstrip().startswith("--"))
text = re.sub(r"\s--[^\n']*", "", text)  # comments at the end of lines

def cte(sql, name):
    """The span of ', NAME AS (...)' in sql (the comma before it included)."""
    start = re.search(r",\s*" + name + r" AS \(", sql)
    if start is None:
        sys.exit("checkin_statement.sh: no CTE %s in %s" % (name, path))
    depth, i = 0, sql.index("(", start.start())
    while True:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return start.start(), i + 1
        i += 1

def script(sql, n):
    head = "".join("\\set r%d random(%d, %d)\n\\set n%d random(1, 2000000000)\n"
                   % (k, first, first + count - 1, k) for k in range(n))
    arrays = {
        1: "ARRAY[%s]" % ", ".join(["sha256('bench-sql')"] * n),
        2: "ARRAY[%s]" % ", ".join("'nonce-' || :n%d" % k for k in range(n)),
        3: "ARRAY[%s]" % ", ".join(["'Day 1'"] * n),
        4: "ARRAY[%s]" % ", ".join(["now()"] * n),
        5: "ARRAY[%s]::text[]" % ", ".join(["NULL"] * n),
        6: "ARRAY[%s]::bigint[]" % ", ".join([event_id] * n),
        7: "ARRAY[%s]::bigint[]" % ", ".join(":r%d" % k for k in range(n)),
        8: "ARRAY[%s]" % ", ".join(["0"] * n),
        9: "ARRAY[%s]::text[]" % ", ".join(["NULL"] * n),
    }
    if n == 0:  # typed empty arrays: an empty group
        arrays = {k: "ARRAY[]::%s[]" % t for k, t in enumerate(
            ("bytea", "text", "text", "timestamptz", "text", "bigint", "bigint", "integer",
             "text"), start=1)}
    body = re.sub(r"\$(\d+)::[a-z]+\[\]", lambda m: arrays[int(m.group(1))], sql)
    if "$" in body:
        sys.exit("checkin_statement.sh: a parameter of %s was not replaced" % path)
    return head + body.strip() + ";\n"

a, b = cte(text, "logged")
no_log = text[:a] + text[b:]
a, b = cte(no_log, "admitted")
reads = no_log[:a] + ", admitted AS (SELECT NULL::bigint AS first_scan_id WHERE false)" + no_log[b:]
for name, sql, n in (("group-0", text, 0), ("group-1", text, 1), ("group-4", text, 4),
                     ("no-log-1", no_log, 1),
                     ("reads-1", reads, 1)):
    open("%s/%s.sql" % (work, name), "w").write(script(sql, n))
open(work + "/select-1.sql", "w").write("SELECT 1;\n")
open(work + "/bare.sql", "w").write(
    "\\set r random(1, 2000000000)\n"
    "INSERT INTO checkin_baseline VALUES (:r, 1, now(), 'Door') ON CONFLICT DO NOTHING;\n")
PY

run() { # NAME SYNCHRONOUS_COMMIT -> milliseconds per transaction
    psql -XqAt -d "$dsn" -c "TRUNCATE scans, admissions, checkin_baseline" >/dev/null
    PGOPTIONS="-c synchronous_commit=$2 -c plan_cache_mode=force_generic_plan" \
        "$pgbench" -h "$work/pg/run" -U admit -n -M prepared -c 1 -T "$seconds" \
        -f "$work/$1.sql" bench 2>"$work/pgbench.err" |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p' | awk '{ if ($1 > 0) printf "%.4f\n", 1000 / $1 }'
    if grep -q "error" "$work/pgbench.err"; then
        echo "checkin_statement.sh: $1 failed:" >&2
        cat "$work/pgbench.err" >&2
        exit 1
    fi
}

candidates=(select-1:off bare:off group-0:off group-1:off group-4:off no-log-1:off reads-1:off
            group-4:on bare:on)
# A warm-up, not measured: the statistics of the emptied tables, the caches.
for c in group-4:off bare:off; do run "${c%%:*}" "${c#*:}" >/dev/null; done
psql -XqAt -d "$dsn" -c "ANALYZE" >/dev/null
results=()
for r in $(seq 1 "$rounds"); do
    order=("${candidates[@]}")
    if [ $((r % 2)) = 0 ]; then
        order=()
        for ((i = ${#candidates[@]} - 1; i >= 0; i--)); do order+=("${candidates[i]}"); done
    fi
    line="round $r:"
    for c in "${order[@]}"; do
        ms=$(run "${c%%:*}" "${c#*:}")
        line="$line $c $ms ms;"
        results+=("$c=$ms")
    done
    echo "$line" >&2
done

python3 - "$rounds" "$seconds" "${results[@]}" <<'PY'
import statistics, sys
rounds, seconds = int(sys.argv[1]), float(sys.argv[2])
runs = {}
for item in sys.argv[3:]:
    name, ms = item.split("=")
    runs.setdefault(name, []).append(float(ms))
m = {name: statistics.median(v) for name, v in runs.items()}
print("The group statement in PostgreSQL: pgbench -c 1 -M prepared, generic plan, %d rounds "
      "of %g s, interleaved (medians; ms per statement)" % (rounds, seconds))
labels = [("select-1:off", "SELECT 1"), ("bare:off", "the bare check-in insert"),
          ("group-0:off", "group statement, no scan (empty arrays)"),
          ("reads-1:off", "group statement, 1 scan, without its two inserts"),
          ("no-log-1:off", "group statement, 1 scan, without the scan log insert"),
          ("group-1:off", "group statement, 1 scan"), ("group-4:off", "group statement, 4 scans"),
          ("bare:on", "the bare check-in insert, durable"),
          ("group-4:on", "group statement, 4 scans, durable")]
for key, label in labels:
    print("  %-56s %7.3f  (%s)" % (label, m[key], " / ".join("%.3f" % x for x in runs[key])))
per_scan = (m["group-4:off"] - m["group-1:off"]) / 3
print("split (synchronous_commit off): %.3f ms per statement + %.3f ms per scan; at 4 scans a "
      "group %.3f ms a scan, %.1f times the bare insert"
      % (m["group-1:off"] - per_scan, per_scan, m["group-4:off"] / 4,
         m["group-4:off"] / 4 / m["bare:off"]))
print("an empty group %.3f ms; its first scan adds %.3f ms, each further one %.3f ms"
      % (m["group-0:off"], m["group-1:off"] - m["group-0:off"], per_scan))
print("the flush adds %.3f ms to a group of 4 and %.3f ms to the bare insert"
      % (m["group-4:on"] - m["group-4:off"], m["bare:on"] - m["bare:off"]))
PY

#!/usr/bin/env bash
# The attendee search at 100,000 registrations (bench/README.md, "Finding people").
#
#   bench/search.sh [BUILD_DIR] [SECONDS] [ROUNDS]     (defaults: build 10 3)
#
# Sets up bench/checkin_db.sh's database with 100,000 registrations (one in fifty given an
# accented family name, "Müller"), an organiser, and runs the statement /admin's attendee list
# runs (sql/queries/admin_attendees.sql, its parameters as pgbench variables) with pgbench, one
# client, for SECONDS, searching:
#   one      "number 77777": one person
#   accents  "muller": the fifty-odd hundred Müllers, spelt without the accent
#   none     no search: the first page of everyone, in name order
# each with the trigram index of migration 10 (candidate) and without it (baseline: the index
# dropped for the round), rounds alternating which goes first, and prints the median latency of
# each and the ratio. The cluster is deleted at the end.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
seconds=${2:-10}
rounds=${3:-3}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pgbench=$bindir/pgbench
[ -x "$pgbench" ] || { echo "search.sh: pgbench not found next to initdb" >&2; exit 2; }
cmake --build "$build" --target admit-cli >/dev/null
work=$(mktemp -d /tmp/admit-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
    "$top/scripts/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/checkin_db.sh
. "$top/bench/checkin_db.sh"
checkin_db_setup "$build/cli/admit" "$work" 100000
psql -XqAt -d "$dsn" -v ON_ERROR_STOP=1 >/dev/null <<SQL
UPDATE registrations SET family_name = 'Müller' WHERE id % 50 = 0;
INSERT INTO admins (email, password_hash, all_events) VALUES ('bench@example.org', '\$argon2id\$bench', true);
VACUUM ANALYZE registrations;
SQL
admin=$(psql -XqAt -d "$dsn" -c "SELECT id FROM admins WHERE email = 'bench@example.org'")

python3 - "$top/sql/queries/admin_attendees.sql" "$work" "$admin" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = "\n".join(l for l in text.splitlines() if not l.startswith("--"))
params = {1: sys.argv[3], 2: "'bench'", 3: ":q", 4: "''", 5: "NULL", 6: "''", 7: "0", 8: "50"}
text = re.sub(r"\$(\d)", lambda m: params[int(m.group(1))], text)
with open("%s/search.sql" % sys.argv[2], "w") as f:
    f.write(" ".join(text.split()) + ";\n")
PY

declare -A term=([one]="'number 77777'" [accents]="'muller'" [none]="''")
run() { # NAME: the average latency in ms of SECONDS of pgbench searching term[NAME]
    "$pgbench" -n -c 1 -T "$seconds" -D q="${term[$1]}" -f "$work/search.sql" "$dsn" |
        awk '/latency average/ {print $4}'
}
index_sql="CREATE INDEX registrations_search ON registrations USING gin
    (admit_registration_search_text(given_name, family_name, email, organisation) gin_trgm_ops)"
declare -A with without
printf 'round  search    with index ms  without ms  ratio\n'
for r in $(seq 1 "$rounds"); do
    for name in one accents none; do
        for pass in 1 2; do
            if [ $(((r + pass) % 2)) = 0 ]; then
                with[$name]+="$(run "$name") "
            else
                psql -XqAt -d "$dsn" -c "DROP INDEX registrations_search" >/dev/null
                without[$name]+="$(run "$name") "
                psql -XqAt -d "$dsn" -c "$index_sql" >/dev/null
            fi
        done
        w=$(echo "${with[$name]}" | awk '{print $NF}')
        wo=$(echo "${without[$name]}" | awk '{print $NF}')
        printf '%5s  %-8s  %13s  %10s  %5.2f\n' "$r" "$name" "$w" "$wo" "$(awk -v a="$wo" -v b="$w" 'BEGIN {print a / b}')"
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for name in one accents none; do
    w=$(echo "${with[$name]}" | median)
    wo=$(echo "${without[$name]}" | median)
    printf 'median  %-8s  %13s  %10s  %5.2f\n' "$name" "$w" "$wo" "$(awk -v a="$wo" -v b="$w" 'BEGIN {print a / b}')"
done

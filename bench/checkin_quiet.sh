#!/usr/bin/env bash
# A quiet door's scan against a busy door's (bench/README.md, "A quiet door's scan").
#
#   bench/checkin_quiet.sh [BUILD_DIR] [SCANS_PER_ROUND] [ROUNDS]   (defaults: build 300 5)
#
# Sets up bench/checkin_db.sh's database in a private PostgreSQL in /tmp, then runs
# bench/checkin_quiet.c: one scan at a time through the check-in pool, a busy door's (decided by
# the group statement) and a quiet door's (last seen two minutes ago: left to admit_checkin),
# rounds alternating which goes first. The cluster is deleted at the end.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
per_round=${2:-300}
rounds=${3:-5}
cmake --build "$build" --target admit-cli checkin_quiet >/dev/null
work=$(mktemp -d /tmp/admit-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
    "$top/scripts/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/checkin_db.sh
. "$top/bench/checkin_db.sh"
checkin_db_setup "$build/cli/admit" "$work" $((per_round * rounds * 2 + 10))
"$build/bench/checkin_quiet" "$dsn" "$first_id" "$per_round" "$rounds"

#!/bin/sh
# run-fuzzer.sh FUZZER SEED_CORPUS WORK_CORPUS ARTIFACTS SECONDS
#
# Runs one libFuzzer target for SECONDS from a fresh copy of the repository's seed corpus, so the
# corpus in the repository is never modified (libFuzzer adds the inputs it finds to the folder it
# is given). Exits with the fuzzer's status: non-zero when it found a crash, a sanitizer report,
# a leak, a timeout (-timeout, per input) or an out-of-memory (-rss_limit_mb).
#
# The input that failed is written to ARTIFACTS/crash-<sha1> (or leak-, timeout-, oom-).
# To reproduce it, run the target on that one file (it runs the input once and prints the report):
#     build-fuzz/tests/fuzz/fuzz_ticket build-fuzz/tests/fuzz/artifacts/ticket/crash-<sha1>
# shrink it with  -minimize_crash=1 -runs=100000 -exact_artifact_path=small FILE  and, once the
# bug is understood, turn it into a unit test (tests/unit/) and add it to corpus/NAME/.
set -eu

if [ $# -ne 5 ]; then
    echo "usage: $0 FUZZER SEED_CORPUS WORK_CORPUS ARTIFACTS SECONDS" >&2
    exit 2
fi
fuzzer=$1 seed=$2 work=$3 artifacts=$4 seconds=$5

rm -rf "$work"
mkdir -p "$work" "$artifacts"
if [ -d "$seed" ]; then
    cp -R "$seed"/. "$work"/
else
    echo "run-fuzzer.sh: no seed corpus at $seed; starting from an empty corpus" >&2
fi

exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts"/ -print_final_stats=1 "$work"

#!/usr/bin/env bash
# Black-box test of admit keygen / ticket / verify: run the real binary as an operator would and
# check stdout, the one line on stderr, and the exit status (0 ok, 1 invalid ticket, 2 usage).
set -uo pipefail
admit=${ADMIT_BIN:?ADMIT_BIN must point to the admit binary}
work=$(mktemp -d /tmp/admit-cli-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run EXPECTED_STATUS CMD... : runs CMD, keeps stdout in $out and stderr in $err.
run() {
    local want=$1; shift
    out=$("$@" 2>"$work/stderr"); status=$?
    err=$(cat "$work/stderr")
    [ "$status" = "$want" ] || fail "'$*' exited $status, want $want (stderr: $err)"
}
# The CLI's contract for errors: exactly one clear line on stderr.
one_line_err() {
    [ -n "$err" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "want one stderr line, got: '$err'"
    case $err in *"$1"*) ;; *) fail "stderr '$err' lacks '$1'" ;; esac
}

# keygen
run 0 "$admit" keygen --dir "$work/keys"
[[ $out =~ ^[0-9a-f]{8}$ ]] || fail "keygen printed '$out', want an 8-digit hex key id"
key_id=$out
[ "$(stat -c %a "$work/keys/ticket-signing.key")" = 600 ] || fail "secret key mode"
[ -f "$work/keys/ticket-signing.pub" ] || fail "no public key"
run 2 "$admit" keygen --dir "$work/keys"
one_line_err "refusing to overwrite"
run 0 "$admit" keygen --dir "$work/other"

# ticket
run 0 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 12 --attendee 345 --reissue 1 \
    --svg "$work/t.svg" --png "$work/t.png" --module-px 6
payload=$out
[ ${#payload} = 121 ] || fail "payload length ${#payload}"
[[ $payload == AD1:* ]] || fail "payload prefix"
grep -q '<path' "$work/t.svg" || fail "no SVG path"
decoded=$(zbarimg --quiet --raw "$work/t.png" 2>/dev/null)
[ "$decoded" = "$payload" ] || fail "zbarimg decoded '$decoded'"
run 0 "$admit" ticket --key "$work/other/ticket-signing.key" --event 12 --attendee 345
foreign=$out

# verify: one argument
run 0 "$admit" verify --pub "$work/keys/ticket-signing.pub" "$payload"
[ "$out" = "valid event=12 attendee=345 reissue=1 key=$key_id" ] || fail "verify printed '$out'"
run 1 "$admit" verify --pub "$work/keys/ticket-signing.pub" "$foreign"
[ "$out" = "invalid: signed by an unknown key" ] || fail "foreign key: '$out'"
# Several trusted keys (key rotation): both valid.
run 0 "$admit" verify --pub "$work/keys/ticket-signing.pub" --pub "$work/other/ticket-signing.pub" "$foreign"

# verify: stdin, one payload per line as a keyboard-wedge scanner types them
lower=$(printf '%s' "$payload" | tr 'A-Z' 'a-z')
printf '%s\r\n\n  %s  \r\n%s\nAD2:%s\nhello\n%s\n' "$payload" "$lower" "${payload:0:100}" \
    "${payload:4}" "$foreign" | {
    out=$("$admit" verify --pub "$work/keys/ticket-signing.pub" 2>"$work/stderr"); status=$?
    expected="valid event=12 attendee=345 reissue=1 key=$key_id
valid event=12 attendee=345 reissue=1 key=$key_id
invalid: wrong length (truncated or extended ticket)
invalid: unknown ticket format version
invalid: not an admit ticket (no AD<version>: prefix)
invalid: signed by an unknown key"
    [ "$status" = 1 ] || fail "stdin verify exited $status"
    [ "$out" = "$expected" ] || fail "stdin verify printed:
$out"
    [ -s "$work/stderr" ] && fail "stdin verify wrote to stderr: $(cat "$work/stderr")"
    exit "$failures"
} || failures=$((failures + 1))
run 0 "$admit" verify --pub "$work/keys/ticket-signing.pub" <<<"$payload"
# A line far too long for a ticket is one invalid verdict, not a crash or many verdicts.
run 1 "$admit" verify --pub "$work/keys/ticket-signing.pub" < <(head -c 100000 /dev/zero | tr '\0' A)
[ "$out" = "invalid: wrong length (truncated or extended ticket)" ] || fail "long line: '$out'"
# Tampered: flip the last character.
last=${payload: -1}; [ "$last" = 0 ] && repl=1 || repl=0
run 1 "$admit" verify --pub "$work/keys/ticket-signing.pub" "${payload:0:120}$repl"
[[ $out == invalid:* ]] || fail "tampered payload: '$out'"
# Through the environment instead of flags.
ADMIT_PUBLIC_KEY="$work/keys/ticket-signing.pub" run 0 "$admit" verify "$payload"

# configuration and usage errors: exit 2, one line on stderr
run 2 "$admit" verify --pub "$work/missing.pub" "$payload"
one_line_err "cannot read public key"
chmod 644 "$work/keys/ticket-signing.key"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 1 --attendee 1
one_line_err "readable by other users"
run 2 "$admit" verify --pub "$work/keys/ticket-signing.key" "$payload"
one_line_err "readable by other users"
chmod 600 "$work/keys/ticket-signing.key"
echo "not a key" >"$work/garbage.pub"
run 2 "$admit" verify --pub "$work/garbage.pub" "$payload"
one_line_err "is not an admit key file"
run 2 "$admit" verify "$payload"
one_line_err "--pub is required"
run 2 "$admit" verify --pub "$work/keys/ticket-signing.pub" "$payload" "$payload"
one_line_err "give one PAYLOAD"
run 2 "$admit" verify --frobnicate
one_line_err "unknown option --frobnicate"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event abc --attendee 1
one_line_err "expected a whole number"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 0 --attendee 1
one_line_err "expected a whole number from 1"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 4294967296 --attendee 1
one_line_err "expected a whole number"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 1 --attendee 1 --reissue 65536
one_line_err "expected a whole number"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 1 --attendee 1 --event 2
one_line_err "more than once"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 1
one_line_err "--attendee is required"
run 2 "$admit" ticket --key "$work/keys/ticket-signing.key" --event 1 --attendee 1 --png /nonexistent/dir/t.png
one_line_err "cannot write /nonexistent/dir/t.png"
run 2 "$admit" keygen
one_line_err "--dir is required"
run 2 "$admit" frobnicate
one_line_err "unknown command"
run 2 "$admit"
one_line_err "missing command"

# every command answers --help
for c in keygen ticket verify; do
    run 0 "$admit" "$c" --help
    [[ $out == "Usage: admit $c"* ]] || fail "$c --help"
done
run 0 "$admit" --help
[[ $out == *verify* ]] || fail "admit --help lists no commands"

if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "cli: all checks passed"

#!/bin/bash
# tier: fast
# timeout: 60
# The test harness itself (tests/functions.sh): expect_error accepts only
# "exit 1 with one line on stderr containing the text", cleanup_fn runs
# its commands in reverse order even when the script fails, requires and
# skip exit 77 with a reason, and the scratch directory goes away.
. "$(dirname "$0")/functions.sh"

# A program that fails properly, and ones that break the contract.
cat >good-error <<'EOF'
#!/bin/sh
echo "prog: disk.raw: read at offset 4096: Input/output error" >&2
exit 1
EOF
chmod +x good-error

expect_error "Input/output error" ./good-error

# Each of these must make expect_error fail.  expect_error exits, so it
# runs in a subshell (which does not run the cleanup trap).
bad_cases=(
  "exit 0"
  "echo 'prog: x: failed' >&2; exit 2"
  "echo 'prog: x: failed' >&2; echo 'second line' >&2; exit 1"
  "exit 1"
  "echo 'prog: x: something else' >&2; exit 1"
  "echo 'prog: x: failed' >&2; kill -SEGV \$\$"
)
for body in "${bad_cases[@]}"; do
  if (expect_error "failed" sh -c "$body") 2>expect.err; then
    fail "expect_error accepted: $body"
  fi
  grep -q '^FAIL: expect_error' expect.err \
    || fail "expect_error did not say why it failed: $body"
done

# cleanup_fn: a child script registers three commands (with awkward
# arguments), then fails.  They must all run, last registered first, and
# its scratch directory must be removed.
record=$scratch/cleanup-record
cat >child.sh <<EOF
. "$srcdir/functions.sh"
echo "\$scratch" >"$scratch/child-scratch"
cleanup_fn sh -c 'echo first >>"\$1"' sh "$record"
cleanup_fn false
cleanup_fn sh -c 'echo "\$1" >>"\$2"' sh "two words; \\\$HOME" "$record"
false
echo "not reached" >>"$record"
EOF
status=0
bash child.sh 2>child.err || status=$?
[[ $status == 1 ]] || fail "child exited $status, wanted 1"
printf '%s\n' 'two words; $HOME' first >expected-record
cmp expected-record "$record" || fail "cleanup record: $(cat "$record")"
child_scratch=$(cat child-scratch)
[[ $child_scratch == "${TMPDIR:-/tmp}"/p2vkit-child.* ]] \
  || fail "child scratch directory is '$child_scratch'"
[[ ! -e $child_scratch ]] || fail "child scratch $child_scratch not removed"

# KEEP_SCRATCH=1 keeps it.
echo 'echo "$scratch" >"$1"; exit 0' >keep.sh
KEEP_SCRATCH=1 bash -c '. "$0"; . "$1" "$2"' \
  "$srcdir/functions.sh" "$scratch/keep.sh" "$scratch/kept" 2>/dev/null
kept=$(cat kept)
[[ -d $kept ]] || fail "KEEP_SCRATCH=1 did not keep $kept"
rm -rf "$kept"

# A failing cleanup command does not change a passing script's status.
status=0
bash -c '. "$0"; cleanup_fn false; exit 0' "$srcdir/functions.sh" \
  2>/dev/null || status=$?
[[ $status == 0 ]] || fail "failing cleanup_fn changed exit status to $status"

# requires and skip: exit 77, with a reason line.
status=0
bash -c '. "$0"; requires p2vkit-no-such-command; exit 0' \
  "$srcdir/functions.sh" 2>skip.err || status=$?
[[ $status == 77 ]] || fail "requires of a missing command exited $status"
grep -qx 'SKIP: needs p2vkit-no-such-command' skip.err \
  || fail "requires said: $(cat skip.err)"

status=0
bash -c '. "$0"; requires sh -c "exit 3"; exit 0' \
  "$srcdir/functions.sh" 2>/dev/null || status=$?
[[ $status == 77 ]] || fail "requires of a failing command exited $status"

status=0
bash -c '. "$0"; requires sh -c "exit 0"; exit 0' \
  "$srcdir/functions.sh" 2>/dev/null || status=$?
[[ $status == 0 ]] || fail "requires of a working command exited $status"

# fail: exit 1 and "FAIL: message".
status=0
bash -c '. "$0"; fail "it broke"' "$srcdir/functions.sh" 2>fail.err \
  || status=$?
[[ $status == 1 ]] || fail "fail exited $status"
grep -qx 'FAIL: it broke' fail.err || fail "fail said: $(cat fail.err)"

# The environment of every test.
[[ $PWD == "$scratch" ]] || fail "not in the scratch directory"
[[ -f $top/Makefile && $bin == "$top/bin" ]] || fail "top=$top bin=$bin"
[[ $PATH == "$bin":* ]] || fail "PATH does not start with $bin"

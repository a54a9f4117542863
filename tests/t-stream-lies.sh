#!/bin/bash
# tier: fast
# timeout: 120
# p2v-recv trusts nothing from the wire: a stream that lies (an oversized
# frame, data past the end of the disk or out of order, names with / or
# .., a wrong digest, a damaged frame, a short disk) gets one clear error
# and leaves nothing in the output directory.  A correct stream from the
# same tool is accepted, so the tool itself is right.
. "$(dirname "$0")/functions.sh"

forge=$top/tests/unit/test-stream-forge

mkdir good
"$forge" good | $VG p2v-recv --stdio --out good
[[ -f good/m/m-sda.qcow2 ]] || fail "the good stream was not received"

lie ()
{
  local scenario=$1 expected=$2
  rm -rf out
  mkdir out
  "$forge" "$scenario" >stream
  # expect_error gives its command /dev/null for stdin: redirect inside.
  expect_error "$expected" sh -c "$VG p2v-recv --stdio --out out <stream"
  [[ -z $(ls -A out) ]] || fail "$scenario left: $(find out)"
  echo "ok: $scenario"
}

lie oversized-frame "frame length 2147483648 exceeds the limit"
lie bad-checksum "frame checksum mismatch"
lie past-end "runs past the end of the disk"
lie gap "DATA at offset 65536, expected 0"
lie unaligned "is not whole blocks"
lie short "ended at 65536 of 262144 bytes"
lie digest-mismatch "digest mismatch"
lie bad-name-slash "bad name for disk 0"
lie bad-name-dotdot "bad machine name"
lie huge-disk "out of range"

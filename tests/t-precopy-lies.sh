#!/bin/bash
# tier: fast
# timeout: 120
# The frames of rounds (pre-copy, stream protocol version 2) are checked
# like the others: a forged sender of two rounds, the second a delta of
# one block, is received (the pre-copy holds what it sent); and each lie
# (rounds on a one-way stream, a round out of order or with unknown
# flags, a DISK outside a round, a delta that goes backwards, is not on a
# block boundary or runs past the disk, a delta whose digest the
# receiver's block hashes do not give, a round ended before its disk, END
# inside a round, figures of other rounds) gets one clear line from
# p2v-recv and exit status 1.  Wrong pre-copy options get one line too.
. "$(dirname "$0")/functions.sh"
requires qemu-img

forge=$top/tests/unit/test-stream-forge

mkdir good
"$forge" rounds-good $VG p2v-recv --stdio --out good
[[ -f expected.raw ]] || fail "the forge did not finish"
qemu-img compare -q expected.raw good/m/m-sda.qcow2.precopy
[[ -f good/m/m-sda.qcow2.hashes ]] || fail "no block hashes kept"

lie ()
{
  local scenario=$1 expected=$2
  rm -rf out
  mkdir out
  if [[ $scenario == oneway ]]; then
    "$forge" rounds-oneway >stream
    expect_error "$expected" sh -c "$VG p2v-recv --stdio --out out <stream"
  else
    expect_error "$expected" \
      "$forge" "rounds-$scenario" $VG p2v-recv --stdio --out out
  fi
  echo "ok: $scenario"
}

lie oneway "rounds need version 2 and answers"
lie round-number "ROUND 2, expected 1"
lie round-flags "ROUND: unknown flags 0x80"
lie disk-outside-round "DISK outside a round"
lie delta-backwards "DATA at offset 65536, expected a block from 196608 on"
lie delta-unaligned "DATA at offset 1000"
lie delta-past-end "runs past the end of the disk"
lie delta-digest "digest mismatch"
lie round-end-early "ROUND_END before disk 'sda' was sent"
lie end-in-round "END inside a round"
lie figures-count "FIGURES of 5 rounds, 2 were sent"

# The options' errors: one line each, before anything is read or sent.
truncate -s 1M img.raw
expect_error "--freeze needs --precopy or --resync" \
  p2v-send img.raw --freeze --to tcp://127.0.0.1:1
expect_error "--max-downtime and --max-rounds need --precopy" \
  p2v-send img.raw --resync --max-rounds 3 --to tcp://127.0.0.1:1
expect_error "--precopy and --resync: one or the other" \
  p2v-send img.raw --precopy --resync --to tcp://127.0.0.1:1
expect_error "the receiver must answer" p2v-send img.raw --precopy --to out.qcow2
expect_error "the receiver must answer" p2v-send img.raw --resync --to -
expect_error "--max-rounds: '0': expected 1 to 999" \
  p2v-send img.raw --precopy --max-rounds 0 --to tcp://127.0.0.1:1
expect_error "--max-downtime: 'x': expected seconds" \
  v2p-send img.raw --precopy --max-downtime x --to tcp://127.0.0.1:1
[[ ! -e out.qcow2 ]] || fail "an option error wrote out.qcow2"
echo "ok: option errors"

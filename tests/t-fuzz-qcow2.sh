#!/bin/bash
# tier: fast
# timeout: 600
# The qcow2 parser's fuzz target replays its seed corpus and then fuzzes
# for a bounded number of runs, under ASan and UBSan: no crash, no leak,
# no broken contract (see tests/fuzz/fuzz-qcow2.c).  `make fuzz` runs it
# for longer.
. "$(dirname "$0")/functions.sh"
requires clang
[[ -z $VG ]] || skip "the fuzz target has its own sanitizers"

make -s -C "$top" tests/fuzz/fuzz-qcow2 >build.log 2>&1 ||
  { cat build.log; skip "cannot build the fuzz target (no libFuzzer?)"; }
cp -r "$top/tests/fuzz/fuzz-qcow2-corpus" corpus
"$top/tests/fuzz/fuzz-qcow2" -runs=5000 -max_len=65536 -timeout=10 \
  -rss_limit_mb=512 -malloc_limit_mb=64 -seed=1 corpus

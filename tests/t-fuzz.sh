#!/bin/bash
# tier: fast
# timeout: 900
# Every libFuzzer target in tests/fuzz/ (the qcow2 reader, the stream
# protocol's parsers, the inventory parser) replays its seed corpus and
# then fuzzes for a bounded number of runs, under ASan and UBSan: no
# crash, no leak, no broken contract.  `make fuzz` runs them for longer.
. "$(dirname "$0")/functions.sh"
requires clang
[[ -z $VG ]] || skip "the fuzz targets have their own sanitizers"

for src in "$top"/tests/fuzz/fuzz-*.c; do
  t=$(basename "$src" .c)
  make -s -C "$top" "tests/fuzz/$t" >build.log 2>&1 ||
    { cat build.log; skip "cannot build $t (no libFuzzer?)"; }
  rm -rf corpus
  cp -r "$top/tests/fuzz/$t-corpus" corpus
  dict=()
  [[ -f $top/tests/fuzz/$t.dict ]] && dict=(-dict="$top/tests/fuzz/$t.dict")
  "$top/tests/fuzz/$t" -runs=5000 -max_len=65536 -timeout=10 \
    -rss_limit_mb=512 -malloc_limit_mb=64 -seed=1 "${dict[@]}" corpus
  echo "ok: $t"
done

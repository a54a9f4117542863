#!/bin/bash
# bench/imaging.sh: p2vkit's imaging against `qemu-img convert`, in one run,
# on the same inputs.  `make bench` runs it.
#
#   bench/imaging.sh
#
# Inputs, made once by tests/make-disk and cached under
# ${P2V_CACHE:-$HOME/.cache/p2vkit}/bench, keyed by their recipe:
#
#   sparse  8 GiB + 32.5 KiB (a multiple of 512, not of 64 KiB), ~10% random
#           data in extents at unaligned offsets, the rest holes
#   dense   2 GiB of random data
#   ext4    a 4 GiB ext4 filesystem: system files and random files
#
# For each input, two directions:
#
#   raw->qcow2  p2v-send IN --to OUT.qcow2 --force -q
#               qemu-img convert -O qcow2 IN OUT.qcow2
#   qcow2->raw  v2p-write REF.qcow2 BACK.raw --force -q
#               qemu-img convert -O raw REF.qcow2 BACK.raw
#
# REF.qcow2 is the image p2v-send made of the input; both contenders read
# it.  Before the timing, each input is checked once: qemu-img check and
# qemu-img compare of REF.qcow2 against the input, and cmp of the raw disk
# v2p-write makes back from it.  A difference ends the run, exit status 1.
#
# Each contender runs untimed once (warm caches for both; caches are never
# dropped), then BENCH_RUNS times (default 5) alternating with the other,
# twice over: once as is (neither p2vkit nor qemu-img flushes its output by
# default), and once with `sync` after the command inside the timed region.
# Before every run the output is deleted and `sync` runs, untimed, for both
# alike.  Outputs go to one scratch directory under ${BENCH_TMPDIR:-/var/tmp}
# (it should be on the filesystem of the cache), removed at exit.  Both
# contenders run under /usr/bin/time, which gives their peak RSS.
#
# The table gives the median throughput (MB/s: virtual disk size in 10^6
# bytes per second of wall time), the ratio ours/qemu-img (qemu-img's time
# over ours: above 1 we are faster), the same ratio with sync, and peak
# RSS.  Then the targets of the issue, PASS or MISS.  This is a benchmark:
# a MISS does not make it fail; a broken command or a wrong image does.

set -euo pipefail
export LC_ALL=C

prog=bench/imaging.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_runs 5

# The targets of the issue.
TARGET_SPARSE_RATIO=1.5
TARGET_DENSE_RATIO=1.0
TARGET_RSS_MIB=64

# name:recipe (tests/make-disk arguments) of each input.
INPUTS=(
  "sparse:--size 8589967872 --data 0.1 --seed 1"
  "dense:--size 2G --data 1 --seed 2"
  "ext4:--ext4 4G --seed 3"
)

need qemu-img python3 cmp sha256sum /usr/bin/time
need_bin p2v-send v2p-write
bench_scratch

# timed SYNC OUT RSSFILE CMD...: delete OUT, sync, then run CMD (and sync
# if SYNC is 1) and print the wall time in microseconds.
timed ()
{
  local sync=$1 out=$2 rssfile=$3 t0 t1
  shift 3
  rm -f "$out" "$out.part"
  sync
  t0=$(now_us)
  run_cmd "$rssfile" "$@"
  if [[ $sync == 1 ]]; then
    sync
  fi
  t1=$(now_us)
  echo $((t1 - t0))
}

# Results, one line per input and direction, for the table.
results=()
peak_rss_ours=0

# bench_case INPUT SIZE DIRECTION OUT "OURS..." "THEIRS..."
# (OURS and THEIRS are command lines, split on spaces.)
bench_case ()
{
  local input=$1 size=$2 direction=$3 out=$4 ours=$5 theirs=$6
  local -a t_ours=() t_theirs=() ts_ours=() ts_theirs=()
  local rss_ours=0 rss_theirs=0 rss i sync first
  local m_ours m_theirs ms_ours ms_theirs

  echo "$prog: $input $direction: $runs run(s) each, without and with sync" >&2
  # Warm-up, untimed.
  # shellcheck disable=SC2086
  timed 0 "$out" "$scratch/rss" $ours >/dev/null
  # shellcheck disable=SC2086
  timed 0 "$out" "$scratch/rss" $theirs >/dev/null

  for sync in 0 1; do
    for ((i = 0; i < runs; i++)); do
      # Alternate, and alternate who goes first.
      for first in ours theirs; do
        if [[ $(( i % 2 )) == 1 ]]; then
          [[ $first == ours ]] && first=theirs || first=ours
        fi
        if [[ $first == ours ]]; then
          # shellcheck disable=SC2086
          t=$(timed "$sync" "$out" "$scratch/rss" $ours)
          rss=$(<"$scratch/rss")
          ((rss > rss_ours)) && rss_ours=$rss
          if [[ $sync == 1 ]]; then ts_ours+=("$t"); else t_ours+=("$t"); fi
        else
          # shellcheck disable=SC2086
          t=$(timed "$sync" "$out" "$scratch/rss" $theirs)
          rss=$(<"$scratch/rss")
          ((rss > rss_theirs)) && rss_theirs=$rss
          if [[ $sync == 1 ]]; then ts_theirs+=("$t"); else t_theirs+=("$t"); fi
        fi
      done
    done
  done
  rm -f "$out"

  m_ours=$(median "${t_ours[@]}")
  m_theirs=$(median "${t_theirs[@]}")
  ms_ours=$(median "${ts_ours[@]}")
  ms_theirs=$(median "${ts_theirs[@]}")
  ((rss_ours > peak_rss_ours)) && peak_rss_ours=$rss_ours
  {
    echo "  seconds, ours:          $(seconds "${t_ours[@]}")"
    echo "  seconds, qemu-img:      $(seconds "${t_theirs[@]}")"
    echo "  with sync, ours:        $(seconds "${ts_ours[@]}")"
    echo "  with sync, qemu-img:    $(seconds "${ts_theirs[@]}")"
  } >&2
  results+=("$input $size $direction $m_ours $m_theirs $ms_ours $ms_theirs $rss_ours $rss_theirs")
}

# verify INPUT IN REF BACK: REF (our qcow2 of IN) and BACK (our raw made
# back from REF) must hold exactly the disk IN.
verify ()
{
  local input=$1 in=$2 ref=$3 back=$4 out
  echo "$prog: $input: checking p2v-send and v2p-write output against the input" >&2
  timed 0 "$ref" "$scratch/rss" "$bin/p2v-send" "$in" --to "$ref" --force -q >/dev/null
  if ! out=$(qemu-img check -q -f qcow2 "$ref" 2>&1); then
    die "CORRECTNESS FAILURE: $input: qemu-img check of p2v-send's image failed: $out"
  fi
  if ! out=$(qemu-img compare -f raw -F qcow2 "$in" "$ref" 2>&1); then
    die "CORRECTNESS FAILURE: $input: p2v-send's image differs from the input: $out"
  fi
  timed 0 "$back" "$scratch/rss" "$bin/v2p-write" "$ref" "$back" --force -q >/dev/null
  if ! out=$(cmp "$in" "$back" 2>&1); then
    die "CORRECTNESS FAILURE: $input: v2p-write's raw disk differs from the input: $out"
  fi
  rm -f "$back"
}

echo "$prog: p2vkit $("$bin/p2v-send" --version 2>&1 | head -n 1)," \
     "$(qemu-img --version | head -n 1), $runs run(s), scratch $scratch" >&2

for entry in "${INPUTS[@]}"; do
  name=${entry%%:*}
  recipe=${entry#*:}
  in=$(input_path "$name" "$recipe")
  # The command lines of bench_case are split on spaces.
  [[ $in$scratch$bin != *[[:space:]]* ]] ||
    die "paths with spaces are not supported: $in, $scratch, $bin"
  size=$(stat -c %s "$in")
  ref=$scratch/ref.qcow2
  verify "$name" "$in" "$ref" "$scratch/back.raw"

  bench_case "$name" "$size" "raw->qcow2" "$scratch/out.qcow2" \
    "$bin/p2v-send $in --to $scratch/out.qcow2 --force -q" \
    "qemu-img convert -O qcow2 $in $scratch/out.qcow2"
  bench_case "$name" "$size" "qcow2->raw" "$scratch/back.raw" \
    "$bin/v2p-write $ref $scratch/back.raw --force -q" \
    "qemu-img convert -O raw $ref $scratch/back.raw"
  rm -f "$ref"
done

# The table.
echo
printf '%-7s %9s  %-10s  %9s  %13s  %5s  %10s  %8s  %12s\n' \
  input size direction "ours MB/s" "qemu-img MB/s" ratio "ratio+sync" \
  "RSS MiB" "qemu RSS MiB"
ratio_of ()  # ratio_of INPUT DIRECTION: the no-sync ratio, for the targets.
{
  local line
  for line in "${results[@]}"; do
    read -r i _ d mo mt _ <<<"$line"
    if [[ $i == "$1" && $d == "$2" ]]; then
      quotient "$mt" "$mo"
      return
    fi
  done
}
for line in "${results[@]}"; do
  read -r i s d mo mt mso mst ro rt <<<"$line"
  awk -v i="$i" -v s="$s" -v d="$d" -v mo="$mo" -v mt="$mt" -v mso="$mso" \
      -v mst="$mst" -v ro="$ro" -v rt="$rt" 'BEGIN {
    printf "%-7s %5.1f GiB  %-10s  %9.0f  %13.0f  %5.2f  %10.2f  %8.1f  %12.1f\n",
      i, s / 2^30, d, s / mo, s / mt, mt / mo, mst / mso, ro / 1024, rt / 1024
  }'
done
echo
echo "MB/s: virtual disk size / median wall time of $runs run(s); ratio: qemu-img time / ours"
echo "(above 1: p2vkit faster); ratio+sync: the same with sync inside the timed region."

# The targets of the issue.
echo
echo "targets:"
for d in "raw->qcow2" "qcow2->raw"; do
  target "sparse $d ratio" "$(ratio_of sparse "$d")" ">=" "$TARGET_SPARSE_RATIO"
done
for d in "raw->qcow2" "qcow2->raw"; do
  target "dense $d ratio" "$(ratio_of dense "$d")" ">=" "$TARGET_DENSE_RATIO"
done
target "peak RSS of p2vkit (MiB)" \
  "$(awk -v r="$peak_rss_ours" 'BEGIN { printf "%.1f", r / 1024 }')" "<" "$TARGET_RSS_MIB"
exit 0

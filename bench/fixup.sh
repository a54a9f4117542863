#!/bin/bash
# bench/fixup.sh: p2vkit's guest fixup against virt-v2v's, in one run, on
# the same guest, under the same libguestfs backend.  `make bench` runs it.
#
#   bench/fixup.sh [--only p2v-fixup|virt-v2v]
#
# The guest is the initramfs-tools test guest of the boot tests
# (tests/guests/build-debian initramfs-tools: Debian 12 on a 3 GiB raw
# disk, /dev/sdX names in fstab and GRUB, a host-only initramfs without
# virtio), built once and cached.  Each run works on its own fresh copy
# (cp --sparse=always, untimed), so the cached image never changes.  The
# contenders, each changing its copy in place:
#
#   p2v-fixup   p2v-fixup --target virt COPY
#   virt-v2v    virt-v2v-in-place -i disk -if raw COPY
#
# virt-v2v-in-place (shipped with virt-v2v since 2.0) is the closer
# comparison: like p2v-fixup it converts the disk where it is, where
# `virt-v2v -o ...` would also copy it.  Both run with
# LIBGUESTFS_BACKEND=direct and LIBGUESTFS_BACKEND_SETTINGS=force_tcg
# unless those are set already: nested KVM is not usable here, and what
# matters is that both get the same.  Before the timing one appliance
# launch (guestfish) builds libguestfs's cached appliance, so that neither
# contender pays for it.
#
# Then BENCH_RUNS rounds (default 1: a conversion under TCG takes
# minutes), each running both, the other one first every other round.  A
# run fails the benchmark (exit status 1, its stderr shown) if the tool
# fails or leaves the image unchanged; what it warns about is shown (its
# stderr, and the lines of its stdout that say "warning").  Both run under
# /usr/bin/time, whose peak RSS is that of the largest single process of
# the tool (the appliance's qemu included).
#
# The table gives the median wall time and the peak RSS of each, then the
# target of the issue (p2v-fixup's time at most half of virt-v2v's), PASS
# or MISS.  This is a benchmark: a MISS does not make it fail.
#
# --only runs one of the two (no ratio): to measure virt-v2v before
# bin/p2v-fixup exists, or p2v-fixup alone.  Without it, a missing
# bin/p2v-fixup ends the run at once, exit status 1.

set -euo pipefail
export LC_ALL=C

prog=bench/fixup.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_runs 1

# The target of the issue: p2v-fixup's time over virt-v2v's at most this.
TARGET_RATIO=0.5
GUEST_VARIANT=initramfs-tools

usage ()
{
  echo "usage: $prog [--only p2v-fixup|virt-v2v]" >&2
  exit 1
}

CONTENDERS=(p2v-fixup virt-v2v)
case $# in
  0) ;;
  2)
    [[ $1 == --only && ($2 == p2v-fixup || $2 == virt-v2v) ]] || usage
    CONTENDERS=("$2")
    ;;
  *) usage ;;
esac

need cp cmp guestfish /usr/bin/time
for c in "${CONTENDERS[@]}"; do
  case $c in
    p2v-fixup)
      [[ -x $bin/p2v-fixup ]] ||
        die "$bin/p2v-fixup not found: not written yet, or run make (or run $prog --only virt-v2v)"
      ;;
    virt-v2v)
      command -v virt-v2v-in-place >/dev/null ||
        die "virt-v2v-in-place not found (install virt-v2v: scripts/deps check bench)"
      # virt-v2v runs nbdkit for -i disk; Debian's package does not pull it in.
      command -v nbdkit >/dev/null ||
        die "nbdkit not found (virt-v2v needs it for -i disk: scripts/deps check bench)"
      ;;
  esac
done

: "${LIBGUESTFS_BACKEND:=direct}" "${LIBGUESTFS_BACKEND_SETTINGS:=force_tcg}"
export LIBGUESTFS_BACKEND LIBGUESTFS_BACKEND_SETTINGS

bench_scratch

echo "$prog: the $GUEST_VARIANT test guest (tests/guests/build-debian; built once, cached)" >&2
guest=$("$top/tests/guests/build-debian" "$GUEST_VARIANT") ||
  die "tests/guests/build-debian $GUEST_VARIANT failed"
[[ -f $guest ]] || die "tests/guests/build-debian printed '$guest', not an image"
copy=$scratch/guest.img

# command_of CONTENDER: its command line, one word a line.
command_of ()
{
  case $1 in
    p2v-fixup) printf '%s\n' "$bin/p2v-fixup" --target virt "$copy" ;;
    virt-v2v) printf '%s\n' virt-v2v-in-place -i disk -if raw "$copy" ;;
  esac
}

# run_once CONTENDER: a fresh copy of the guest (untimed), then CONTENDER
# on it; print "MICROSECONDS PEAK_RSS_KIB".
run_once ()
{
  local c=$1 t0 t1
  local -a cmd
  mapfile -t cmd < <(command_of "$c")
  rm -f "$copy"
  cp --sparse=always "$guest" "$copy" || die "cannot copy $guest to $copy"
  sync
  t0=$(now_us)
  run_cmd "$scratch/rss" "${cmd[@]}"
  t1=$(now_us)
  # A tool that succeeds without changing anything has not done the job.
  if cmp -s "$guest" "$copy"; then
    die "$c: '${cmd[*]}' succeeded but left the guest unchanged"
  fi
  # What it warns about is part of the comparison (virt-v2v writes its
  # warnings on stdout).
  if grep -qi warning "$scratch/stdout"; then
    note "$c warned:"
    grep -i warning "$scratch/stdout" | sed 's/^/  /' >&2
  fi
  echo "$((t1 - t0)) $(<"$scratch/rss")"
}

versions="libguestfs $(guestfish --version | awk '{ print $2 }')"
for c in "${CONTENDERS[@]}"; do
  case $c in
    p2v-fixup) versions+=", $("$bin/p2v-fixup" --version 2>&1 | head -n 1)" ;;
    virt-v2v) versions+=", $(virt-v2v-in-place --version 2>&1 | head -n 1)" ;;
  esac
done
echo "$prog: $versions; LIBGUESTFS_BACKEND=$LIBGUESTFS_BACKEND" \
     "LIBGUESTFS_BACKEND_SETTINGS=$LIBGUESTFS_BACKEND_SETTINGS;" \
     "$runs run(s); guest $guest; scratch $scratch" >&2

echo "$prog: warm-up: one appliance launch, untimed" >&2
run_cmd "$scratch/rss" guestfish --ro -a /dev/null run

declare -A t=() rss=()
n=${#CONTENDERS[@]}
for ((r = 0; r < runs; r++)); do
  for ((k = 0; k < n; k++)); do
    c=${CONTENDERS[(r + k) % n]}
    echo "$prog: round $((r + 1)) of $runs: $c" >&2
    res=$(run_once "$c") || exit 1
    read -r us kib <<<"$res"
    echo "$prog:   $c: $(seconds "$us") s, peak RSS $((kib / 1024)) MiB" >&2
    t[$c]+="$us "
    if ((kib > ${rss[$c]:-0})); then
      rss[$c]=$kib
    fi
  done
done
rm -f "$copy"

declare -A med=()
for c in "${CONTENDERS[@]}"; do
  # shellcheck disable=SC2086 # a list of numbers.
  med[$c]=$(median ${t[$c]})
done

# The table.
echo
printf '%-10s  %8s  %12s  %s\n' tool seconds "peak RSS MiB" command
for c in p2v-fixup virt-v2v; do
  if [[ -z ${med[$c]:-} ]]; then
    printf '%-10s  %8s\n' "$c" skipped
    continue
  fi
  printf '%-10s  %8.1f  %12.1f  %s\n' "$c" \
    "$(awk -v m="${med[$c]}" 'BEGIN { print m / 1e6 }')" \
    "$(awk -v r="${rss[$c]}" 'BEGIN { print r / 1024 }')" \
    "$(command_of "$c" | sed "s|^$bin/||; s|^$copy\$|IMAGE|" | paste -sd ' ')"
done
echo
echo "guest: $GUEST_VARIANT test guest (tests/guests/build-debian), a fresh copy"
echo "per run, changed in place by both (virt-v2v-in-place copies nothing);"
echo "both with LIBGUESTFS_BACKEND=$LIBGUESTFS_BACKEND" \
     "LIBGUESTFS_BACKEND_SETTINGS=$LIBGUESTFS_BACKEND_SETTINGS;"
echo "seconds: median wall time of $runs run(s); peak RSS: the largest process"
echo "of each tool (the appliance's qemu included)."

echo
echo "target:"
if [[ -n ${med[p2v-fixup]:-} && -n ${med[virt-v2v]:-} ]]; then
  r=$(quotient "${med[p2v-fixup]}" "${med[virt-v2v]}")
else
  r=skipped
fi
target "p2v-fixup / virt-v2v time" "$r" "<=" "$TARGET_RATIO"
exit 0

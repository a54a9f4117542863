#!/bin/bash
# bench/usedblocks.sh: reading only what the filesystems use, against
# reading every block (p2v-send --all-blocks) and against `qemu-img
# convert`, one run each, on a 16 GiB filesystem 10% full whose free
# blocks hold old non-zero data.  Not run by `make check` (needs root for
# loop mounts, and about 50 GiB of free space under ${BENCH_TMPDIR:-/var/tmp}).
#
#   bench/usedblocks.sh [ext4|xfs...]      (default: ext4 xfs)
#
# For each filesystem, in the scratch directory (made there, not cached:
# 16 GiB each):
#
#   in.raw   16 GiB of an old disk: every byte a line of text, never zero;
#            then mkfs (no discard, so the old data stays in free blocks),
#            then 1.6 GiB of random files in 400 files over 20 directories
#
# The contenders, each with its output deleted and the input's pages
# dropped from the page cache (posix_fadvise DONTNEED on that file only,
# so the machine's other work keeps its cache) before it runs:
#
#   used        p2v-send in.raw --to used.qcow2 -q
#   all-blocks  p2v-send in.raw --all-blocks --to all.qcow2 -q
#   qemu-img    qemu-img convert -O qcow2 in.raw qemu.qcow2
#
# The copy p2v-send made is checked before the timing is trusted: written
# back to a sparse raw file with v2p-write, it must pass e2fsck -fn (or
# xfs_repair -n), and every file mounted from it (read-only, through a loop
# device) must have the digest it has in the input.  A failure ends the
# run, exit status 1.  Then the times, and the ratios used/all-blocks and
# used/qemu-img with the issue's target (at most 0.20 each), PASS or MISS;
# a MISS does not make it fail.

set -euo pipefail
export LC_ALL=C

prog=bench/usedblocks.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET_RATIO=0.20
SIZE=16G
FILES=400                       # of 4 MiB: 1.6 GiB, 10% of 16 GiB
OLD=p2vkit-old-data-never-zero

need qemu-img python3 mkfs.ext4 mkfs.xfs e2fsck xfs_repair mount losetup
need_bin p2v-send v2p-write
[[ $(id -u) == 0 ]] || die "needs root (loop mounts)"
fss=("$@")
[[ ${#fss[@]} -gt 0 ]] || fss=(ext4 xfs)
for fs in "${fss[@]}"; do
  [[ $fs == ext4 || $fs == xfs ]] || die "'$fs': expected ext4 or xfs"
done
bench_scratch

# drop_cache FILE: forget FILE's pages, so that it is read from the disk.
drop_cache ()
{
  python3 -c 'import os, sys
fd = os.open (sys.argv[1], os.O_RDONLY)
os.fdatasync (fd)
os.posix_fadvise (fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"
}

# tree_digest DIR: one digest of every file's path and contents.
tree_digest ()
{
  (cd "$1" && find . -path ./lost+found -prune -o -type f -print |
     sort | xargs -d '\n' sha256sum) | sha256sum | cut -d' ' -f1
}

# mounted_digest IMAGE: tree_digest of the filesystem in IMAGE, mounted
# read-only.
mounted_digest ()
{
  local opts=ro d
  [[ $fs == xfs ]] && opts=ro,norecovery,nouuid
  mkdir -p "$scratch/mnt"
  mount -o "loop,$opts" "$1" "$scratch/mnt" || die "cannot mount $1"
  d=$(tree_digest "$scratch/mnt")
  umount "$scratch/mnt"
  echo "$d"
}

# make_input FS: $scratch/in.raw.
make_input ()
{
  local in=$scratch/in.raw i
  echo "$prog: $1: writing $SIZE of old data, mkfs, $FILES files of 4 MiB" >&2
  { yes "$OLD" || true; } | head -c "$SIZE" >"$in"
  if [[ $1 == ext4 ]]; then
    mkfs.ext4 -q -F -E nodiscard "$in"
  else
    mkfs.xfs -q -f -K "$in"
  fi
  mkdir -p "$scratch/mnt"
  mount -o loop "$in" "$scratch/mnt" || die "cannot mount $in"
  cleanup_fn umount -q "$scratch/mnt"
  for ((i = 0; i < FILES; i++)); do
    mkdir -p "$scratch/mnt/d$((i % 20))"
    head -c 4M /dev/urandom >"$scratch/mnt/d$((i % 20))/f$i"
  done
  umount "$scratch/mnt"
}

# timed OUT CMD...: the wall time of CMD in microseconds, OUT deleted and
# the input's cache dropped first.
timed ()
{
  local out=$1 t0 t1
  shift
  rm -f "$out" "$out.part"
  drop_cache "$scratch/in.raw"
  sync
  t0=$(now_us)
  run_cmd "$scratch/rss" "$@"
  t1=$(now_us)
  echo $((t1 - t0))
}

results=()
for fs in "${fss[@]}"; do
  in=$scratch/in.raw
  make_input "$fs"
  want=$(mounted_digest "$in")

  echo "$prog: $fs: p2v-send" >&2
  t_used=$(timed "$scratch/used.qcow2" "$bin/p2v-send" "$in" \
             --to "$scratch/used.qcow2" -q)
  echo "$prog: $fs: checking the copy" >&2
  "$bin/v2p-write" "$scratch/used.qcow2" "$scratch/check.raw" -q ||
    die "v2p-write of the copy failed"
  if [[ $fs == ext4 ]]; then
    e2fsck -fn "$scratch/check.raw" >"$scratch/fsck.out" 2>&1 ||
      { cat "$scratch/fsck.out" >&2; die "CORRECTNESS FAILURE: e2fsck -fn"; }
  else
    xfs_repair -n -f "$scratch/check.raw" >"$scratch/fsck.out" 2>&1 ||
      { cat "$scratch/fsck.out" >&2; die "CORRECTNESS FAILURE: xfs_repair -n"; }
  fi
  [[ $(mounted_digest "$scratch/check.raw") == "$want" ]] ||
    die "CORRECTNESS FAILURE: $fs: the files of the copy differ"
  rm -f "$scratch/check.raw" "$scratch/used.qcow2"

  echo "$prog: $fs: p2v-send --all-blocks" >&2
  t_all=$(timed "$scratch/all.qcow2" "$bin/p2v-send" "$in" --all-blocks \
            --to "$scratch/all.qcow2" -q)
  rm -f "$scratch/all.qcow2"
  echo "$prog: $fs: qemu-img convert" >&2
  t_qemu=$(timed "$scratch/qemu.qcow2" qemu-img convert -O qcow2 "$in" \
             "$scratch/qemu.qcow2")
  rm -f "$scratch/qemu.qcow2" "$in"
  results+=("$fs $t_used $t_all $t_qemu")
done

echo
printf '%-5s  %9s  %12s  %10s  %14s  %12s\n' fs "used s" "all-blocks s" \
  "qemu-img s" "used/all-blocks" "used/qemu-img"
for line in "${results[@]}"; do
  read -r fs tu ta tq <<<"$line"
  awk -v f="$fs" -v u="$tu" -v a="$ta" -v q="$tq" 'BEGIN {
    printf "%-5s  %9.2f  %12.2f  %10.2f  %14.3f  %12.3f\n",
      f, u / 1e6, a / 1e6, q / 1e6, u / a, u / q }'
done
echo
echo "one run each, the input's pages dropped from the cache before each;"
echo "$SIZE filesystem, $FILES files of 4 MiB, old non-zero data in its free blocks"
echo
echo "targets:"
for line in "${results[@]}"; do
  read -r fs tu ta tq <<<"$line"
  target "$fs used/all-blocks" "$(awk -v u="$tu" -v a="$ta" 'BEGIN { printf "%.3f", u / a }')" "<=" "$TARGET_RATIO"
  target "$fs used/qemu-img" "$(awk -v u="$tu" -v q="$tq" 'BEGIN { printf "%.3f", u / q }')" "<=" "$TARGET_RATIO"
done
exit 0

#!/bin/bash
# bench/precopy.sh: what a resync costs against a full copy, once 1% of
# the blocks of a 4 GiB disk have changed.
#
#   bench/precopy.sh
#
# The inputs, made once by tests/make-disk and cached under
# ${P2V_CACHE:-$HOME/.cache/p2vkit}/bench, keyed by their recipe:
#
#   precopy-ext4   a 4 GiB ext4 filesystem (tests/make-disk --ext4 4G
#                  --seed 1): system files and random files, the rest
#                  never written (holes)
#   precopy-dense  4 GiB of random data (tests/make-disk --size 4G
#                  --data 1 --seed 2): every block must be read and sent
#
# Each run, for each input, over loopback to one p2v-recv --listen:
#
#   full      p2v-send SRC --to tcp://...: the full copy, one pass
#   round1    p2v-send --precopy --max-rounds 1: the same as round 1 of a
#             pre-copy, which leaves the copy and its block hashes with the
#             receiver
#   change    1% of the disk's 64 KiB blocks, picked at random (seeded by
#             the run) over the whole disk, holes too, get new random
#             contents (untimed)
#   resync    p2v-send --resync: the final round alone, which reads the
#             disk, compares each block's hash with the receiver's, and
#             sends only the blocks that differ
#
# Every p2v-send reads all blocks (--all-blocks): the changes land in the
# filesystem's free blocks too, which p2v-send would otherwise send as
# zeros.  Before each timed command, untimed, the source is read once (so
# that it is in the page cache for all of them alike) and `sync` runs; the
# full copy's image is removed once timed.  After the resync,
# the receiver's image must pass qemu-img check and be identical to the
# changed source (qemu-img compare), or the benchmark fails.
#
# The table gives the medians (BENCH_RUNS, default 3) of each time, the
# bytes of the resync's round on the wire both ways (the hashes the
# receiver sends back included) and the ratios the issue sets targets on:
# resync bytes over the disk's size (at most 0.03) and resync time over the
# full copy's (at most 0.15), PASS or MISS.  A MISS does not make the
# benchmark fail; a broken command or a wrong copy does.

set -euo pipefail
export LC_ALL=C

prog=bench/precopy.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_runs 3

TARGET_BYTES=0.03
TARGET_TIME=0.15
CHANGED_FRACTION=0.01
BLOCK=65536
TOKEN=bench

INPUTS=(precopy-ext4 precopy-dense)
declare -A RECIPE=(
  [precopy-ext4]="--ext4 4G --seed 1"
  [precopy-dense]="--size 4G --data 1 --seed 2"
)

need qemu-img python3
need_bin p2v-send p2v-recv
bench_scratch

recv_dir=$scratch/recv
mkdir "$recv_dir"
"$bin/p2v-recv" --listen 127.0.0.1:0 --out "$recv_dir" --token "$TOKEN" \
  --machine-readable -q >"$scratch/recv.out" 2>"$scratch/recv.err" &
recv_pid=$!
cleanup_fn kill "$recv_pid"
port=
for _ in $(seq 200); do
  port=$(awk '$1 == "listening" { sub (/.*:/, "", $2); print $2 }' \
           "$scratch/recv.out")
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || die "p2v-recv did not start: $(cat "$scratch/recv.err")"
to=tcp://127.0.0.1:$port

# timed OUTVAR CMD...: run CMD (stdout kept in $scratch/stdout), its wall
# time in microseconds into OUTVAR.
timed ()
{
  local -n out=$1
  local t0 t1
  shift
  # The source in the page cache (read it once), the outputs on disk.
  cat "$src" >/dev/null
  sync
  t0=$(now_us)
  if ! P2V_TOKEN=$TOKEN "$@" >"$scratch/stdout" 2>"$scratch/stderr"; then
    echo "$prog: '$*' failed:" >&2
    sed 's/^/  /' "$scratch/stderr" >&2
    exit 1
  fi
  t1=$(now_us)
  out=$((t1 - t0))
}

# change FILE SEED: new random contents for 1% of FILE's blocks.
change ()
{
  python3 - "$1" "$2" "$CHANGED_FRACTION" "$BLOCK" <<'EOF'
import os, random, sys
path, seed, fraction, block = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
size = os.path.getsize(path)
blocks = size // block
r = random.Random(seed)
fd = os.open(path, os.O_WRONLY)
for b in r.sample(range(blocks), round(blocks * fraction)):
    os.pwrite(fd, r.randbytes(block), b * block)
os.close(fd)
EOF
}

printf '%-14s %9s %9s %9s %12s %8s %8s\n' input full-s round1-s resync-s \
  resync-bytes bytes time
results=()
for input in "${INPUTS[@]}"; do
  img=$(input_path "$input" "${RECIPE[$input]}")
  size=$(stat -c %s "$img")
  src=$scratch/$input.raw
  full=() round1=() resync=() wire=()
  for ((run = 1; run <= runs; run++)); do
    cp --sparse=always "$img" "$src"
    rm -rf "${recv_dir:?}/full" "${recv_dir:?}/pre"
    timed t_full "$bin/p2v-send" "$src" --name full --no-inventory --all-blocks -q \
      --to "$to"
    rm -rf "${recv_dir:?}/full"
    timed t_round1 "$bin/p2v-send" "$src" --precopy --max-rounds 1 \
      --name pre --no-inventory --all-blocks -q --to "$to"
    change "$src" "$run"
    timed t_resync "$bin/p2v-send" "$src" --resync --name pre \
      --no-inventory --all-blocks -q --machine-readable --to "$to"
    w=$(awk '$1 == "round" { for (i = 2; i <= NF; i++)
               if ($i ~ /^wire=/) print substr ($i, 6) }' "$scratch/stdout")
    [[ -n $w ]] || die "no round line from the resync"
    out=$recv_dir/pre/pre-$input.qcow2
    qemu-img check -q "$out" || die "$out: qemu-img check failed"
    qemu-img compare -q "$src" "$out" ||
      die "$out: not identical to the changed source"
    full+=("$t_full") round1+=("$t_round1") resync+=("$t_resync")
    wire+=("$w")
    echo "$prog: $input run $run: full $(seconds "$t_full") s, round 1" \
         "$(seconds "$t_round1") s, resync $(seconds "$t_resync") s," \
         "$w bytes" >&2
  done
  m_full=$(median "${full[@]}")
  m_round1=$(median "${round1[@]}")
  m_resync=$(median "${resync[@]}")
  m_wire=$(median "${wire[@]}")
  r_bytes=$(awk -v a="$m_wire" -v b="$size" 'BEGIN { printf "%.4f", a / b }')
  r_time=$(awk -v a="$m_resync" -v b="$m_full" 'BEGIN { printf "%.3f", a / b }')
  printf '%-14s %9s %9s %9s %12.0f %8s %8s\n' "$input" \
    "$(seconds "$m_full")" "$(seconds "$m_round1")" "$(seconds "$m_resync")" \
    "$m_wire" "$r_bytes" "$r_time"
  results+=("$input $r_bytes $r_time")
  rm -f "$src"
done

echo
echo "Targets (medians of $runs runs; 1% of the blocks changed):"
for r in "${results[@]}"; do
  read -r input r_bytes r_time <<<"$r"
  target "$input: resync bytes / disk size" "$r_bytes" "<=" "$TARGET_BYTES"
  target "$input: resync time / full copy time" "$r_time" "<=" "$TARGET_TIME"
done

#!/bin/bash
# bench/stream.sh: p2vkit's stream against `dd | ssh | dd`, against its own
# uncompressed stream and against a plain line-rate copy, in one run, over
# loopback, every contender capped at the same gigabit line rate.
#
#   bench/stream.sh
#
# The input, made once by tests/make-disk and cached under
# ${P2V_CACHE:-$HOME/.cache/p2vkit}/bench, keyed by its recipe:
#
#   stream-ext4   a 2 GiB ext4 filesystem (tests/make-disk --ext4 2G --seed 1):
#                 system files and random files, the rest never written
#
# The contenders, each moving that image through the same cap, one pv
# process (pv -L 100m: 100 MiB/s, about a gigabit) that also counts the bytes
# passing it (pv -n -b), so counting costs every contender the same:
#
#   ours       p2v-send IMG --to - --name bench -q | CAP | p2v-recv --stdio --out DIR
#              (zstd, the default)
#   ours-none  the same with p2v-send --compress none
#   dd-ssh     dd if=IMG bs=1M | CAP | ssh root@127.0.0.1 'dd of=OUT bs=1M'
#              through a throwaway sshd on loopback with its own keys
#              (needs root and /usr/sbin/sshd; skipped with a note otherwise)
#   dd         dd if=IMG bs=1M | CAP | dd of=OUT bs=1M: the uncompressed
#              line-rate copy, the reference of the ratios
#
# Each contender runs once untimed (which warms the caches), and its output
# is checked: qemu-img check and qemu-img compare of our qcow2 against the
# input, cmp of the dd copies.  A difference ends the run, exit status 1.
# Then BENCH_RUNS rounds (default 3); each round runs every contender once,
# starting with a different one each round.  Before every run the output is
# deleted and `sync` runs, untimed; nothing flushes its output inside the
# timed region (p2v-recv does not by default, nor does dd).  Outputs go to
# one scratch directory under ${BENCH_TMPDIR:-/var/tmp}, removed at exit.
#
# The table gives, per contender, the median wall time, the bytes that
# passed the cap ("on the wire"; for dd-ssh before ssh's own framing and
# encryption), the disk throughput (MB/s: image size in 10^6 bytes per
# second) and the ratio: dd's time over the contender's (above 1: faster
# than the line-rate copy).  Then the target of the issue, PASS or MISS,
# and ours against dd-ssh and against ours-none.  This is a benchmark: a
# MISS does not make it fail; a broken command or a wrong copy does.

set -euo pipefail
export LC_ALL=C

prog=bench/stream.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_runs 3

# The cap, as pv -L understands it (100m: 100 MiB/s), the same for all.
RATE=100m
# The target of the issue: ours at least this many times faster than the
# uncompressed line-rate copy (dd).
TARGET_RATIO=2.0

INPUT_NAME=stream-ext4
INPUT_RECIPE="--ext4 2G --seed 1"

need pv qemu-img python3 cmp dd sha256sum
need_bin p2v-send p2v-recv

CONTENDERS=(ours ours-none dd-ssh dd)
ssh_ok=1
if [[ $(id -u) != 0 ]]; then
  note "not root: cannot start sshd; dd-ssh is skipped"
  ssh_ok=0
elif [[ ! -x /usr/sbin/sshd ]] || ! command -v ssh >/dev/null ||
     ! command -v ssh-keygen >/dev/null; then
  note "sshd, ssh or ssh-keygen not found (openssh-server, openssh-client); dd-ssh is skipped"
  ssh_ok=0
fi
if [[ $ssh_ok == 0 ]]; then
  CONTENDERS=(ours ours-none dd)
fi

bench_scratch
# shellcheck disable=SC2317 # called at exit.
stop_sshd ()
{
  if [[ -s $scratch/sshd/sshd.pid ]]; then
    kill "$(<"$scratch/sshd/sshd.pid")" 2>/dev/null || true
  fi
}
cleanup_fn stop_sshd

img=$(input_path "$INPUT_NAME" "$INPUT_RECIPE")
size=$(stat -c %s "$img")
recv_dir=$scratch/recv        # p2v-recv --out; the image lands in recv/bench/
copy=$scratch/copy.raw        # the output of dd and dd-ssh
err=$scratch/err              # stderr of each stage: err.1, err.2, err.3, err.4
count=$scratch/count          # pv's byte count
mkdir "$recv_dir" "$err"

# A throwaway sshd on 127.0.0.1 with its own host and user keys, as in
# tests/t-stream-ssh.sh; ssh_cmd is the client command that reaches it.
ssh_cmd=()
start_sshd ()
{
  local d=$scratch/sshd port
  mkdir "$d"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || die "ssh-keygen failed"
  ssh-keygen -q -t ed25519 -N '' -f "$d/user_key" || die "ssh-keygen failed"
  cp "$d/user_key.pub" "$d/authorized_keys"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$d/sshd_config" <<EOT
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $d/sshd.pid
EOT
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" || die "sshd did not start: $(tail -n 3 "$d/sshd.log" 2>/dev/null)"
  for _ in $(seq 100); do [[ -s $d/sshd.pid ]] && break; sleep 0.05; done
  # The client as a user would run it: default ciphers, no compression;
  # -F /dev/null keeps ~/.ssh/config out of the measurement.
  ssh_cmd=(ssh -F /dev/null -i "$d/user_key" -p "$port" -o BatchMode=yes
           -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
           -o LogLevel=ERROR root@127.0.0.1)
  local out
  out=$("${ssh_cmd[@]}" true 2>&1) ||
    die "cannot log in to the bench's sshd on 127.0.0.1:$port: $out $(tail -n 3 "$d/sshd.log" 2>/dev/null)"
}

# cap: the line-rate cap and byte counter, the same process for every
# contender; the count (bytes that passed) goes to $count.
cap ()
{
  pv -f -n -b -i 3600 -L "$RATE" 2>"$count"
}

# pipeline CONTENDER: move the image once; stderr of the stages into
# $err/err.N, stdout of the last stage into $err/out.  Sets status[].
status=()
pipeline ()
{
  local remote
  set +e +o pipefail
  case $1 in
    ours)
      "$bin/p2v-send" "$img" --to - --name bench -q 2>"$err/err.1" |
        cap |
        "$bin/p2v-recv" --stdio --out "$recv_dir" -q >"$err/out" 2>"$err/err.3"
      status=("${PIPESTATUS[@]}")
      ;;
    ours-none)
      "$bin/p2v-send" "$img" --to - --name bench -q --compress none 2>"$err/err.1" |
        cap |
        "$bin/p2v-recv" --stdio --out "$recv_dir" -q >"$err/out" 2>"$err/err.3"
      status=("${PIPESTATUS[@]}")
      ;;
    dd-ssh)
      printf -v remote 'dd of=%q bs=1M status=none' "$copy"
      dd if="$img" bs=1M status=none 2>"$err/err.1" |
        cap |
        "${ssh_cmd[@]}" "$remote" >"$err/out" 2>"$err/err.3"
      status=("${PIPESTATUS[@]}")
      ;;
    dd)
      dd if="$img" bs=1M status=none 2>"$err/err.1" |
        cap |
        dd of="$copy" bs=1M status=none >"$err/out" 2>"$err/err.3"
      status=("${PIPESTATUS[@]}")
      ;;
    *) die "unknown contender $1" ;;
  esac
  set -e -o pipefail
}

# run_once CONTENDER: delete the outputs, sync, then run CONTENDER's
# pipeline; print "MICROSECONDS WIREBYTES".  Stops on a failed stage.
run_once ()
{
  local c=$1 t0 t1 i wire failed=0
  rm -rf "${recv_dir:?}/bench" "$copy"
  rm -f "$err"/*
  sync
  t0=$(now_us)
  pipeline "$c"
  t1=$(now_us)
  for i in "${!status[@]}"; do
    [[ ${status[i]} == 0 ]] || failed=1
  done
  wire=$(tail -n 1 "$count" 2>/dev/null || true)
  if [[ $failed == 1 ]]; then
    echo "$prog: $c failed: exit status of the stages: ${status[*]}" >&2
    for i in 1 3; do
      [[ -s $err/err.$i ]] && sed "s/^/  stage $i: /" "$err/err.$i" >&2
    done
    [[ -s $count ]] && sed 's/^/  pv: /' "$count" >&2
    exit 1
  fi
  [[ $wire =~ ^[0-9]+$ ]] || die "$c: no byte count from pv: $(head -n 3 "$count")"
  for i in 1 3; do
    if [[ -s $err/err.$i ]]; then
      note "$c: stage $i succeeded but wrote on stderr:"
      sed 's/^/  /' "$err/err.$i" | head -n 5 >&2
    fi
  done
  if [[ -s $err/out ]]; then
    note "$c: the last stage wrote on stdout:"
    head -c 300 "$err/out" | sed 's/^/  /' >&2
  fi
  echo "$((t1 - t0)) $wire"
}

# check_output CONTENDER: the output of its last run is exactly the input.
check_output ()
{
  local c=$1 out
  local -a imgs
  case $c in
    ours | ours-none)
      imgs=("$recv_dir"/bench/*.qcow2)
      [[ ${#imgs[@]} == 1 && -f ${imgs[0]} ]] ||
        die "CORRECTNESS FAILURE: $c: expected one qcow2 in $recv_dir/bench, found: $(ls -A "$recv_dir/bench" 2>&1)"
      if ! out=$(qemu-img check -q -f qcow2 "${imgs[0]}" 2>&1); then
        die "CORRECTNESS FAILURE: $c: qemu-img check of p2v-recv's image failed: $out"
      fi
      if ! out=$(qemu-img compare -f raw -F qcow2 "$img" "${imgs[0]}" 2>&1); then
        die "CORRECTNESS FAILURE: $c: p2v-recv's image differs from the input: $out"
      fi
      ;;
    dd-ssh | dd)
      if ! out=$(cmp "$img" "$copy" 2>&1); then
        die "CORRECTNESS FAILURE: $c: the copy differs from the input: $out"
      fi
      ;;
  esac
}

echo "$prog: p2vkit $("$bin/p2v-send" --version 2>&1 | head -n 1)," \
     "$(pv --version | head -n 1 | cut -d' ' -f1-2), cap pv -L $RATE," \
     "$runs run(s), input $img ($size bytes), scratch $scratch" >&2
if [[ $ssh_ok == 1 ]]; then
  start_sshd
  echo "$prog: dd-ssh: $(ssh -V 2>&1), sshd on 127.0.0.1" >&2
fi

# Warm-up and correctness, untimed.
declare -A t=() w=()
for c in "${CONTENDERS[@]}"; do
  echo "$prog: $c: warm-up run and check of the output" >&2
  res=$(run_once "$c") || exit 1
  read -r _ wire <<<"$res"
  check_output "$c"
  case $c in
    dd-ssh | dd)
      [[ $wire == "$size" ]] || die "$c: $wire bytes passed the cap, expected $size"
      ;;
  esac
done
rm -rf "${recv_dir:?}/bench" "$copy"

# The timed rounds.
n=${#CONTENDERS[@]}
for ((r = 0; r < runs; r++)); do
  echo "$prog: round $((r + 1)) of $runs" >&2
  for ((k = 0; k < n; k++)); do
    c=${CONTENDERS[(r + k) % n]}
    res=$(run_once "$c") || exit 1
    read -r us wire <<<"$res"
    t[$c]+="$us "
    w[$c]+="$wire "
  done
done
rm -rf "${recv_dir:?}/bench" "$copy"

declare -A med_t=() med_w=()
for c in "${CONTENDERS[@]}"; do
  # shellcheck disable=SC2086 # lists of numbers.
  {
    med_t[$c]=$(median ${t[$c]})
    med_w[$c]=$(median ${w[$c]})
    echo "  seconds, $c: $(seconds ${t[$c]})" >&2
    if [[ $(printf '%s\n' ${w[$c]} | sort -u | wc -l) != 1 ]]; then
      note "$c: bytes on the wire differ between runs: ${w[$c]}"
    fi
  }
done

# The table.
echo
printf '%-10s  %8s  %14s  %6s  %9s  %8s\n' \
  contender seconds "bytes on wire" "wire %" "disk MB/s" "ratio"
for c in ours ours-none dd-ssh dd; do
  if [[ -z ${med_t[$c]:-} ]]; then
    printf '%-10s  %8s\n' "$c" "skipped"
    continue
  fi
  awk -v c="$c" -v s="$size" -v m="${med_t[$c]}" -v w="${med_w[$c]}" \
      -v ref="${med_t[dd]}" 'BEGIN {
    printf "%-10s  %8.2f  %14.0f  %5.1f%%  %9.0f  %8.2f\n",
      c, m / 1e6, w, 100 * w / s, s / (m / 1e6) / 1e6, ref / m
  }'
done
echo
echo "input: $size-byte ext4 image (tests/make-disk $INPUT_RECIPE); every contender"
echo "through one pv -L $RATE (100 MiB/s) that counts the bytes passing it;"
echo "seconds: median wall time of $runs run(s); disk MB/s: image size / seconds;"
echo "ratio: dd's time / the contender's (above 1: faster than the line-rate copy)."

# The target of the issue, and the other comparisons.
ratio ()  # ratio A B: B's median time / A's (how many times A is faster).
{
  if [[ -z ${med_t[$1]:-} || -z ${med_t[$2]:-} ]]; then
    echo skipped
  else
    quotient "${med_t[$2]}" "${med_t[$1]}"
  fi
}
echo
echo "target:"
target "ours vs line-rate dd ratio" "$(ratio ours dd)" ">=" "$TARGET_RATIO"
echo "also:"
printf '  %-40s %8s\n' "ours vs dd | ssh | dd ratio" "$(ratio ours dd-ssh)"
printf '  %-40s %8s\n' "ours vs ours --compress none ratio" "$(ratio ours ours-none)"
exit 0

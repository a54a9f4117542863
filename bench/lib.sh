# shellcheck shell=bash
# bench/lib.sh: sourced by the benchmarks in bench/.
#
# A benchmark starts like this:
#
#   #!/bin/bash
#   set -euo pipefail
#   export LC_ALL=C
#   prog=bench/NAME.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_runs 5                     (BENCH_RUNS, or 5, into $runs)
#   need qemu-img python3            (commands, else stop)
#   need_bin p2v-send v2p-write      (our programs, else stop)
#   bench_scratch                    (the scratch directory, $scratch)
#
# and sets:
#
#   $top      the top of the source tree
#   $bin      $top/bin
#   $cache    where inputs are kept between runs:
#             ${P2V_CACHE:-$HOME/.cache/p2vkit}/bench
#   $tmpbase  where the scratch directory goes: ${BENCH_TMPDIR:-/var/tmp}
#             (best on the filesystem of the cache)
#
# Every function that finds a problem stops the benchmark with one line
# "$prog: what failed" on stderr and exit status 1.

: "${prog:?set prog before sourcing bench/lib.sh}"

# shellcheck disable=SC2034 # top, bin, cache are for the benchmarks.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$top/bin
make_disk=$top/tests/make-disk
cache=${P2V_CACHE:-$HOME/.cache/p2vkit}/bench
tmpbase=${BENCH_TMPDIR:-/var/tmp}

die ()
{
  echo "$prog: $*" >&2
  exit 1
}

note ()
{
  echo "$prog: note: $*" >&2
}

# bench_runs DEFAULT: $runs, the number of timed runs: BENCH_RUNS, or
# DEFAULT.
bench_runs ()
{
  runs=${BENCH_RUNS:-$1}
  [[ $runs =~ ^[1-9][0-9]*$ ]] ||
    die "BENCH_RUNS: '$runs' is not a positive number"
}

# need CMD...: stop unless every CMD is installed.
need ()
{
  local cmd
  for cmd in "$@"; do
    if ! command -v "$cmd" >/dev/null; then
      [[ $cmd != /usr/bin/time ]] ||
        die "/usr/bin/time not found (install the time package: scripts/deps check)"
      die "$cmd not found (run scripts/deps check)"
    fi
  done
}

# need_bin PROGRAM...: stop unless every PROGRAM is built in $bin.
need_bin ()
{
  local p
  for p in "$@"; do
    [[ -x $bin/$p ]] || die "$bin/$p not found (run make)"
  done
}

# Commands registered by cleanup_fn, each one shell-quoted, run in reverse.
_bench_cleanup_cmds=()

# cleanup_fn CMD [ARGS...]: run CMD at exit, before the scratch directory
# is removed.  A failing one does not stop the others.
cleanup_fn ()
{
  local quoted
  printf -v quoted '%q ' "$@"
  _bench_cleanup_cmds+=("$quoted")
}

# shellcheck disable=SC2317 # called by the EXIT trap.
_bench_on_exit ()
{
  local status=$? i
  set +e
  for ((i = ${#_bench_cleanup_cmds[@]} - 1; i >= 0; i--)); do
    eval "${_bench_cleanup_cmds[i]}"
  done
  if [[ -n ${scratch:-} && -d $scratch ]]; then
    rm -rf --one-file-system "$scratch"
  fi
  exit "$status"
}

# bench_scratch: make $scratch under $tmpbase, removed at exit (also on
# INT and TERM).
bench_scratch ()
{
  scratch=$(mktemp -d "$tmpbase/p2vkit-bench.XXXXXX" 2>/dev/null) ||
    die "cannot make a scratch directory in $tmpbase"
  trap _bench_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# input_path NAME RECIPE: the cached input for RECIPE, made if missing.
# The key covers the recipe and tests/make-disk itself; inputs of NAME with
# another key are stale and removed.
input_path ()
{
  local name=$1 recipe=$2 key path
  key=$( { echo "$recipe"; sha256sum <"$make_disk"; } | sha256sum)
  key=${key:0:16}
  path=$cache/$name-$key.raw
  if [[ ! -f $path ]]; then
    mkdir -p "$cache" || die "cannot make $cache"
    find "$cache" -maxdepth 1 -name "$name-*.raw" ! -name "${path##*/}" -delete
    echo "$prog: making the $name input (once; cached as $path)" >&2
    # shellcheck disable=SC2086 # the recipe is a list of arguments.
    "$make_disk" $recipe "$path" || die "tests/make-disk $recipe failed"
  fi
  echo "$path"
}

# now_us: the wall clock in microseconds.
now_us ()
{
  echo "${EPOCHREALTIME/./}"
}

# run_cmd RSSFILE CMD...: run CMD under /usr/bin/time, its peak RSS (KiB)
# into RSSFILE; on failure show its stderr and stop.  Its stdout and
# stderr are kept in $scratch/stdout and $scratch/stderr until the next
# run_cmd.
run_cmd ()
{
  local rssfile=$1 errlog=$scratch/stderr
  shift
  if ! /usr/bin/time -f %M -o "$rssfile" "$@" >"$scratch/stdout" 2>"$errlog"; then
    echo "$prog: '$*' failed:" >&2
    sed 's/^/  /' "$errlog" >&2
    exit 1
  fi
  if [[ -s $errlog ]]; then
    note "'$*' succeeded but wrote on stderr:"
    sed 's/^/  /' "$errlog" | head -n 5 >&2
  fi
}

# median N...: the median of numbers.
median ()
{
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# seconds N...: microseconds N... as seconds, in the order of the runs.
seconds ()
{
  printf '%s\n' "$@" | awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 / 1e6 } END { print "" }'
}

# quotient A B: A / B to two decimals.
quotient ()
{
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# target DESCRIPTION VALUE OP LIMIT: one line of the targets of an issue,
# with PASS when VALUE OP LIMIT holds (OP is >=, <= or <), else MISS, or
# "skipped" when VALUE is.  A MISS does not stop the benchmark.
target ()
{
  local verdict
  if [[ $2 == skipped ]]; then
    verdict=
  elif awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
         exit !(op == ">=" ? v >= l : op == "<=" ? v <= l : v < l) }'; then
    verdict=PASS
  else
    verdict=MISS
  fi
  printf '  %-40s %8s  %s\n' "$1 $3 $4" "$2" "$verdict"
}

# tests/functions.sh: sourced by every tests/t-*.sh.
#
# A test script starts like this:
#
#   #!/bin/bash
#   # tier: fast                 (or "boot": a guest boots; slow)
#   # timeout: 300               (optional; tests/run-tests kills it after
#   #                             this many seconds, 900 by default)
#   # What the script checks, in a sentence or two.
#   . "$(dirname "$0")/functions.sh"
#   requires qemu-img
#
# Sourcing this file sets `set -e -o pipefail`, creates a scratch directory
# for the script and cd's into it (removed on exit; KEEP_SCRATCH=1 keeps
# it), and sets:
#
#   $top      the top of the source tree
#   $srcdir   $top/tests
#   $bin      $top/bin, also put first in PATH
#   $scratch  the scratch directory (the current directory)
#   $VG       empty, or the valgrind command line of `make check-valgrind`:
#             run every program under test as `$VG p2v-send ...`
#
# Exit status: 0 pass, 77 skip, anything else fail (see tests/run-tests).

# shellcheck disable=SC2034 # top, srcdir, bin are for the test scripts.
set -e -o pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
srcdir=$top/tests
bin=$top/bin
PATH=$bin:$PATH
VG=${VG:-}
export PATH VG

# Commands registered by cleanup_fn, each one shell-quoted, run in reverse.
_cleanup_cmds=()

# cleanup_fn CMD [ARGS...]: run CMD when the script exits, however it exits.
# Commands run in the reverse order of registration; a failing one does
# not stop the others.
cleanup_fn ()
{
  local quoted
  printf -v quoted '%q ' "$@"
  _cleanup_cmds+=("$quoted")
}

_on_exit ()
{
  local status=$? i

  # Cleanup commands may fail (a process already gone): not a test failure.
  trap - ERR
  set +e
  for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do
    eval "${_cleanup_cmds[i]}"
  done
  cd / || true
  if [[ -n ${scratch:-} && -d $scratch ]]; then
    if [[ ${KEEP_SCRATCH:-} == 1 ]]; then
      echo "scratch directory kept: $scratch" >&2
    elif grep -qF -e " $scratch/" -e " $scratch " /proc/self/mountinfo
    then
      # Something (a loop mount, mmdebstrap's bind mounts) is still
      # mounted inside: removing the tree would reach into it.
      echo "FAIL: $scratch: still has mounts inside, not removed" >&2
      status=1
    else
      rm -rf --one-file-system "$scratch"
    fi
  fi
  exit "$status"
}
trap _on_exit EXIT
# Under set -e a failing command ends the script silently: say which.
_on_error ()
{
  echo "FAIL: ${BASH_SOURCE[1]##*/}:$1: exit status $2: $3" >&2
}
set -E
trap '_on_error "$LINENO" "$?" "$BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# skip REASON: stop here, the script is skipped (exit 77).
skip ()
{
  echo "SKIP: $*" >&2
  exit 77
}

# requires CMD: skip unless the command CMD exists.
# requires CMD ARGS...: skip unless `CMD ARGS...` runs and exits 0, as in
# `requires qemu-img --help` or `requires test -w /dev/kvm`.
# Call it once per requirement.
requires ()
{
  if ! command -v "$1" >/dev/null 2>&1; then
    skip "needs $1"
  fi
  if [[ $# -gt 1 ]] && ! "$@" </dev/null >/dev/null 2>&1; then
    skip "needs '$*' to succeed"
  fi
}

# fail MSG: the test failed.
fail ()
{
  echo "FAIL: $*" >&2
  exit 1
}

# expect_error SUBSTRING CMD [ARGS...]: run CMD and check that it fails the
# way every p2vkit program must: exit status 1 and exactly one line on
# stderr, which contains SUBSTRING.  Its stdout is discarded.
expect_error ()
{
  local expected=$1 status=0 err lines
  shift
  err=$(mktemp "$scratch/expect_error.XXXXXX")

  "$@" </dev/null >/dev/null 2>"$err" || status=$?
  lines=$(awk 'END { print NR }' "$err")
  if [[ $status != 1 || $lines != 1 ]] || ! grep -qF -- "$expected" "$err"
  then
    {
      echo "FAIL: expect_error: $*"
      echo "  wanted: exit status 1, one line on stderr containing" \
           "'$expected'"
      echo "  got:    exit status $status, $lines line(s) on stderr:"
      sed 's/^/    /' "$err"
    } >&2
    exit 1
  fi
  rm -f "$err"
}

# is_fast_tier: true when only the fast tier is running (run-tests --fast,
# as in check-fast, check-valgrind and check-asan), so a test may choose
# smaller inputs.
is_fast_tier ()
{
  [[ ${P2V_FAST_TIER:-} == 1 ]]
}

_test_name=$(basename "$0" .sh)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/p2vkit-$_test_name.XXXXXX")
cd "$scratch"

# done_field NAME: from the --machine-readable output of p2v-send or
# v2p-write on stdin, print the value of NAME=VALUE on the "done" line.
done_field ()
{
  awk -v name="$1" '$1 == "done" {
    for (i = 2; i <= NF; i++)
      if (index ($i, name "=") == 1) print substr ($i, length (name) + 2)
  }'
}

# start_receiver OUTDIR [p2v-recv OPTIONS]: start p2v-recv --listen on a
# free loopback port in the background (stopped at exit), and set
# $recv_pid and $recv_port.  Its stdout goes to recv.out, stderr to
# recv.err.
start_receiver ()
{
  local out=$1 i
  shift
  # Made here: the job opens them only once it runs, maybe after awk.
  : >recv.out
  : >recv.err
  $VG p2v-recv --listen 127.0.0.1:0 --out "$out" --machine-readable "$@" \
    >recv.out 2>recv.err &
  recv_pid=$!
  cleanup_fn kill "$recv_pid"
  for i in $(seq 200); do
    recv_port=$(awk '$1 == "listening" { sub (/.*:/, "", $2); print $2 }' \
                  recv.out)
    [[ -n $recv_port ]] && return 0
    kill -0 "$recv_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat recv.err >&2
  fail "p2v-recv did not start listening"
}

# start_sshd: a real sshd on a free loopback port (stopped at exit) that
# lets root in with a key made here, and an `ssh` first in PATH that uses
# that key and asks nothing about the host; sets $ssh_port.  Needs root
# and /usr/sbin/sshd (the caller skips without them).
start_sshd ()
{
  local i
  ssh-keygen -q -t ed25519 -N '' -f host_key
  ssh-keygen -q -t ed25519 -N '' -f user_key
  cp user_key.pub authorized_keys
  ssh_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >sshd_config <<EOT
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $PWD/host_key
AuthorizedKeysFile $PWD/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $PWD/sshd.pid
EOT
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$PWD/sshd_config" -E "$PWD/sshd.log" ||
    fail "sshd did not start"
  cleanup_fn sh -c "kill \$(cat '$PWD/sshd.pid') 2>/dev/null"
  for i in $(seq 100); do
    [[ -s sshd.pid ]] && break
    sleep 0.05
  done
  mkdir -p wrap
  cat >wrap/ssh <<EOT
#!/bin/sh
exec /usr/bin/ssh -i '$PWD/user_key' -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "\$@"
EOT
  chmod +x wrap/ssh
  PATH=$PWD/wrap:$PATH
}

# v2p_send_when_listening BOOT_PID TIMEOUT PORT TOKEN IMAGE: v2p-send
# IMAGE to the live ISO's v2p-recv, which tests/guests/boot-iso (running
# in the background as BOOT_PID, its console in console.log, its stderr
# in boot.err) reaches as 127.0.0.1:PORT (--hostfwd), as soon as the
# console says it listens: until then qemu takes the connection and
# closes it.  Gives up TIMEOUT seconds after the boot started ($t).  Then
# waits for the boot to end; fails unless the image went through and the
# boot ended with an outcome.  Sets $t_send, when the sending started.
v2p_send_when_listening ()
{
  local boot_pid=$1 timeout=$2 port=$3 token=$4 image=$5 sent=0 status=0
  t_send=$SECONDS
  while kill -0 "$boot_pid" 2>/dev/null && ((SECONDS - t < timeout)); do
    if grep -a -q 'Listening on' console.log 2>/dev/null; then
      t_send=$SECONDS
      # shellcheck disable=SC2086 # $VG is words, or nothing
      if P2V_TOKEN=$token $VG v2p-send -q "$image" \
           --to "tcp://127.0.0.1:$port" 2>send.err; then
        sent=1
        break
      fi
    fi
    sleep 2
  done
  wait "$boot_pid" || status=$?
  cat boot.err
  [[ $sent == 1 ]] || fail "v2p-send never got through: $(cat send.err)"
  [[ $status == 0 ]] || fail "the ISO's boot did not end with an outcome"
}

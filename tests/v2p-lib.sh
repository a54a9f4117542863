# tests/v2p-lib.sh: what the tests of v2p-write, v2p-send and v2p-recv
# share, sourced after functions.sh.  They need root (loop devices).
#
#   v2p_requires                skip unless root, losetup works, and the
#                               filesystem tools are there
#   new_loop FILE               a loop device over FILE (with partition
#                               scanning)
#   part_loop DISK N            a loop device over partition N of DISK
#                               (file or device, read through sfdisk), for
#                               kernels that show no partitions
#
# Every loop device over a file of the scratch directory is detached at
# exit (registering that in new_loop would be lost: it runs in $(...)).
#   part_dev DISK N             the kernel's device of partition N of the
#                               block device DISK (adding it with partx if
#                               the kernel did not)
#   mount_at DEV DIR [OPTS]     mount DEV on DIR (created), unmounted at exit
#   make_tree DIR SEED          a directory of files with random contents
#   tree_digest DIR             one digest of every file's path and content
#   part_field DISK N FIELD     start or size (sectors) of partition N
#   disk_sectors DISK           the size of DISK in 512-byte sectors
#   disk_ids DISK               its identifier (an MBR's signature, a GPT's
#                               GUID) and each partition's PARTUUID as blkid
#                               gives it (root=PARTUUID=...), one a line
#   same_ids DISK IDS           fail unless DISK has the identifiers IDS
#                               (disk_ids), and on a block device unless
#                               blkid reads the same PARTUUIDs
#   start_v2p_receiver OPTS...  v2p-recv --listen on a free loopback port,
#                               in the background (stopped at exit):
#                               $v2p_pid, $v2p_port; stdout in v2p.out,
#                               stderr in v2p.err

# Detach the loop devices over files of the scratch directory.
_detach_scratch_loops ()
{
  local dev
  for dev in $(losetup -n -O NAME,BACK-FILE | awk -v d="$scratch/" \
                 'index ($2, d) == 1 { print $1 }'); do
    losetup -d "$dev"
  done
}
cleanup_fn _detach_scratch_loops

v2p_requires ()
{
  [[ $(id -u) == 0 ]] || skip "needs root for loop devices"
  requires losetup
  requires sfdisk
  requires partx
  requires python3
  losetup -f >/dev/null 2>&1 || skip "no free loop device"
}

new_loop ()
{
  losetup -P --show -f "$1"
}

part_field ()
{
  sfdisk -J "$1" | python3 -c '
import json, re, sys
for p in json.load (sys.stdin)["partitiontable"]["partitions"]:
    if re.search (r"\D" + sys.argv[1] + "$", p["node"]):
        print (p[sys.argv[2]])
        sys.exit (0)
sys.exit ("no partition " + sys.argv[1])' "$2" "$3"
}

disk_sectors ()
{
  if [[ -b $1 ]]; then
    blockdev --getsz "$1"
  else
    echo $(($(stat -c %s "$1") / 512))
  fi
}

disk_ids ()
{
  sfdisk -J "$1" | python3 -c '
import json, re, sys
t = json.load (sys.stdin)["partitiontable"]
print ("disk", t["id"].lower ())
for p in t["partitions"]:
    n = int (re.search (r"(\d+)$", p["node"]).group (1))
    # libblkid: an MBR partition is the signature and its number in hex.
    if t["label"] == "dos":
        print (n, "%08x-%02x" % (int (t["id"], 16), n))
    else:
        print (n, p["uuid"].lower ())'
}

same_ids ()
{
  local got n uuid read
  got=$(disk_ids "$1")
  [[ $got == "$2" ]] ||
    fail "$1: identifiers changed: $(echo $2) became $(echo $got)"
  [[ -b $1 ]] || return 0
  while read -r n uuid; do
    [[ $n == disk ]] && continue
    read=$(blkid -p -o value -s PART_ENTRY_UUID "$(part_dev "$1" "$n")")
    [[ $read == "$uuid" ]] ||
      fail "$1: blkid reads PARTUUID $read for partition $n, not $uuid"
  done <<<"$got"
}

part_loop ()
{
  local start size
  start=$(part_field "$1" "$2" start)
  size=$(part_field "$1" "$2" size)
  losetup --show -f -o $((start * 512)) --sizelimit $((size * 512)) "$1"
}

part_dev ()
{
  local dev
  case $1 in
    *[0-9]) dev=$1p$2 ;;
    *) dev=$1$2 ;;
  esac
  [[ -b $dev ]] || partx -a -n "$2" "$1" >/dev/null 2>&1 || true
  [[ -b $dev ]] || fail "$dev: the kernel has no such partition"
  echo "$dev"
}

mount_at ()
{
  mkdir -p "$2"
  mount ${3:+-o "$3"} "$1" "$2"
  cleanup_fn umount -q "$PWD/$2"
}

make_tree ()
{
  local dir=$1 seed=$2 i
  mkdir -p "$dir/sub/deeper"
  for i in 1 2 3 4 5; do
    python3 -c '
import random, sys
r = random.Random (int (sys.argv[1]))
sys.stdout.buffer.write (r.randbytes (r.randint (1, 3 << 20)))' \
      "$seed$i" >"$dir/file$i"
  done
  echo "v2p $seed" >"$dir/sub/deeper/small.txt"
  ln -s ../file1 "$dir/sub/link"
}

tree_digest ()
{
  (cd "$1" && find . -path ./lost+found -prune -o \( -type f -o -type l \) \
     -print | LC_ALL=C sort | while read -r f; do
     if [[ -L $f ]]; then echo "$f -> $(readlink "$f")"
     else echo "$f $(sha256sum <"$f")"; fi
   done) | sha256sum | cut -d' ' -f1
}

start_v2p_receiver ()
{
  local i
  # Made here: the job opens them only once it runs, maybe after awk.
  : >v2p.out
  : >v2p.err
  $VG v2p-recv --listen 127.0.0.1:0 --machine-readable "$@" \
    >v2p.out 2>v2p.err &
  v2p_pid=$!
  cleanup_fn kill "$v2p_pid"
  for i in $(seq 200); do
    v2p_port=$(awk '$1 == "listening" { sub (/.*:/, "", $2); print $2 }' \
                 v2p.out)
    [[ -n $v2p_port ]] && return 0
    kill -0 "$v2p_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat v2p.err >&2
  fail "v2p-recv did not start listening"
}

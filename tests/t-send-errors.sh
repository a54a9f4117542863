#!/bin/bash
# tier: fast
# timeout: 120
# Bad command lines and bad inputs get one clear line on stderr and exit
# status 1, and leave nothing behind.
. "$(dirname "$0")/functions.sh"
requires qemu-img

head -c 1M /dev/urandom >disk.raw

expect_error "--to is required" p2v-send disk.raw
expect_error "no SOURCE given" p2v-send --to out.qcow2
expect_error "one SOURCE" p2v-send disk.raw disk.raw --to out.qcow2
expect_error "'out.img': expected FILE.qcow2, tcp://HOST:PORT" \
  p2v-send disk.raw --to out.img
expect_error "missing.raw: open: No such file or directory" \
  p2v-send missing.raw --to out.qcow2
mkdir dir
expect_error "dir: not a regular file or block device" \
  p2v-send dir --to out.qcow2
expect_error "--compress: 'lz4'" p2v-send disk.raw --to out.qcow2 --compress lz4
expect_error "--compress: 'zstd:99': expected a level" \
  p2v-send disk.raw --to out.qcow2 --compress zstd:99
expect_error "--cluster-size: '3K': must be a power of two" \
  p2v-send disk.raw --to out.qcow2 --cluster-size 3K
expect_error "--cluster-size: '4M': must be a power of two" \
  p2v-send disk.raw --to out.qcow2 --cluster-size 4M
expect_error "--cluster-size: 'abc': not a size" \
  p2v-send disk.raw --to out.qcow2 --cluster-size abc
expect_error "--source-format: 'vmdk'" \
  p2v-send disk.raw --to out.qcow2 --source-format vmdk
expect_error "nodir/out.qcow2: create: No such file or directory" \
  p2v-send disk.raw --to nodir/out.qcow2
[[ -z $(ls | grep qcow2) ]] || fail "a failed run left files: $(ls)"

# No overwrite without --force.
p2v-send disk.raw --to out.qcow2
expect_error "out.qcow2: already exists (use --force" \
  p2v-send disk.raw --to out.qcow2
p2v-send disk.raw --to out.qcow2 --force

# A disk too large for a tiny cluster size is refused up front.
truncate -s 1T huge.raw
expect_error "too large for 512-byte clusters" \
  p2v-send huge.raw --to huge.qcow2 --cluster-size 512
[[ ! -e huge.qcow2.part ]] || fail "refused run left huge.qcow2.part"

# v2p-write.
expect_error "expected IMAGE and TARGET" v2p-write out.qcow2
head -c 100 /dev/urandom >taken.raw
expect_error "taken.raw: exists and is not empty (use --force" \
  v2p-write out.qcow2 taken.raw
v2p-write out.qcow2 taken.raw --force
cmp disk.raw taken.raw
: >empty.raw
v2p-write out.qcow2 empty.raw
cmp disk.raw empty.raw
expect_error "missing.qcow2: open: No such file or directory" \
  v2p-write missing.qcow2 x.raw
expect_error "/dev/null: not a regular file or block device" \
  v2p-write out.qcow2 /dev/null
expect_error "/dev/null: not a regular file or block device" \
  v2p-write out.qcow2 /dev/null --force
[[ -c /dev/null ]] || fail "/dev/null was replaced"
# Only a regular file is ever replaced by an output.
mkdir dir.qcow2
mkfifo fifo.qcow2
expect_error "dir.qcow2: exists and is not a regular file" \
  p2v-send disk.raw --to dir.qcow2 --force
expect_error "fifo.qcow2: exists and is not a regular file" \
  p2v-send disk.raw --to fifo.qcow2 --force
[[ -d dir.qcow2 && -p fifo.qcow2 ]] || fail "a special file was replaced"

# --help and --version work and exit 0.  (Into files: grep -q on a
# pipe may leave before the end of the text, and with pipefail the
# program's SIGPIPE would fail the test.)
for p in p2v-send v2p-write; do
  $p --help >help.out || fail "$p --help: exit status $?"
  grep -q "^Usage: $p" help.out || fail "$p --help: no usage line"
  $p --version >version.out || fail "$p --version: exit status $?"
  grep -q "^$p (p2vkit) " version.out || fail "$p --version: $(cat version.out)"
  expect_error "" $p --no-such-option
done

# A program never writes over its own source, under any name.
expect_error "out.qcow2: is the source itself" \
  p2v-send out.qcow2 --to out.qcow2 --force
ln -s out.qcow2 alias.qcow2
expect_error "alias.qcow2: is the source itself" \
  p2v-send out.qcow2 --to alias.qcow2 --force
expect_error "out.qcow2: is the source itself" \
  v2p-write out.qcow2 out.qcow2 --force
qemu-img compare -q disk.raw out.qcow2

# Replacing a symbolic link writes the file it points to.
head -c 100 /dev/urandom >real.raw
ln -s real.raw link.raw
v2p-write out.qcow2 link.raw --force
[[ -L link.raw ]] || fail "the symbolic link was replaced"
cmp disk.raw real.raw

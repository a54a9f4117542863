#!/bin/bash
# tier: fast
# timeout: 600
# A qcow2 image written through simulated crashes, resumed from its
# checkpoints (tests/unit/test-resume.c), passes `qemu-img check` and is
# identical to the disk it was given, for 512-byte to 2 MiB clusters with
# and without zlib and zstd compression; damaged checkpoint states are
# refused; a digest saved part way goes on as if it had never stopped.
. "$(dirname "$0")/functions.sh"
requires qemu-img --version

tool=$top/tests/unit/test-resume
[[ -x $tool ]] || fail "$tool is not built (run make)"

$VG "$tool" || fail "test-resume failed"

[[ -f resume-ref.raw ]] || fail "test-resume left no resume-ref.raw"
n=0
for image in resume-c*.qcow2; do
  [[ -f $image ]] || continue
  qemu-img check -q "$image" || fail "$image: qemu-img check"
  qemu-img compare -q -f raw -F qcow2 resume-ref.raw "$image" ||
    fail "$image: qemu-img compare"
  echo "ok: $image"
  n=$((n + 1))
done
# One image per variant of test-resume.c.
[[ $n == 8 ]] || fail "expected 8 resumed images, found $n"

# A finished image leaves nothing of its checkpoints behind.
leftovers=$(find . -name '*.part*')
[[ -z $leftovers ]] || fail "left behind: $leftovers"

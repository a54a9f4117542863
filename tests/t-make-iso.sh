#!/bin/bash
# tier: fast
# p2v-make-iso without building anything: --version and --help as every
# program has them; wrong arguments refused in one line before any work;
# and bin/p2v-make-iso, as make installs it, carries the live system's
# files (p2v/iso/root-setup and p2v/iso/live/) as they are in the tree,
# executable where they are.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-make-iso ]] || skip "bin/p2v-make-iso not built"

version=$(p2v-make-iso --version)
[[ $version =~ ^p2v-make-iso\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "--version: '$version'"
p2v-make-iso --help >help.txt
grep -q '^Usage: p2v-make-iso --out FILE' help.txt || fail "--help: no Usage line"
grep -q '^Options:$' help.txt || fail "--help: no Options section"
grep -q '^  p2v.server=' help.txt || fail "--help: no kernel arguments"

expect_error "usage: p2v-make-iso" p2v-make-iso
expect_error "usage: p2v-make-iso" p2v-make-iso --out x.iso --bogus
expect_error "--timeout: not a number of seconds: soon" \
  p2v-make-iso --out x.iso --timeout soon
expect_error "--packages: Bad_Name: not a package name" \
  p2v-make-iso --out x.iso --packages "btrfs-progs,Bad_Name"
expect_error "--append: quotes, backslashes" \
  p2v-make-iso --out x.iso --append 'p2v.name="x"'
touch exists.iso
expect_error "exists.iso: exists (--force replaces it)" \
  p2v-make-iso --out exists.iso
[[ ! -s exists.iso ]] || fail "exists.iso was written"

# The files appended to the installed script.
mkdir payload
sed '1,/^__P2V_MAKE_ISO_FILES__$/d' "$bin/p2v-make-iso" | base64 -d |
  tar -C payload -xz || fail "bin/p2v-make-iso: no files appended"
diff -r "$top/p2v/iso/live" payload/live || fail "live/ differs from p2v/iso/live"
cmp "$top/p2v/iso/root-setup" payload/root-setup ||
  fail "root-setup differs from p2v/iso/root-setup"
for f in root-setup live/usr/local/sbin/p2v-live \
         live/usr/lib/systemd/system-generators/p2v-live-generator; do
  [[ -x payload/$f ]] || fail "$f: not executable in bin/p2v-make-iso"
done

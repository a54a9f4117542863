#!/bin/bash
# tier: fast
# timeout: 1800
# p2v-fixup on the phony Debian guest of tests/guests/build-phony (two
# disks, odd configuration files) with its inventory: every file it
# rewrites reads back exactly as expected (device names to UUID=, the
# other lines byte for byte), the NIC names are pinned to the MACs in
# .link files, --network dhcp switches ifupdown and systemd-networkd to
# DHCP, the Xorg nvidia driver is commented out; the report says so, with
# each kernel's virtio drivers and the NIC map; --new-macs changes no MAC
# that is known.  --dry-run on other copies changes no byte yet reports
# the same changes; its inventory lists ens4 without a MAC, and with
# --new-macs ens4 still gets none (the real NIC's MAC is unknown, not
# new), so is not pinned, with a warning.  Three libguestfs
# launches: the fixup, the dry run, one guestfish session that reads
# everything back.  The cached images never change.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-fixup ]] || skip "bin/p2v-fixup not built"
# sfdisk, blkid: not in every user's PATH.
PATH=$PATH:/usr/sbin:/sbin
requires guestfish --version
requires python3 --version
requires xmllint --version
requires sfdisk --version
requires blkid --version

# Under nested virtualisation KVM hangs here: TCG unless told otherwise.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

mac3=52:54:00:aa:00:03
mac4=52:54:00:aa:00:04
mac5=52:54:00:aa:00:05
link_dir=/etc/systemd/network

start=$SECONDS
mapfile -t cached < <("$srcdir/guests/build-phony" debian)
[[ ${#cached[@]} == 2 ]] || fail "build-phony debian: not two images"
echo "phony guest: ${cached[*]} ($((SECONDS - start)) s)"
cached_sums=$(sha256sum "${cached[@]}")

for i in 0 1; do
  cp --sparse=always "${cached[i]}" "d$i.img"
  cp --sparse=always "${cached[i]}" "dry$i.img"
done
sha256sum dry0.img dry1.img >dry.sums

"$srcdir/guests/make-phony-inventory" d0.img d1.img >inv.xml
xmllint --noout --relaxng "$top/templates/inventory.rng" inv.xml
# The dry run's: ens4 without its MAC.
sed '/<nic name="ens4"/s/ mac="[^"]*"//' inv.xml >inv-nomac.xml
grep -q '<nic name="ens4" driver=' inv-nomac.xml ||
  fail "inv-nomac.xml: ens4 still has a MAC"
xmllint --noout --relaxng "$top/templates/inventory.rng" inv-nomac.xml

# fs_uuid IMAGE NUMBER: the UUID of what is on partition NUMBER of IMAGE.
fs_uuid ()
{
  local start size
  read -r start size < <(sfdisk --dump "$1" | awk -v node="$1$2" '
    $1 == node {
      match ($0, /start= *[0-9]+/); s = substr ($0, RSTART, RLENGTH)
      match ($0, /size= *[0-9]+/); n = substr ($0, RSTART, RLENGTH)
      sub (/[^0-9]+/, "", s); sub (/[^0-9]+/, "", n)
      print s, n }')
  [[ -n $start ]] || fail "$1: no partition $2"
  blkid -p -O $((start * 512)) -S $((size * 512)) -o value -s UUID "$1"
}
u_sda1=$(fs_uuid d0.img 1)
u_sda2=$(fs_uuid d0.img 2)
u_sda3=$(fs_uuid d0.img 3)
u_sdb1=$(fs_uuid d1.img 1)
u_sdb5=$(fs_uuid d1.img 5)
u_sdb6=$(fs_uuid d1.img 6)
for u in "$u_sda1" "$u_sda2" "$u_sda3" "$u_sdb1" "$u_sdb5" "$u_sdb6"; do
  [[ $u =~ ^[0-9a-f-]{36}$ ]] || fail "a UUID read from the images: '$u'"
done

# --- The two runs --------------------------------------------------------

# fixup NAME ARGS...: run p2v-fixup, its stderr in NAME.err; fail unless
# it succeeds.
fixup ()
{
  local name=$1 t=$SECONDS
  shift
  echo "+ p2v-fixup $*"
  if ! $VG p2v-fixup "$@" 2>"$name.err"; then
    cat "$name.err" >&2
    fail "p2v-fixup ($name) failed"
  fi
  echo "$name: $((SECONDS - t)) s"
}

fixup fixup --target virt --no-initramfs --network dhcp --new-macs \
  --inventory inv.xml --report r.xml d0.img d1.img
fixup dry --dry-run --no-initramfs --new-macs --inventory inv-nomac.xml \
  --report dry.xml dry0.img dry1.img

sha256sum --quiet -c dry.sums || fail "--dry-run changed the images"

# --- Read back: both guests in one appliance -------------------------------

# The fixed guest's root at /new (/boot on it), the dry run's (the
# original files) at /old.
mkdir new old
files=(/etc/fstab /etc/crypttab /etc/default/grub /boot/grub/grub.cfg
       /etc/initramfs-tools/conf.d/resume /etc/network/interfaces
       "$link_dir/20-ens5.network" /etc/X11/xorg.conf)
links=(ens3 ens4 ens5)
{
  echo "run"
  echo "mkmountpoint /new"
  echo "mkmountpoint /old"
  echo "mount-ro /dev/sda3 /new"
  echo "mount-ro /dev/sda1 /new/boot"
  echo "mount-ro /dev/sdc3 /old"
  echo "mount-ro /dev/sdc1 /old/boot"
  for f in "${files[@]}"; do
    echo "download /new$f new/${f//\//_}"
    echo "download /old$f old/${f//\//_}"
  done
  for n in "${links[@]}"; do
    echo "-download /new$link_dir/10-p2vkit-$n.link new/link-$n"
  done
  echo "echo ==== udev rules"
  echo "ls /new/etc/udev/rules.d"
} >readback.fish
t=$SECONDS
guestfish --ro --format=raw -a d0.img -a d1.img -a dry0.img -a dry1.img \
  -f readback.fish >readback.out 2>readback.err || {
  cat readback.err >&2
  fail "guestfish could not read the guests back"
}
echo "read back: $((SECONDS - t)) s"

failed=0
# check_file NAME EXPECTED GOT: the file is as expected, byte for byte.
check_file ()
{
  if ! cmp -s "$2" "$3"; then
    echo "FAIL: $1 is not as expected:" >&2
    diff -u "$2" "$3" | cat -A | sed 's/^/  /' >&2 || true
    failed=1
  fi
}

# --- Device names ------------------------------------------------------------

# Blanks at the end of a line, which must stay.
trailing="   "
cat >expected.fstab <<EOF
# /etc/fstab: static file system information.
#
# Use 'blkid' to print the universally unique identifier for a
# device; this may be used with UUID= as a more robust way to name devices
# that works even if disks are added and removed. See fstab(5).
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=$u_sda3	/	ext4	errors=remount-ro	0	1
# /boot was on /dev/sda1 during installation
UUID=$u_sda1       /boot           ext4    defaults,nofail 0       2
UUID=$u_sda2  none  swap  sw  0  0$trailing

UUID=$u_sdb1	/srv	ext4	defaults	0	2
#/dev/sdb1	/srv	ext3	defaults	0	2
UUID=$u_sdb6 /srv/archive ext4 defaults,nofail 0 2
/dev/disk/by-path/pci-0000:00:1f.2-ata-3-part1 /media/backup ext4 noauto,nofail 0 0
/dev/mapper/sdb5_crypt /srv/secret ext4 defaults,nofail 0 2
/dev/mapper/vg0-home /home ext4 defaults 0 2
LABEL=scratch /scratch ext4 defaults,nofail 0 2
UUID=c0ffee00-0000-4000-8000-0000000000ff /media/usb vfat noauto,user 0 0
/srv/www /var/www none bind 0 0
192.0.2.5:/export/home /mnt/home nfs ro,soft,_netdev 0 0
tmpfs /tmp tmpfs size=64m,mode=1777 0 0
/dev/sdc1 /mnt/old ext4 noauto,nofail 0 0
/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0
EOF
# The lines of the names that no disk of the machine has.
fstab_by_path_line=$(grep -n '^/dev/disk/by-path/' expected.fstab | cut -d: -f1)
fstab_sdc1_line=$(grep -n '^/dev/sdc1' expected.fstab | cut -d: -f1)

cat >expected.crypttab <<EOF
# <target name>	<source device>		<key file>	<options>
sdb5_crypt	UUID=$u_sdb5	none	luks,discard
usb_crypt UUID=c0ffee00-0000-4000-8000-0000000000fe none luks,noauto
EOF

cat >expected.grub <<EOF
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet resume=UUID=$u_sda2"
GRUB_CMDLINE_LINUX="root=UUID=$u_sda3 console=tty0 console=ttyS0,115200n8 net.ifnames=1"
#GRUB_CMDLINE_LINUX="root=/dev/hda3"

# Uncomment to disable graphical terminal (grub-pc only)
#GRUB_TERMINAL=console
EOF

# grub.cfg: only the kernel command lines of the linux lines change.
sed -e "s|^\\([[:space:]]*linux[[:space:]].*\\)root=/dev/sda3|\\1root=UUID=$u_sda3|" \
    -e "s|^\\([[:space:]]*linux[[:space:]].*\\)resume=/dev/sda2|\\1resume=UUID=$u_sda2|" \
    old/_boot_grub_grub.cfg >expected.grub.cfg
[[ $(grep -c "root=UUID=$u_sda3" expected.grub.cfg) == 3 &&
   $(grep -c "resume=UUID=$u_sda2" expected.grub.cfg) == 2 &&
   $(grep -c "gnulinux-.*/dev/sda3'" expected.grub.cfg) == 4 ]] ||
  fail "the original grub.cfg is not the one this test expects"

echo "RESUME=UUID=$u_sda2" >expected.resume

check_file /etc/fstab expected.fstab new/_etc_fstab
check_file /etc/crypttab expected.crypttab new/_etc_crypttab
check_file /etc/default/grub expected.grub new/_etc_default_grub
check_file /boot/grub/grub.cfg expected.grub.cfg new/_boot_grub_grub.cfg
check_file /etc/initramfs-tools/conf.d/resume expected.resume \
  new/_etc_initramfs-tools_conf.d_resume

# --- NICs: pinned, and switched to DHCP ----------------------------------------

# settings FILE: the lines of a systemd unit-style file that are not
# comments or blank.
settings ()
{
  grep -v -E '^[[:space:]]*([#;]|$)' "$1" || true
}

for n in "${links[@]}"; do
  case "$n" in
    ens3) mac=$mac3 ;;
    ens4) mac=$mac4 ;;
    ens5) mac=$mac5 ;;
  esac
  if [[ ! -f new/link-$n ]]; then
    echo "FAIL: $link_dir/10-p2vkit-$n.link was not created" >&2
    failed=1
    continue
  fi
  # The match may also say Type=ether (not a bridge or VLAN that took
  # the NIC's MAC).
  printf '[Match]\nMACAddress=%s\n[Link]\nName=%s\n' "$mac" "$n" \
    >"expected.link-$n"
  settings "new/link-$n" | grep -v -x 'Type=ether' >"got.link-$n" || true
  check_file "10-p2vkit-$n.link (its settings)" "expected.link-$n" \
    "got.link-$n"
done
# No udev rules where systemd-udevd reads .link files.
sed -n '/^==== udev rules$/,$p' readback.out >udev.ls
if grep -q p2vkit udev.ls; then
  echo "FAIL: udev rules written for a guest with systemd-udevd:" >&2
  cat udev.ls >&2
  failed=1
fi

# ifupdown: ens3's stanza says dhcp and has no address any more; the rest
# of the file is as it was.
# stanza_out NAME FILE: FILE without the stanza "iface NAME ..." (up to a
# blank line or the next stanza).
stanza_out ()
{
  awk -v name="$1" '
    $1 == "iface" && $2 == name { skip = 1; next }
    skip && (/^[[:space:]]*$/ ||
             $1 ~ /^(iface|auto|allow-.*|mapping|source|source-directory)$/) {
      skip = 0
    }
    !skip' "$2"
}
stanza_in ()
{
  awk -v name="$1" '
    $1 == "iface" && $2 == name { skip = 1; print; next }
    skip && (/^[[:space:]]*$/ ||
             $1 ~ /^(iface|auto|allow-.*|mapping|source|source-directory)$/) {
      skip = 0
    }
    skip && !/^[[:space:]]*#/' "$2"
}
stanza_out ens3 old/_etc_network_interfaces >expected.interfaces-rest
stanza_out ens3 new/_etc_network_interfaces >got.interfaces-rest
check_file "/etc/network/interfaces (beyond ens3)" expected.interfaces-rest \
  got.interfaces-rest
echo "iface ens3 inet dhcp" >expected.interfaces-ens3
stanza_in ens3 new/_etc_network_interfaces >got.interfaces-ens3
check_file "/etc/network/interfaces (ens3's stanza, without comments)" \
  expected.interfaces-ens3 got.interfaces-ens3

# systemd-networkd: the same match, DHCP instead of the address.
printf '[Match]\nMACAddress=%s\nName=ens5\n[Network]\nDHCP=yes\n' "$mac5" \
  >expected.ens5.network
settings "new/_etc_systemd_network_20-ens5.network" |
  sed 's/^DHCP=ipv4$/DHCP=yes/' >got.ens5.network
check_file "$link_dir/20-ens5.network (its settings)" expected.ens5.network \
  got.ens5.network

# Xorg: the Device section's Driver and BusID lines commented out; the
# keyboard's driver (not hardware-specific) and everything else as it was.
grep -v -E '^[[:space:]]*#|^[[:space:]]*(Driver[[:space:]]+"nvidia"|BusID)' \
  old/_etc_X11_xorg.conf >expected.xorg-rest
grep -v -E '^[[:space:]]*#' new/_etc_X11_xorg.conf >got.xorg-rest
check_file "/etc/X11/xorg.conf (uncommented lines)" expected.xorg-rest \
  got.xorg-rest
for pattern in 'Driver[[:space:]]+"nvidia"' 'BusID[[:space:]]+"PCI:1:0:0"'; do
  grep -q -E "^[[:space:]]*#.*$pattern" new/_etc_X11_xorg.conf || {
    echo "FAIL: /etc/X11/xorg.conf: no commented-out line $pattern" >&2
    failed=1
  }
done

# --- The reports ---------------------------------------------------------------

# facts.py flatten REPORT: one line per fact of the report, fields
# separated by tabs, the guest's lines with their tabs written \t; an
# absent attribute is "-".
# facts.py changes ORIG NEW PATH: the "change" lines that the report
# should have for a file whose lines changed from ORIG to NEW (as many
# lines).
cat >facts.py <<'EOF'
import os, sys
import xml.etree.ElementTree as ET

def esc (s):
    return (s or "").replace ("\t", "\\t")

def a (e, name):
    v = e.get (name)
    return "-" if v is None else v

def flatten (report):
    r = ET.parse (report).getroot ()
    out = []
    for k in ("version", "target", "network", "dry-run"):
        out.append (("report", k, a (r, k)))
    out.append (("report", "program-name", a (r, "program").split (" ")[0]))
    for k, v in sorted (r.find ("guest").attrib.items ()):
        out.append (("guest", k, v))
    for d in r.find ("disks"):
        img = d.get ("image", "")
        out.append (("disk", a (d, "index"),
                     os.path.realpath (img) if img.startswith ("/")
                     else "relative:" + img, a (d, "format")))
    for f in r.find ("files"):
        path = a (f, "path")
        out.append (("file", path, a (f, "action")))
        for c in f:
            if c.tag == "change":
                out.append (("change", path, a (c, "line"),
                             esc (c.findtext ("old")),
                             esc (c.findtext ("new"))))
            else:
                out.append (("fwarning", path, a (c, "line"), esc (c.text)))
    for k in r.find ("kernels"):
        missing = " ".join (sorted ((k.get ("missing") or "").split ()))
        out.append (("kernel", a (k, "version"),
                     "initramfs=" + a (k, "initramfs"),
                     "virtio=" + a (k, "virtio"), "missing=" + missing,
                     "rebuilt=" + a (k, "rebuilt")))
    for n in r.find ("nics"):
        configs = ",".join (sorted (c.get ("file", "")
                                    for c in n.findall ("config")))
        out.append (("nic", a (n, "name"), "mac=" + a (n, "mac"),
                     "driver=" + a (n, "driver"),
                     "mac-from=" + a (n, "mac-from"),
                     "in-inventory=" + a (n, "in-inventory"),
                     "pinned=" + a (n, "pinned"), "configs=" + configs))
    for w in r.find ("warnings"):
        out.append (("warning", esc (w.text)))
    return out

def changes (orig, new, path):
    with open (orig, encoding="utf-8", newline="") as f:
        old_lines = f.read ().split ("\n")
    with open (new, encoding="utf-8", newline="") as f:
        new_lines = f.read ().split ("\n")
    if len (old_lines) != len (new_lines):
        sys.exit ("%s and %s: not as many lines" % (orig, new))
    return [("change", path, str (i + 1), esc (o), esc (n))
            for i, (o, n) in enumerate (zip (old_lines, new_lines))
            if o != n]

if sys.argv[1] == "flatten":
    facts = flatten (sys.argv[2])
else:
    facts = changes (*sys.argv[2:5])
for fact in facts:
    print ("\t".join (fact))
EOF

# expect_lines WHAT EXPECTED GOT: the lines of EXPECTED and GOT are the
# same set.
expect_lines ()
{
  if ! diff -u <(LC_ALL=C sort "$2") <(LC_ALL=C sort "$3") >lines.diff; then
    echo "FAIL: $1 (- expected, + got):" >&2
    sed 's/^/  /' lines.diff >&2
    failed=1
  fi
}

# require_lines WHAT EXPECTED GOT: every line of EXPECTED is in GOT.
require_lines ()
{
  local line
  while IFS= read -r line; do
    grep -qxF -- "$line" "$3" || {
      echo "FAIL: $1: no line '$line' in:" >&2
      sed 's/^/  /' "$3" >&2
      failed=1
    }
  done <"$2"
}

schema=$top/templates/fixup-report.rng
for report in r.xml dry.xml; do
  if [[ -f $schema ]]; then
    xmllint --noout --relaxng "$schema" "$report" 2>schema.err || {
      echo "FAIL: $report is not valid against $schema:" >&2
      cat schema.err >&2
      failed=1
    }
  fi
done
python3 facts.py flatten r.xml >r.facts
python3 facts.py flatten dry.xml >dry.facts

# The device names: the changes are exactly those between the files, and
# the warnings are the two names no disk of the machine has.
{
  python3 facts.py changes old/_etc_fstab expected.fstab /etc/fstab
  python3 facts.py changes old/_etc_crypttab expected.crypttab /etc/crypttab
  python3 facts.py changes old/_etc_default_grub expected.grub /etc/default/grub
  python3 facts.py changes old/_boot_grub_grub.cfg expected.grub.cfg /boot/grub/grub.cfg
  python3 facts.py changes old/_etc_initramfs-tools_conf.d_resume expected.resume \
    /etc/initramfs-tools/conf.d/resume
  printf 'fwarning\t/etc/fstab\t%s\tunknown device %s\n' \
    "$fstab_by_path_line" /dev/disk/by-path/pci-0000:00:1f.2-ata-3-part1 \
    "$fstab_sdc1_line" /dev/sdc1
} >expected.changes
device_files='/etc/fstab|/etc/crypttab|/etc/default/grub|/boot/grub/grub.cfg|/etc/initramfs-tools/conf.d/resume'
for facts in r.facts dry.facts; do
  # A warning's wording around the name may vary: "unknown device
  # '/dev/sdc1': left as it is" is "unknown device /dev/sdc1".
  awk -F'\t' -v files="^($device_files)\$" \
    '($1 == "change" || $1 == "fwarning") && $2 ~ files' "$facts" |
    sed -E "s/^(fwarning\t[^\t]*\t[0-9]+\tunknown device )'?([^' ]+)'?.*/\1\2/" \
    >"$facts.changes"
  expect_lines "$facts: the device name changes and warnings" \
    expected.changes "$facts.changes"
done
# 5 lines of fstab, 1 of crypttab, 2 of GRUB's defaults, 3 of grub.cfg,
# 1 of resume; 2 warnings.
[[ $(wc -l <expected.changes) == 14 ]] ||
  fail "expected.changes: $(wc -l <expected.changes) lines, not 14"

# The files changed or created.  (--no-initramfs may still record the
# driver choice in /etc/initramfs-tools: the contract leaves that open.)
printf 'file\t%s\tchanged\n' /etc/fstab /etc/crypttab /etc/default/grub \
  /boot/grub/grub.cfg /etc/initramfs-tools/conf.d/resume >expected.files-keep
printf "file\\t$link_dir/10-p2vkit-%s.link\\tcreated\\n" "${links[@]}" \
  >>expected.files-keep
printf 'file\t%s\tchanged\n' /etc/X11/xorg.conf >>expected.files-keep
cp expected.files-keep expected.files-dhcp
printf 'file\t%s\tchanged\n' /etc/network/interfaces \
  "$link_dir/20-ens5.network" >>expected.files-dhcp
# The dry run pins no ens4.
grep -v 10-p2vkit-ens4.link expected.files-keep >expected.files-dry
for run in r:dhcp dry:dry; do
  awk -F'\t' '$1 == "file" && $2 !~ /^\/etc\/initramfs-tools\/(modules|conf\.d\/p2vkit)$/' \
    "${run%:*}.facts" >"${run%:*}.files"
  expect_lines "${run%:*}.xml: the files" "expected.files-${run#*:}" \
    "${run%:*}.files"
done

# Kernels: 5.10.0-gone has modules but no kernel any more.
cat >expected.kernels <<'EOF'
kernel	6.1.0-phony	initramfs=/boot/initrd.img-6.1.0-phony	virtio=yes	missing=	rebuilt=skipped
kernel	4.9.0-old	initramfs=/boot/initrd.img-4.9.0-old	virtio=no	missing=virtio_net virtio_scsi	rebuilt=skipped
EOF
# NICs: ens3 and ens4 from the inventory (and ifupdown), ens5 from its
# networkd file only; lo is not one.
cat >expected.nics <<EOF
nic	ens3	mac=$mac3	driver=e1000	mac-from=inventory	in-inventory=yes	pinned=$link_dir/10-p2vkit-ens3.link	configs=/etc/network/interfaces
nic	ens4	mac=$mac4	driver=e1000	mac-from=inventory	in-inventory=yes	pinned=$link_dir/10-p2vkit-ens4.link	configs=/etc/network/interfaces
nic	ens5	mac=$mac5	driver=-	mac-from=config	in-inventory=no	pinned=$link_dir/10-p2vkit-ens5.link	configs=$link_dir/20-ens5.network
EOF
# The dry run's ens4: in the inventory without a MAC, so none, even with
# --new-macs.
sed "/^nic	ens4	/c\\
nic	ens4	mac=-	driver=e1000	mac-from=none	in-inventory=yes	pinned=-	configs=/etc/network/interfaces" \
  expected.nics >expected.dry.nics
for facts in r.facts dry.facts; do
  grep '^kernel	' "$facts" >"$facts.kernels" || true
  expect_lines "$facts: the kernels" expected.kernels "$facts.kernels"
  grep '^nic	' "$facts" >"$facts.nics" || true
done
expect_lines "r.facts: the NICs" expected.nics r.facts.nics
expect_lines "dry.facts: the NICs" expected.dry.nics dry.facts.nics

# The run, the guest, the disks.
cat >expected.run <<EOF
report	version	1
report	program-name	p2v-fixup
report	target	virt
report	network	dhcp
report	dry-run	no
guest	root	/dev/sda3
guest	type	linux
guest	distro	debian
guest	version	12.5
guest	hostname	phony
guest	arch	x86_64
guest	initramfs-tool	initramfs-tools
guest	nic-pinning	systemd-link
disk	0	$(realpath d0.img)	raw
disk	1	$(realpath d1.img)	raw
EOF
require_lines "r.xml" expected.run r.facts
sed -e 's/^\(report\tnetwork\t\).*/\1keep/' -e 's/^\(report\tdry-run\t\).*/\1yes/' \
  -e "s|$(realpath d0.img)|$(realpath dry0.img)|" \
  -e "s|$(realpath d1.img)|$(realpath dry1.img)|" expected.run >expected.dry-run
require_lines "dry.xml" expected.dry-run dry.facts
if grep -q '^guest	init	' r.facts; then
  printf 'guest\tinit\tsystemd\n' >expected.init
  require_lines "r.xml" expected.init r.facts
fi

# Warnings: the old kernel without virtio, ens5 that the machine had not;
# in the dry run, ens4 without a MAC.
for word in 4.9.0-old ens5; do
  grep -q "^warning	.*$word" r.facts || {
    echo "FAIL: r.xml: no warning about $word" >&2
    failed=1
  }
done
grep -qF "$(printf 'warning\tens4: no MAC known (none in the inventory or the configuration), so its name is not pinned (--new-macs makes none for a NIC of the source machine'"'"'s inventory)')" \
  dry.facts || {
  echo "FAIL: dry.xml: no warning about ens4's MAC" >&2
  failed=1
}
! grep -q 'no MAC known' r.facts || {
  echo "FAIL: r.xml: a NIC without a MAC" >&2
  failed=1
}

# --- The cache -----------------------------------------------------------------

sha256sum "${cached[@]}" | diff -u <(echo "$cached_sums") - ||
  fail "the cached images changed"

[[ $failed == 0 ]] || fail "p2v-fixup did not fix the phony guest as expected"
echo "all checks passed ($((SECONDS - start)) s)"

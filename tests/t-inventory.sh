#!/bin/bash
# tier: fast
# timeout: 300
# The hardware inventory (p2v-inventory, p2v/common/inventory*.c): this
# machine's facts match what the system says; disk images built here with
# known partitions, UUIDs and labels (GPT with ESP, ext4, swap and an LVM
# PV; MBR with logical partitions; no partition table) are described
# exactly, as files and as loop devices, and are never opened for writing;
# the parser reads back what is written and refuses hostile inputs with
# one line.
. "$(dirname "$0")/functions.sh"
requires xmllint
requires sfdisk
requires mkfs.ext4
requires mkfs.vfat
requires mkswap
requires blkid

schema=$top/templates/inventory.rng
parse=$top/tests/unit/test-inventory
[[ -x $parse ]] || fail "$parse is not built (run make)"

# xp FILE XPATH: the string value of XPATH in FILE ("" if none).
xp ()
{
  xmllint --xpath "string($2)" "$1"
}

# check_eq WHAT GOT WANTED
check_eq ()
{
  [[ $2 == "$3" ]] || fail "$1: got '$2', wanted '$3'"
}

# Loop devices attached by this script, detached at the end if still
# attached (detach LOOP does it earlier).
loops=()
detach ()
{
  local i
  for i in "${!loops[@]}"; do
    if [[ -z ${1:-} || ${loops[i]} == "$1" ]]; then
      losetup -d "${loops[i]}"
      unset "loops[i]"
    fi
  done
}
cleanup_fn detach

validate ()
{
  xmllint --noout --relaxng "$schema" "$1" 2>validate.err ||
    { cat validate.err >&2; fail "$1 does not match $schema"; }
}

# --- (a) This machine ---------------------------------------------------

# Without --disk every local disk is described; inside a container the
# disks may not be readable at all, and then the machine's facts are
# checked with an image file instead.
if $VG p2v-inventory -o auto.xml 2>auto.err; then
  validate auto.xml
  for d in $(xmllint --xpath '//disk/@path' auto.xml 2>/dev/null |
             sed 's/ path="\([^"]*\)"/\1/'); do
    [[ -b $d ]] || fail "auto.xml lists $d, not a block device"
  done
elif grep -qE ': open: (Operation not permitted|Permission denied)$' auto.err
then
  echo "note: the local disks cannot be opened here ($(cat auto.err));" \
       "checking the machine with an image file" >&2
else
  cat auto.err >&2
  fail "p2v-inventory without --disk"
fi

truncate -s 1M empty.img
$VG p2v-inventory --disk empty.img -o machine.xml
validate machine.xml
[[ ! -e machine.xml.part ]] || fail "machine.xml.part left behind"

present=$(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l)
check_eq "cpu count" "$(xp machine.xml /inventory/machine/cpu/@count)" "$present"
if [[ $(cat /sys/devices/system/cpu/possible) == "$(cat /sys/devices/system/cpu/present)" ]]
then
  check_eq "cpu count vs nproc --all" \
    "$(xp machine.xml /inventory/machine/cpu/@count)" "$(nproc --all)"
else
  echo "note: possible CPUs ($(cat /sys/devices/system/cpu/possible)) are" \
       "not the present ones: nproc --all counts the possible" >&2
fi
sockets=$(xp machine.xml /inventory/machine/cpu/@sockets)
cores=$(xp machine.xml /inventory/machine/cpu/@cores)
threads=$(xp machine.xml /inventory/machine/cpu/@threads)
[[ $((sockets * cores * threads)) -ge $(nproc) ]] ||
  fail "topology ${sockets}x${cores}x${threads} smaller than $(nproc) online CPUs"

mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
check_eq memory "$(xp machine.xml /inventory/machine/memory/@bytes)" \
  "$((mem_kib * 1024))"
check_eq hostname "$(xp machine.xml /inventory/machine/@hostname)" \
  "$(hostname)"
firmware=bios
[[ ! -d /sys/firmware/efi ]] || firmware=uefi
check_eq firmware "$(xp machine.xml /inventory/machine/@firmware)" "$firmware"

# NICs: exactly the interfaces with a device behind them, with the MAC
# that sysfs and ip(8) show, the driver, and the addresses ip(8) lists.
want_nics=$(cd /sys/class/net &&
  for n in *; do
    if [[ $n != lo && -e $n/device ]]; then echo "$n"; fi
  done | sort)
got_nics=$(xmllint --xpath '//nic/@name' machine.xml 2>/dev/null |
  sed 's/ name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort)
check_eq "NIC names" "$got_nics" "$want_nics"
for n in $want_nics; do
  mac=$(xp machine.xml "//nic[@name='$n']/@mac")
  check_eq "$n MAC (sysfs)" "$mac" "$(cat "/sys/class/net/$n/address")"
  if command -v ip >/dev/null; then
    check_eq "$n MAC (ip -br link)" "$mac" \
      "$(ip -br link show dev "$n" | awk '{ print $3 }')"
    for family in 4 6; do
      want=$(ip -o "-$family" addr show dev "$n" | awk '{ print $4 }' | sort)
      got=$(xmllint --xpath "//nic[@name='$n']/address[@family='ipv$family']" \
              machine.xml 2>/dev/null |
            sed -n 's/.*address="\([^"]*\)" prefix="\([0-9]*\)".*/\1\/\2/p' |
            sort)
      check_eq "$n IPv$family addresses" "$got" "$want"
    done
  fi
  driver=$(basename "$(readlink "/sys/class/net/$n/device/driver")")
  check_eq "$n driver" "$(xp machine.xml "//nic[@name='$n']/@driver")" "$driver"
done

# --- (b) Disk images ----------------------------------------------------

# A GPT disk: an ESP (vfat), an ext4 root, swap and an LVM PV, with every
# UUID and label chosen here.
table_id=8d7a4c1e-2f3b-4a5c-9d6e-7f8091a2b3c4
part_uuid=(""
  1b2c3d4e-0001-4000-8000-00000000aa01
  1b2c3d4e-0002-4000-8000-00000000aa02
  1b2c3d4e-0003-4000-8000-00000000aa03
  1b2c3d4e-0004-4000-8000-00000000aa04)
esp_id=1234ABCD
root_uuid=5f0e4a8c-6b1d-4c2e-9a3f-0d1e2f3a4b5c
swap_uuid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
pv_uuid=AbCdEf-0123-4567-89ab-cdef-0123-456789
vg=p2vkit_test_vg

truncate -s 64M gpt.img
sfdisk -q gpt.img <<EOF
label: gpt
label-id: $table_id
start=1MiB, size=16MiB, type=uefi, name="EFI System", uuid=${part_uuid[1]}
size=24MiB, type=linux, name=root, uuid=${part_uuid[2]}
size=8MiB, type=swap, uuid=${part_uuid[3]}
type=lvm, uuid=${part_uuid[4]}
EOF
# Each partition's start and size in bytes, from sfdisk.
declare -a start size
while read -r n s z; do
  start[n]=$((s * 512))
  size[n]=$((z * 512))
done < <(sfdisk -d gpt.img |
         sed -n 's/^gpt.img\([0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2 \3/p')
[[ ${#start[@]} == 4 ]] || fail "sfdisk made ${#start[@]} partitions"

# Filesystems are made in files of their own and copied into place.
mkfs.vfat -n ESP -i "$esp_id" -C esp.fs $((size[1] / 1024)) >/dev/null
truncate -s "${size[2]}" root.fs
mkfs.ext4 -q -F -U "$root_uuid" -L rootfs root.fs
truncate -s "${size[3]}" swap.fs
chmod 600 swap.fs
mkswap -U "$swap_uuid" -L swap0 swap.fs >/dev/null 2>&1
for p in 1:esp 2:root 3:swap; do
  dd if="${p#*:}.fs" of=gpt.img bs=64K seek="${start[${p%:*}]}" \
    oflag=seek_bytes conv=notrunc status=none
done

# The LVM PV needs a block device: a loop device over the partition.
lvm=no
if [[ $(id -u) == 0 ]] && command -v pvcreate >/dev/null &&
   pvloop=$(losetup --find --show --offset "${start[4]}" \
              --sizelimit "${size[4]}" gpt.img 2>/dev/null)
then
  loops+=("$pvloop")
  # Leave the host alone: no udev, no backups, no hints, only this device.
  lvm_config='devices { obtain_device_list_from_udev = 0 hints = "none" }
    activation { udev_sync = 0 udev_rules = 0 }
    backup { backup = 0 archive = 0 }'
  export DM_DISABLE_UDEV=1 LVM_SUPPRESS_FD_WARNINGS=1
  if pvcreate -q --devices "$pvloop" --config "$lvm_config" \
       -u "$pv_uuid" --norestorefile "$pvloop" </dev/null >lvm.log 2>&1 &&
     vgcreate -q --devices "$pvloop" --config "$lvm_config" \
       "$vg" "$pvloop" </dev/null >>lvm.log 2>&1
  then
    lvm=yes
  else
    echo "note: pvcreate/vgcreate failed, the LVM PV is not checked:" >&2
    cat lvm.log >&2
  fi
  detach "$pvloop"
else
  echo "note: no loop device (needs root and losetup): the LVM PV is" \
       "not checked" >&2
fi

before=$(stat -c '%s %Y %Z' gpt.img; sha256sum <gpt.img)
$VG p2v-inventory --disk gpt.img -o gpt.xml
validate gpt.xml
after=$(stat -c '%s %Y %Z' gpt.img; sha256sum <gpt.img)
[[ $before == "$after" ]] || fail "gpt.img changed"

d="//disk[@path='gpt.img']"
check_eq source "$(xp gpt.xml "$d/@source")" file
check_eq size "$(xp gpt.xml "$d/@size")" $((64 * 1024 * 1024))
check_eq "sector sizes" "$(xp gpt.xml "$d/@logical-sector-size")/$(xp gpt.xml "$d/@physical-sector-size")" 512/512
check_eq "no model" "$(xp gpt.xml "count($d/@model)")" 0
check_eq "table type" "$(xp gpt.xml "$d/table/@type")" gpt
check_eq "table uuid" "$(xp gpt.xml "$d/table/@uuid")" "$table_id"
check_eq "partitions" "$(xp gpt.xml "count($d/table/partition)")" 4
gpt_types=("" c12a7328-f81f-11d2-ba4b-00a0c93ec93b
           0fc63daf-8483-4772-8e79-3d69d8477de4
           0657fd6d-a4ab-43c4-84e5-0933c84b4f4f
           e6d6d379-f507-44c2-a23c-238f2a3df928)
flags=("" "boot esp" "" swap lvm)
names=("" "EFI System" root "" "")
for n in 1 2 3 4; do
  p="$d/table/partition[@number=$n]"
  check_eq "partition $n kind" "$(xp gpt.xml "$p/@kind")" primary
  check_eq "partition $n start" "$(xp gpt.xml "$p/@start")" "${start[n]}"
  check_eq "partition $n size" "$(xp gpt.xml "$p/@size")" "${size[n]}"
  check_eq "partition $n type" "$(xp gpt.xml "$p/@type")" "${gpt_types[n]}"
  check_eq "partition $n PARTUUID" "$(xp gpt.xml "$p/@uuid")" "${part_uuid[n]}"
  check_eq "partition $n name" "$(xp gpt.xml "$p/@name")" "${names[n]}"
  check_eq "partition $n flags" \
    "$( (xmllint --xpath "$p/flag/@name" gpt.xml 2>/dev/null || true) |
       sed 's/ name="\([^"]*\)"/\1/' | paste -sd ' ')" "${flags[n]}"
  # What blkid finds at the same place.
  for tag in TYPE UUID LABEL; do
    want=$(blkid -p -O "${start[n]}" -S "${size[n]}" -s "$tag" \
             -o value gpt.img || true)
    attr=$(tr '[:upper:]' '[:lower:]' <<<"$tag")
    check_eq "partition $n $tag" "$(xp gpt.xml "$p/filesystem/@$attr")" "$want"
  done
done
# And the values chosen above.
fs="$d/table/partition[@number=1]/filesystem"
check_eq "ESP" "$(xp gpt.xml "$fs/@type") $(xp gpt.xml "$fs/@uuid") $(xp gpt.xml "$fs/@label")" \
  "vfat 1234-ABCD ESP"
fs="$d/table/partition[@number=2]/filesystem"
check_eq "root" "$(xp gpt.xml "$fs/@type") $(xp gpt.xml "$fs/@uuid") $(xp gpt.xml "$fs/@label")" \
  "ext4 $root_uuid rootfs"
fs="$d/table/partition[@number=3]/filesystem"
check_eq "swap" "$(xp gpt.xml "$fs/@type") $(xp gpt.xml "$fs/@uuid") $(xp gpt.xml "$fs/@label")" \
  "swap $swap_uuid swap0"
fs="$d/table/partition[@number=4]/filesystem"
if [[ $lvm == yes ]]; then
  check_eq "PV" "$(xp gpt.xml "$fs/@type") $(xp gpt.xml "$fs/@uuid") $(xp gpt.xml "$fs/@vg")" \
    "LVM2_member $pv_uuid $vg"
else
  check_eq "no PV" "$(xp gpt.xml "count($fs)")" 0
fi

# The disk is only ever read: every attempt to open it (or, as libparted
# does, its partitions) for writing was refused.
if command -v strace >/dev/null && [[ -z $VG ]]; then
  # (LeakSanitizer cannot run under ptrace: check-asan's leak check is off
  # for this one run.)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=open,openat,creat,truncate -o trace.txt \
    p2v-inventory --disk gpt.img -o traced.xml
  if grep -E 'gpt\.img[0-9]*"' trace.txt |
     grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\(|truncate\(' |
     grep -v '= -1 EROFS'
  then
    fail "gpt.img was opened for writing"
  fi
  echo "refused write opens: $(grep -c 'EROFS' trace.txt)" >&2
  cmp gpt.xml traced.xml
fi

# An MBR disk with an extended partition and logical ones.
truncate -s 32M mbr.img
sfdisk -q mbr.img <<EOF
label: dos
label-id: 0x5eed1234
start=2048, size=16384, type=83, bootable
start=18432, size=32768, type=5
start=20480, size=12288, type=82
start=34816, type=83
EOF
sfdisk -d mbr.img >mbr.layout
truncate -s 6M mbr-swap.fs
chmod 600 mbr-swap.fs
mkswap -L logical0 mbr-swap.fs >/dev/null 2>&1
s5=$(sed -n 's/^mbr.img5 : start= *\([0-9]*\),.*/\1/p' mbr.layout)
dd if=mbr-swap.fs of=mbr.img bs=64K seek=$((s5 * 512)) oflag=seek_bytes \
  conv=notrunc status=none
$VG p2v-inventory --disk mbr.img -o mbr.xml
validate mbr.xml
d="//disk[@path='mbr.img']/table"
check_eq "MBR table" "$(xp mbr.xml "$d/@type") $(xp mbr.xml "$d/@uuid")" \
  "msdos 5eed1234"
check_eq "MBR partitions" \
  "$(xmllint --xpath "$d/partition/@number | $d/partition/@kind | $d/partition/@type | $d/partition/@uuid" mbr.xml |
     tr -s ' \n' ' ')" \
  ' number="1" kind="primary" type="0x83" uuid="5eed1234-01" number="2" kind="extended" type="0x05" uuid="5eed1234-02" number="5" kind="logical" type="0x82" uuid="5eed1234-05" number="6" kind="logical" type="0x83" uuid="5eed1234-06" '
check_eq "MBR boot flag" "$(xp mbr.xml "$d/partition[@number=1]/flag/@name")" boot
check_eq "logical swap" \
  "$(xp mbr.xml "$d/partition[@number=5]/filesystem/@type") $(xp mbr.xml "$d/partition[@number=5]/filesystem/@label")" \
  "swap logical0"
check_eq "nothing in the extended partition" \
  "$(xp mbr.xml "count($d/partition[@number=2]/filesystem)")" 0

# No partition table: the filesystem is the disk's own.
cp root.fs whole.img
$VG p2v-inventory --disk whole.img --disk empty.img -o whole.xml
validate whole.xml
check_eq "whole-disk table" "$(xp whole.xml "count(//disk[@path='whole.img']/table)")" 0
check_eq "whole-disk filesystem" \
  "$(xp whole.xml "//disk[@path='whole.img']/filesystem/@type") $(xp whole.xml "//disk[@path='whole.img']/filesystem/@uuid")" \
  "ext4 $root_uuid"
check_eq "empty disk" "$(xp whole.xml "count(//disk[@path='empty.img']/*)")" 0

# --- (c) The same image as a loop device --------------------------------

if [[ $(id -u) == 0 ]] &&
   loop=$(losetup --find --show --read-only gpt.img 2>/dev/null); then
  loops+=("$loop")
  $VG p2v-inventory --disk "$loop" -o loop.xml
  validate loop.xml
  check_eq "loop source" "$(xp loop.xml "//disk/@source")" device
  check_eq "loop size" "$(xp loop.xml "//disk/@size")" \
    "$(xp gpt.xml "//disk/@size")"
  [[ $(xmllint --xpath '//disk/table' loop.xml) == \
     "$(xmllint --xpath '//disk/table' gpt.xml)" ]] ||
    fail "the loop device's partitions differ from the image file's"
  detach "$loop"
else
  echo "note: no loop device (needs root and losetup): (c) not checked" >&2
fi

# --- Bad command lines and disks ------------------------------------------

expect_error "missing.img: open: No such file or directory" \
  p2v-inventory --disk missing.img
mkdir adir
expect_error "adir: not a regular file or block device" \
  p2v-inventory --disk adir
printf 'QFI\373' >fake.qcow2
truncate -s 1M fake.qcow2
expect_error "fake.qcow2: a qcow2 image" p2v-inventory --disk fake.qcow2
ln -s gpt.img link.img
expect_error "link.img: the same disk as gpt.img" \
  p2v-inventory --disk gpt.img --disk link.img
expect_error "gpt.xml: already exists (use --force" \
  p2v-inventory --disk gpt.img -o gpt.xml
$VG p2v-inventory --disk gpt.img -o gpt.xml --force
expect_error "unexpected argument 'gpt.img'" p2v-inventory gpt.img
expect_error "" p2v-inventory --no-such-option
# (Into files: grep -q on a pipe may leave early, and the SIGPIPE would
# fail the test under pipefail.)
p2v-inventory --help >help.out || fail "p2v-inventory --help: exit status $?"
grep -q '^Usage: p2v-inventory' help.out || fail "p2v-inventory --help: no usage"
p2v-inventory --version >version.out ||
  fail "p2v-inventory --version: exit status $?"
grep -q '^p2v-inventory (p2vkit) ' version.out ||
  fail "p2v-inventory --version: $(cat version.out)"

# --- (d) The parser -----------------------------------------------------

# What is written comes back unchanged.
for f in machine gpt mbr whole; do
  $VG "$parse" $f.xml $f.again.xml
  cmp $f.xml $f.again.xml || fail "$f.xml does not survive a round trip"
done

# The example of templates/inventory.md is valid and reads back the same.
sed -n '/^```xml$/,/^```$/p' "$top/templates/inventory.md" |
  sed '/^```/d' | sed -n '1,/^<\/inventory>$/p' >example.xml
validate example.xml
$VG "$parse" example.xml example.again.xml
cmp example.xml example.again.xml || fail "the example in inventory.md"

# bad NAME SUBSTRING: NAME.xml, made by the caller, is refused with one
# line that contains SUBSTRING.
bad ()
{
  expect_error "$2" $VG "$parse" "$1.xml"
}
# edit NAME SED-SCRIPT: NAME.xml is gpt.xml edited.
edit ()
{
  sed "$2" gpt.xml >"$1.xml"
}

{ cat gpt.xml; head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' ' '; } >big.xml
bad big "more than the limit of 4194304"
cat >laughs.xml <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE inventory [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<inventory version="1"><machine hostname="&g;" firmware="bios"/></inventory>
EOF
bad laughs "has a DTD"
cat >external.xml <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE inventory [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<inventory version="1"><machine hostname="&x;" firmware="bios"/></inventory>
EOF
bad external "has a DTD"
cat >external-dtd.xml <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE inventory SYSTEM "http://192.0.2.1/inventory.dtd">
<inventory version="1"/>
EOF
bad external-dtd "has a DTD"
# An undeclared entity is not well-formed; there is nothing to expand.
sed 's/hostname="[^"]*"/hostname="\&x;"/' machine.xml >undeclared.xml
bad undeclared "not well-formed XML"
edit version2 's/<inventory version="1">/<inventory version="2">/'
bad version2 "version '2' is not supported (only 1 is)"
edit noversion 's/<inventory version="1">/<inventory>/'
bad noversion "version '' is not supported"
printf '' >empty.xml
bad empty "inventory: empty"
printf '<inventory version="1">' >truncated.xml
bad truncated "not well-formed XML"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<inventory version="1" x="\377"/>\n' >latin1.xml
bad latin1 "not well-formed XML"
echo '<other/>' >other.xml
bad other "the root element is not <inventory>"

# Numbers out of range: some the schema catches, some only the program.
edit cpu0 's/count="[0-9]*"/count="0"/'
bad cpu0 "does not match the schema"
edit cpubig 's/count="[0-9]*"/count="65537"/'
bad cpubig "does not match the schema"
edit memhuge 's/bytes="[0-9]*"/bytes="9223372036854775808"/'
bad memhuge "does not match the schema"
edit overflow 's/ size="67108864"/ size="99999999999999999999999999"/'
bad overflow "does not match the schema"
edit leadingzero 's/number="2"/number="02"/'
bad leadingzero "does not match the schema"
edit sector 's/logical-sector-size="512"/logical-sector-size="520"/'
bad sector "does not match the schema"
edit pastend 's/ size="67108864"/ size="1048576"/'
bad pastend "go past the end of the disk (1048576 bytes)"
edit samenumber 's/number="3"/number="2"/'
bad samenumber "partition number 2 appears twice"
edit vgonext4 "s/label=\"rootfs\"/label=\"rootfs\" vg=\"$vg\"/"
bad vgonext4 "does not match the schema"
sed 's/<address family="ipv4" address="[^"]*"/<address family="ipv4" address="192.0.2.01"/' \
  machine.xml >badip.xml
if ! cmp -s machine.xml badip.xml; then
  bad badip "not a numeric ipv4 address in canonical form"
fi
# Counts: more disks, partitions or NICs than allowed.
{
  sed -n '1,/<disks>/p' machine.xml
  for i in $(seq 257); do
    echo "<disk path=\"d$i\" source=\"file\" size=\"0\" logical-sector-size=\"512\" physical-sector-size=\"512\"/>"
  done
  sed -n '/<\/disks>/,$p' machine.xml
} >manydisks.xml
bad manydisks "more than 256 <disk> in <disks>"
{
  sed -n '1,/<table /p' gpt.xml
  for i in $(seq 257); do
    echo "<partition number=\"$i\" kind=\"primary\" start=\"0\" size=\"0\"/>"
  done
  sed -n '/<\/table>/,$p' gpt.xml
} >manyparts.xml
bad manyparts "more than 256 <partition> in <table>"
{
  sed -n '1,/<nics/p' machine.xml | sed 's/<nics\/>/<nics>/'
  for i in 1 2; do
    echo '<nic name="eth9" state="up"/>'
  done
  echo '</nics></inventory>'
} >samenic.xml
bad samenic "'eth9' appears twice"
# Schema violations.
edit unknown 's/<disks>/<disks><usb\/>/'
bad unknown "does not match the schema"
edit noattr 's/ firmware="bios"//; s/ firmware="uefi"//'
bad noattr "does not match the schema"
edit newline 's/label="rootfs"/label="root\&#10;fs"/'
bad newline "does not match the schema"
edit emptylabel 's/label="rootfs"/label=""/'
bad emptylabel "does not match the schema"
edit namespace 's/<inventory version="1">/<inventory xmlns="urn:x" version="1">/'
bad namespace "the root element is not <inventory>"

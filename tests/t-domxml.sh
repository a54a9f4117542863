#!/bin/bash
# tier: fast
# timeout: 120
# p2v-domxml: the domain XML of hand-written inventories (tests/domxml/)
# compared, as canonical XML, with the golden files next to them: BIOS
# with one NIC, UEFI, four NICs (one whose MAC comes from the fixup
# report), a machine without an inventory (p2v-convert's, p2v-send
# --no-inventory's: the name from the disk, the firmware from its EFI
# system partition, the NICs and their generated MACs from the fixup
# report, as p2v-recv --convert runs it), three disks (qcow2 and raw), a fixup report whose kernels lack
# virtio (SATA and e1000), a bridge, --cpu-model (with a topology that
# does not multiply out), and a user's template whose own elements are
# kept.  Every document must pass virt-xml-validate and be defined by
# libvirt's test driver, and by its real QEMU driver (in-process,
# qemu:///embed) where that is installed.  Then the refusals (one line,
# exit status 1, no output file), -o with and without --force, and
# --type auto (the KVM probe) within its time limit.
#
# P2V_REGEN=1 tests/run-tests t-domxml rewrites the golden files: read
# every one of them before committing it.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-domxml ]] || skip "bin/p2v-domxml not built"
requires qemu-img --version
requires xmllint --version
requires virsh --version
requires virt-xml-validate --version
requires sfdisk --version

data=$srcdir/domxml

qemu-img create -q -f qcow2 sda.qcow2 64M
qemu-img create -q -f raw sdb.img 32M
qemu-img create -q -f qcow2 sdc.qcow2 16M
# A machine known only by its disk and its fixup report (p2v-convert, or
# p2v-send --no-inventory): GPT with an EFI system partition.
truncate -s 64M gpt.img
printf '%s\n' 'label: gpt' 'size=16MiB, type=uefi' 'type=linux' |
  sfdisk -q gpt.img || fail "sfdisk gpt.img failed"

# normalise FILE: the XML with the scratch directory as @DIR@, formatted.
normalise ()
{
  sed "s|$scratch/|@DIR@/|g" "$1" | xmllint --format -
}

# canonical FILE: as normalise, then canonical XML without white space.
canonical ()
{
  normalise "$1" | xmllint --noblanks --c14n -
}

# Real libvirt, when its QEMU driver is here: in-process (no daemon), in
# a directory of its own, as root with the user and group libvirt runs
# QEMU as.  Its first connection asks QEMU for its capabilities (a few
# seconds).
real_libvirt=
if [[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so &&
      $(id -u) == 0 ]] && getent passwd libvirt-qemu >/dev/null; then
  mkdir -p libvirt/etc
  printf '%s\n' 'user = "root"' 'group = "root"' 'security_driver = "none"' \
    'stdio_handler = "file"' >libvirt/etc/qemu.conf
  real_libvirt="qemu:///embed?root=$scratch/libvirt"
else
  echo "real libvirt: not checked (needs libvirt-daemon-driver-qemu," \
       "root and a libvirt-qemu user)"
fi

# check_libvirt FILE: virt-xml-validate, and a define by libvirt.
check_libvirt ()
{
  local name
  virt-xml-validate "$1" domain >/dev/null ||
    fail "$1: virt-xml-validate refuses it"
  virsh -q -c test:///default define "$1" >virsh.out 2>&1 || {
    cat virsh.out >&2
    fail "$1: the test driver of libvirt refuses it"
  }
  if [[ -n $real_libvirt ]]; then
    name=$(xmllint --xpath 'string(/domain/name)' "$1")
    virsh -q -c "$real_libvirt" "define $1; undefine --nvram $name" \
      >virsh.out 2>&1 || {
      cat virsh.out >&2
      fail "$1: libvirt's QEMU driver refuses it"
    }
  fi
}

# golden CASE ARGS...: p2v-domxml --type qemu ARGS... against
# tests/domxml/CASE.domain.xml.
golden ()
{
  local case=$1 want=$data/$1.domain.xml
  shift
  echo "+ p2v-domxml $*"
  $VG p2v-domxml --type qemu "$@" -o "$case.xml"
  check_libvirt "$case.xml"
  if [[ ${P2V_REGEN:-} == 1 ]]; then
    normalise "$case.xml" >"$want"
    echo "  regenerated $want"
    return 0
  fi
  [[ -f $want ]] || fail "$want: missing (P2V_REGEN=1 makes it)"
  if [[ $(canonical "$case.xml") != $(canonical "$want") ]]; then
    diff -u "$want" <(normalise "$case.xml") >&2 || true
    fail "$case: not the XML of $want"
  fi
}

golden bios --inventory "$data/bios.inventory.xml" --disk sda.qcow2
golden uefi --inventory "$data/uefi.inventory.xml" --disk sda.qcow2
golden nics4 --inventory "$data/nics4.inventory.xml" \
  --fixup-report "$data/nics4.report.xml" --disk sda.qcow2
golden disks3 --inventory "$data/disks3.inventory.xml" \
  --disk sda.qcow2 --disk sdb.img --disk "$scratch/sdc.qcow2"
golden novirtio --inventory "$data/bios.inventory.xml" \
  --fixup-report "$data/novirtio.report.xml" --disk sda.qcow2 --disk sdb.img
golden bridge --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  --bridge br0 --name bridged
golden cpumodel --inventory "$data/cpumodel.inventory.xml" --disk sda.qcow2 \
  --cpu-model Haswell-noTSX --network lan
golden template --inventory "$data/uefi.inventory.xml" --disk sda.qcow2 \
  --template "$data/template.xml" --firmware bios
golden noinventory --fixup-report "$data/noinventory.report.xml" \
  --disk gpt.img --bridge p2vkit0
golden kvm --inventory "$data/uefi.inventory.xml" --disk sda.qcow2 --type kvm

# The rules the golden files show, checked on their own too, so that a
# regenerated golden file cannot hide a broken one.
xpath () { xmllint --xpath "$2" "$1.xml"; }
[[ $(xpath noinventory 'string(/domain/name)') == gpt &&
   $(xpath noinventory 'string(/domain/os/@firmware)') == efi &&
   $(xpath noinventory 'count(/domain/devices/interface)') == 2 &&
   $(xpath noinventory 'string(/domain/devices/interface[1]/mac/@address)') == \
     02:5a:31:0c:7e:11 &&
   $(xpath noinventory 'string(/domain/devices/interface[2]/mac/@address)') == \
     06:5a:31:0c:7e:12 &&
   $(xpath noinventory 'count(/domain/devices/interface/model[@type="virtio"])') == 2 &&
   $(xpath noinventory 'string(/domain/devices/disk/target/@bus)') == virtio ]] ||
  fail "no inventory: not the disk's name, firmware from the GPT's" \
       "EFI system partition, the report's generated MACs on virtio NICs" \
       "and a virtio disk"
[[ $(xpath bios 'string(/domain/memory)') == 1048576 &&
   $(xpath uefi 'string(/domain/memory)') == 67108864 &&
   $(xpath cpumodel 'string(/domain/memory)') == 2930688 ]] ||
  fail "memory: not the inventory's bytes rounded up to MiB, in KiB"
[[ $(xpath uefi 'string(/domain/os/@firmware)') == efi &&
   $(xpath bios 'count(/domain/os/@firmware)') == 0 ]] ||
  fail "firmware: not efi for UEFI, BIOS for BIOS"
[[ $(xpath uefi 'string(/domain/cpu/topology/@sockets)') == 2 &&
   $(xpath cpumodel 'count(/domain/cpu/topology)') == 0 ]] ||
  fail "topology: wrong"
[[ $(xpath kvm 'string(/domain/@type)') == kvm &&
   $(xpath kvm 'string(/domain/cpu/@mode)') == host-model &&
   $(xpath uefi 'count(/domain/cpu/@mode)') == 0 &&
   $(xpath noinventory 'count(/domain/cpu)') == 0 &&
   $(xpath cpumodel 'string(/domain/cpu/model)') == Haswell-noTSX ]] ||
  fail "cpu: not host-model under KVM, QEMU's own model under TCG," \
       "--cpu-model's when given"
[[ $(xpath nics4 'count(/domain/devices/interface)') == 4 &&
   $(xpath nics4 'string(/domain/devices/interface[3]/mac/@address)') == \
     52:54:00:01:00:03 ]] ||
  fail "nics4: not 4 interfaces with the report's MAC for enp3s0"
[[ $(xpath disks3 'string(/domain/devices/disk[2]/driver/@type)') == raw &&
   $(xpath disks3 'string(/domain/devices/disk[3]/target/@dev)') == vdc &&
   $(xpath disks3 'count(/domain/devices/disk/boot)') == 1 ]] ||
  fail "disks3: wrong formats, targets or boot order"
[[ $(xpath novirtio 'string(/domain/devices/disk[2]/target/@dev)') == sdb &&
   $(xpath novirtio 'string(/domain/devices/disk[1]/target/@bus)') == sata &&
   $(xpath novirtio 'string(/domain/devices/interface/model/@type)') == \
     e1000 ]] ||
  fail "novirtio: not SATA and e1000"
[[ $(xpath template 'string(/domain/clock/@offset)') == localtime &&
   $(xpath template 'count(/domain/devices/video)') == 1 &&
   $(xpath template 'count(/domain/devices/disk[@device="cdrom"])') == 1 &&
   $(xpath template 'count(/domain/devices/disk)') == 2 &&
   $(xpath template 'count(/domain/uuid)') == 0 &&
   $(xpath template 'count(/domain/os/loader)') == 0 &&
   $(xpath template 'string(/domain/os/bootmenu/@enable)') == yes ]] ||
  fail "template: the user's elements not kept, or its own not replaced"

# --- refusals: one line, exit status 1, no output ----------------------------

bad_inventory=bad.inventory.xml
sed 's/firmware="bios"/firmware="coreboot"/' "$data/bios.inventory.xml" \
  >"$bad_inventory"
# A NIC without MAC, and no report to give one.
inv=$data/nics4.inventory.xml

refuse ()
{
  local expected=$1
  shift
  rm -f out.xml out.xml.part
  expect_error "$expected" p2v-domxml --type qemu -o out.xml "$@"
  [[ ! -e out.xml && ! -e out.xml.part ]] ||
    fail "p2v-domxml $*: left an output file"
}
refuse "--inventory: nothing.xml: No such file or directory" \
  --inventory nothing.xml --disk sda.qcow2
refuse "does not match the schema" --inventory "$bad_inventory" \
  --disk sda.qcow2
refuse "no --disk given" --inventory "$data/bios.inventory.xml"
refuse "--disk: nothing.qcow2: No such file or directory" \
  --inventory "$data/bios.inventory.xml" --disk nothing.qcow2
refuse "given twice (as sda.qcow2 too)" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  --disk "$scratch/sda.qcow2"
refuse "--type: 'xen': must be auto, kvm or qemu" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 --type xen
refuse "--firmware: 'uefi': must be auto, bios or efi" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 --firmware uefi
refuse "--name: 'a/b'" --inventory "$data/bios.inventory.xml" \
  --disk sda.qcow2 --name a/b
refuse "NIC 'enp3s0' has no MAC address in the inventory" \
  --inventory "$inv" --disk sda.qcow2
refuse "--network and --bridge" --inventory "$data/bios.inventory.xml" \
  --disk sda.qcow2 --network default --bridge br0
refuse "--template: nothing.xml: No such file or directory" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  --template nothing.xml
echo '<domain><name>x</name>' >broken.xml
refuse "--template: broken.xml: not well-formed XML" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  --template broken.xml
refuse "--fixup-report: $data/bios.inventory.xml: does not match the schema" \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  --fixup-report "$data/bios.inventory.xml"

# -o: an existing file is replaced only with --force.
echo old >out.xml
expect_error "-o: out.xml: already exists" p2v-domxml --type qemu -o out.xml \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2
[[ $(cat out.xml) == old ]] || fail "-o without --force changed out.xml"
$VG p2v-domxml --type qemu -o out.xml --force \
  --inventory "$data/bios.inventory.xml" --disk sda.qcow2
cmp -s out.xml bios.xml || fail "-o --force: not the same XML as before"

# --- --type auto ---------------------------------------------------------------

# The probe decides within its limit (500 ms, and slack for valgrind),
# the domain type is its verdict, and -v says why.  A KVM that works
# runs the probe's guest to its hlt; here, under nested virtualisation,
# it does not finish in time and the answer must be qemu.
start=$SECONDS
$VG p2v-domxml -v --inventory "$data/bios.inventory.xml" --disk sda.qcow2 \
  >auto.xml 2>auto.err
elapsed=$((SECONDS - start))
cat auto.err
[[ $elapsed -le 10 ]] || fail "--type auto took $elapsed s"
type=$(xmllint --xpath 'string(/domain/@type)' auto.xml)
grep -q "^p2v-domxml: type $type: the KVM probe: " auto.err ||
  fail "--type auto: -v does not say why the type is $type"
if grep -q "ran to its hlt" auto.err; then
  [[ $type == kvm ]] || fail "the probe worked, and the type is $type"
else
  [[ $type == qemu ]] || fail "the probe failed, and the type is $type"
fi
if [[ ! -w /dev/kvm ]]; then
  [[ $type == qemu ]] || fail "no usable /dev/kvm, and the type is $type"
fi

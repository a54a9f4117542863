# shellcheck shell=bash
# tests/guests/console.sh: reading a test guest's serial console log, for
# tests/guests/boot (qemu) and tests/guests/libvirt-boot (libvirt).
# Sourced; defines functions only.
#
# The guests of tests/guests/build-debian write a report between the lines
# P2V-REPORT-BEGIN and P2V-REPORT-END once they are up, then power off.

# console_dead_end LOG: print why the guest cannot get further, if the
# console says so (a kernel panic, an initramfs that gave up on its root
# device, emergency mode); false otherwise.
console_dead_end ()
{
  local log=$1 line
  if line=$(grep -a -m1 'Kernel panic' "$log"); then
    echo "kernel panic: ${line//$'\r'/}"
  elif line=$(grep -a -m1 'ALERT! .* does not exist' "$log") ||
       line=$(grep -a -m1 'Gave up waiting for root' "$log"); then
    echo "no root device: the initramfs gave up: ${line//$'\r'/}"
  elif grep -a -q -e 'dracut Warning: Could not boot' \
         -e 'dracut-initqueue.*timeout' "$log" &&
       line=$(grep -a -m1 -e 'does not exist' -e 'Could not boot' "$log"); then
    echo "no root device: dracut gave up: ${line//$'\r'/}"
  elif line=$(grep -a -m1 -e 'You are in emergency mode' \
                -e 'Entering emergency mode' \
                -e 'Cannot open access to console' "$log"); then
    echo "emergency mode: ${line//$'\r'/}"
  else
    return 1
  fi
}

# console_last_line LOG: the console's last line of text, quoted, without
# terminal escapes (a guest that hangs often says where).
console_last_line ()
{
  local line
  line=$(tr '\r' '\n' <"$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
           grep -a '[^[:space:]]' | tail -n 1 | cut -c1-100)
  if [[ -z $line ]]; then
    echo "nothing on the serial console (firmware or boot loader?)"
  else
    echo "last on the console: '$line'"
  fi
}

# console_has_report LOG: the report has been written in full.
console_has_report ()
{
  grep -a -q '^P2V-REPORT-END' "$1"
}

# console_report LOG: print the report's lines, without the markers and
# the tty's carriage returns.
console_report ()
{
  tr -d '\r' <"$1" |
    sed -n '/^P2V-REPORT-BEGIN/,/^P2V-REPORT-END/{/^P2V-REPORT-/d;p}'
}

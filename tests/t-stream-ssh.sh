#!/bin/bash
# tier: fast
# timeout: 300
# The ssh transport: p2v-send --to ssh://USER@127.0.0.1:PORT/DIR runs
# p2v-recv --stdio there, through a real sshd started by this test on
# loopback, and the image arrives identical.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires ssh-keygen
[[ -x /usr/sbin/sshd ]] || skip "needs sshd (openssh-server)"
[[ $(id -u) == 0 ]] || skip "needs root to run sshd"

ssh-keygen -q -t ed25519 -N '' -f host_key
ssh-keygen -q -t ed25519 -N '' -f user_key
cp user_key.pub authorized_keys
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >sshd_config <<EOT
ListenAddress 127.0.0.1
Port $port
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
/usr/sbin/sshd -f "$PWD/sshd_config" -E "$PWD/sshd.log"
cleanup_fn sh -c "kill \$(cat '$PWD/sshd.pid') 2>/dev/null"
for _ in $(seq 100); do [[ -s sshd.pid ]] && break; sleep 0.05; done

# p2v-send runs "ssh": this one knows the key and the test's sshd.
mkdir wrap
cat >wrap/ssh <<EOT
#!/bin/sh
exec /usr/bin/ssh -i '$PWD/user_key' -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "\$@"
EOT
chmod +x wrap/ssh
export PATH=$PWD/wrap:$PATH
export P2V_REMOTE_RECV=$bin/p2v-recv

"$srcdir/make-disk" --size 40M --data 0.5 --seed 41 disk.raw
mkdir out
$VG p2v-send disk.raw --to "ssh://root@127.0.0.1:$port$PWD/out" --name viassh -q
qemu-img check -q out/viassh/viassh-disk.qcow2
qemu-img compare -q disk.raw out/viassh/viassh-disk.qcow2
[[ -f out/viassh/inventory.xml ]] || fail "no inventory over ssh"

# An error on the far side comes back as one line.
expect_error "already exists" \
  p2v-send disk.raw --to "ssh://root@127.0.0.1:$port$PWD/out" --name viassh

#!/bin/bash
# tier: fast
# timeout: 60
# v2p-send, v2p-recv and v2p-write refuse what they cannot do with one
# line and exit status 1, before touching anything: missing or unknown
# destinations, bad options, --grow where the receiver decides, a disk
# that does not exist, a sender that sends nothing.
. "$(dirname "$0")/functions.sh"

"$srcdir/make-disk" --size 4M --data 0.5 --seed 5 disk.raw

expect_error "--to is required" v2p-send disk.raw
expect_error "no IMAGE given" v2p-send --to tcp://127.0.0.1:1
expect_error "'out.img': expected tcp://HOST:PORT" \
  v2p-send disk.raw --to out.img
expect_error "--compress: 'zlib'" v2p-send disk.raw --to - --compress zlib
expect_error "--compress: 'zstd:99'" v2p-send disk.raw --to - --compress zstd:99
expect_error "--bandwidth: 'fast'" v2p-send disk.raw --to - --bandwidth fast
expect_error "--grow: only for ssh://" \
  v2p-send disk.raw --to tcp://127.0.0.1:1 --grow
expect_error "--machine-readable: stdout carries the stream" \
  v2p-send disk.raw --to - --machine-readable
expect_error "missing.img: open" v2p-send missing.img --to tcp://127.0.0.1:1
expect_error "connect" v2p-send disk.raw --to tcp://127.0.0.1:1
expect_error "--token-file: nofile" \
  v2p-send disk.raw --to tcp://127.0.0.1:1 --token-file nofile

expect_error "--disk is required" v2p-recv --listen 0
expect_error "give one of --listen or --stdio" v2p-recv --disk /dev/null
expect_error "/nonexistent: No such file or directory" \
  v2p-recv --listen 0 --disk /nonexistent
expect_error "/dev/null: not a regular file or block device" \
  v2p-recv --listen 0 --disk /dev/null
expect_error "--machine-readable: stdout carries the stream with --stdio" \
  v2p-recv --stdio --disk disk.raw --machine-readable
expect_error "--listen: 'nope'" v2p-recv --listen nope --disk disk.raw
expect_error "unexpected argument 'extra'" \
  v2p-recv --listen 0 --disk disk.raw extra

# A sender that says nothing: --stdio ends at once, the disk untouched.
before=$(sha256sum <disk.raw)
expect_error "stdin: closed before saying hello" \
  v2p-recv --stdio --disk disk.raw </dev/null
[[ $(sha256sum <disk.raw) == "$before" ]] || fail "the disk changed"

expect_error "expected IMAGE and TARGET" v2p-write disk.raw
expect_error "--size: 'big'" v2p-write disk.raw out.img --size big
expect_error "out.img: too small" v2p-write disk.raw out.img --size 1M
[[ ! -e out.img ]] || fail "a refused target was made"

#!/bin/sh
# Mount the BPF filesystem at /sys/fs/bpf if it is not there yet.
set -eu
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = "bpf_fs" ]; then
	exit 0
fi
mkdir -p /sys/fs/bpf
mount -t bpf bpf /sys/fs/bpf
echo "mounted bpffs at /sys/fs/bpf"

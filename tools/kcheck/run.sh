#!/bin/sh
# tools/kcheck/run.sh - load the XDP program on Debian 12's 6.1 kernel (or
# any other Debian kernel package) in a throw-away qemu VM.
#
# For each kernel package: `apt-get download` it (cached in build/kcheck/),
# take only its vmlinuz (nothing is installed, /boot is not touched), boot
# it in qemu with an initramfs made here (busybox-static as /init, the
# loaders below and the shared libraries they need), and read the serial
# console.  Inside the VM:
#   1. build/tools/kcheck/kcheck_load  26 sets of knobs, verified insns or
#      the verifier log tail                               (KCHECK-LOAD)
#   2. build/tools/bench/bench_xdp -r 1000 -n 1            (KCHECK-BENCH)
#   3. build/tests/bpf/test_* (the `make test-bpf` tier)   (KCHECK-TEST)
# and one closing line "KCHECK-RESULT: PASS|FAIL <uname -r>".
#
# Usage: sh tools/kcheck/run.sh [--quick] [--no-tests] [KERNEL_PKG...]
#   --quick      kcheck_load with one set of knobs, no bench, no tests
#   --no-tests   kcheck_load and bench_xdp only
#   KERNEL_PKG   e.g. linux-image-6.1.0-56-amd64; default: what Debian 12's
#                linux-image-amd64 depends on now (also $KCHECK_KERNELS)
# Environment: KCHECK_TIMEOUT (seconds per VM, default 300 with KVM, 1500
# without), KCHECK_MEM (MiB, default 1024), KCHECK_NO_KVM=1 (TCG only),
# KCHECK_KVM_PROBE (seconds a KVM guest gets to reach init before the run
# falls back to TCG, default 60; nested KVM can hang in early boot).
# Needs root (apt-get).  Builds nothing: run `make kcheck-build` first
# (`make check-kernels` does both).  Exit 0 when every kernel passed.
# Logs: build/kcheck/<kernel>.console.log.
set -eu
cd "$(dirname "$0")/../.." || exit 2

QUICK=0 TESTS=1
PKGS="${KCHECK_KERNELS:-}"
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 TESTS=0 ;;
	--no-tests) TESTS=0 ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
	*) PKGS="$PKGS $a" ;;
	esac
done

WORK=build/kcheck
mkdir -p "$WORK/debs"
export DEBIAN_FRONTEND=noninteractive

say() { echo "kcheck: $*"; }

# --- host tools ---------------------------------------------------------------
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v cpio >/dev/null 2>&1 || need="$need cpio"
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	need="$need busybox-static"
if [ -n "$need" ]; then
	say "installing$need"
	apt-get update -qq >/dev/null 2>&1 || true
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ -z "$(echo "$PKGS" | tr -d ' ')" ]; then
	PKGS=$(apt-cache depends linux-image-amd64 2>/dev/null |
	       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$PKGS" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		PKGS=$(apt-cache depends linux-image-amd64 |
		       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	fi
	[ -n "$PKGS" ] || { say "cannot resolve linux-image-amd64"; exit 2; }
fi

LOADER=build/tools/kcheck/kcheck_load
BENCH=build/tools/bench/bench_xdp
BINS="$LOADER"
[ "$QUICK" = 1 ] || BINS="$BINS $BENCH"
if [ "$TESTS" = 1 ]; then
	for t in build/tests/bpf/test_*; do
		[ -x "$t" ] && BINS="$BINS $t"
	done
fi
for b in $BINS; do
	[ -x "$b" ] || { say "missing $b: run 'make kcheck-build'"; exit 2; }
done

# --- the initramfs (the same for every kernel) ----------------------------------
ROOT=$(mktemp -d /tmp/kcheck-root.XXXXXX)
QPID=""
cleanup() {
	if [ -n "$QPID" ]; then
		kill "$QPID" 2>/dev/null || true
		sleep 1
		kill -9 "$QPID" 2>/dev/null || true
	fi
	rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$ROOT/bin" "$ROOT/k" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp"
cp /bin/busybox "$ROOT/bin/busybox"
# /bin/sh is dash when the host has it: busybox's sh runs its own applets
# before PATH, so system("ip ...") in the tests would get busybox's ip
if [ -x /usr/bin/dash ]; then
	cp /usr/bin/dash "$ROOT/bin/sh"
	ldd /usr/bin/dash | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
else
	ln -s busybox "$ROOT/bin/sh"
fi
for b in $BINS; do
	mkdir -p "$ROOT/k/$(dirname "$b")"
	cp "$b" "$ROOT/k/$b"
	# every shared library, at the path the loader looks it up by
	ldd "$b" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
done
if [ "$TESTS" = 1 ]; then
	# iproute2's ip (busybox's lacks nodad, nud and veth peers), first
	# in PATH, with its libraries, for test_xdp_relay's veth pairs
	mkdir -p "$ROOT/usr/sbin"
	cp /usr/sbin/ip "$ROOT/usr/sbin/ip"
	ldd /usr/sbin/ip | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
	mkdir -p "$ROOT/k/tests/data"
	cp -r tests/data/pcap "$ROOT/k/tests/data/"
	# the BPF objects the tests load as fixtures (make test-build)
	mkdir -p "$ROOT/k/build/tests/fixtures"
	cp build/tests/fixtures/*.bpf.o "$ROOT/k/build/tests/fixtures/"
fi
QOPT=""
[ "$QUICK" = 1 ] && QOPT=-q

cat > "$ROOT/init" <<EOF
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin HOME=/tmp LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmp /tmp
ulimit -l unlimited
cd /k
echo
K=\$(uname -r)
echo "KCHECK-KERNEL: \$K"
# veth is a module in Debian's kernels: the per-kernel archive brings it
for m in /lib/modules/\$K/kernel/drivers/net/veth.ko; do
	[ -e "\$m" ] && insmod "\$m"
done
[ -e /sys/kernel/btf/vmlinux ] && echo "kcheck: BTF present" || echo "kcheck: no /sys/kernel/btf/vmlinux"
ok=1
echo "KCHECK-STEP: kcheck_load"
build/tools/kcheck/kcheck_load $QOPT || ok=0
if [ -x $BENCH ]; then
	echo "KCHECK-STEP: bench_xdp"
	if $BENCH -r 1000 -n 1; then echo "KCHECK-BENCH: PASS"; else echo "KCHECK-BENCH: FAIL"; ok=0; fi
fi
for t in build/tests/bpf/test_*; do
	[ -x "\$t" ] || continue
	echo "KCHECK-STEP: \$t"
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "\$t" > /tmp/t.log 2>&1
	rc=\$?
	p=\$(grep -E '^ok ' /tmp/t.log | grep -vc '# SKIP')
	s=\$(grep -Ec '^(not )?ok .*# SKIP' /tmp/t.log)
	f=\$(grep -E '^not ok ' /tmp/t.log | grep -vc '# SKIP')
	if [ "\$rc" -ne 0 ] || [ "\$f" -ne 0 ] || [ "\$p" -eq 0 ]; then
		echo "KCHECK-TEST: FAIL \$t: \$p passed, \$f failed, \$s skipped, exit \$rc"
		grep -E '^not ok ' /tmp/t.log | head -n 20
		tail -n 40 /tmp/t.log
		ok=0
	else
		echo "KCHECK-TEST: PASS \$t: \$p passed, \$s skipped"
	fi
done
if [ \$ok = 1 ]; then echo "KCHECK-RESULT: PASS \$K"; else echo "KCHECK-RESULT: FAIL \$K"; fi
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"
INITRD="$WORK/initrd.gz"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD"
[ "$(stat -c %s "$INITRD")" -gt 1000000 ] || { say "building the initramfs failed"; exit 2; }
say "initramfs $(du -h "$INITRD" | cut -f1): $(echo $BINS | wc -w) programs"

# --- one VM per kernel ----------------------------------------------------------
TCG="-accel tcg -cpu max"
TCG_TMO=${KCHECK_TIMEOUT:-1500}
# arch-capabilities off: qemu 7.2 under a nested KVM aborts on "failed to
# set MSR 0x10a" with a plain -cpu host.
KVM="-enable-kvm -cpu host,-arch-capabilities"
KVM_TMO=${KCHECK_TIMEOUT:-300}
USE_KVM=0
if [ "${KCHECK_NO_KVM:-0}" != 1 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	USE_KVM=1
fi
PROBE=${KCHECK_KVM_PROBE:-60}

# boot_vm ACCEL TIMEOUT PROBE VMLINUZ LOG: run one VM, console to LOG.
# With PROBE > 0, give up (status 3) when the init's first line has not
# appeared after PROBE seconds.  Status: qemu's (124 on the timeout).
boot_vm() {
	nice timeout --kill-after=10 "$2" qemu-system-x86_64 $1 \
		-m "${KCHECK_MEM:-1024}" -smp 1 -nographic -no-reboot \
		-nodefaults -serial stdio -kernel "$4" -initrd "$KINITRD" \
		-append 'console=ttyS0 panic=-1 quiet' </dev/null >"$5" 2>&1 &
	QPID=$!
	if [ "$3" -gt 0 ]; then
		n=0
		while kill -0 "$QPID" 2>/dev/null && ! grep -q 'KCHECK-KERNEL' "$5"; do
			n=$((n + 1))
			if [ "$n" -gt "$3" ]; then
				kill "$QPID" 2>/dev/null || true
				wait "$QPID" 2>/dev/null || true
				QPID=""
				return 3
			fi
			sleep 1
		done
	fi
	r=0
	wait "$QPID" || r=$?
	QPID=""
	# CRs and the terminal escapes SeaBIOS and the kernel print
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' "$5" > "$5.tmp" &&
		mv "$5.tmp" "$5"
	return $r
}

fails=0
for pkg in $PKGS; do
	deb=$(ls "$WORK/debs/${pkg}_"*.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		say "downloading $pkg"
		(cd "$WORK/debs" && apt-get download "$pkg" >/dev/null 2>&1) ||
			{ say "apt-get download $pkg failed"; fails=$((fails + 1)); continue; }
		deb=$(ls "$WORK/debs/${pkg}_"*.deb | tail -n 1)
	fi
	kdir="$WORK/$pkg"
	if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
		mkdir -p "$kdir"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" --wildcards './boot/vmlinuz-*'
	fi
	# this kernel's veth.ko in a second cpio archive after the common
	# one (the kernel unpacks concatenated archives in turn)
	if ! ls "$kdir"/lib/modules/*/kernel/drivers/net/veth.ko >/dev/null 2>&1; then
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" --wildcards \
			'./lib/modules/*/kernel/drivers/net/veth.ko' 2>/dev/null || true
	fi
	KINITRD="$WORK/$pkg.initrd.gz"
	cp "$INITRD" "$KINITRD"
	if [ -d "$kdir/lib" ]; then
		(cd "$kdir" && find lib | cpio -o -H newc --quiet | gzip -1) >> "$KINITRD"
	fi
	vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
	log="$WORK/$pkg.console.log"
	start=$(date +%s)
	rc=3
	if [ "$USE_KVM" = 1 ]; then
		say "booting $(basename "$deb") under KVM (timeout ${KVM_TMO}s), console: $log"
		rc=0
		boot_vm "$KVM" "$KVM_TMO" "$PROBE" "$vmlinuz" "$log" || rc=$?
		if [ "$rc" = 3 ] || grep -q 'failed to set MSR' "$log"; then
			say "the KVM guest did not reach init in ${PROBE}s (nested KVM?): KVM off from now on"
			USE_KVM=0 rc=3
		fi
	fi
	if [ "$rc" = 3 ]; then
		say "booting $(basename "$deb") under TCG (timeout ${TCG_TMO}s), console: $log"
		rc=0
		boot_vm "$TCG" "$TCG_TMO" 0 "$vmlinuz" "$log" || rc=$?
	fi
	secs=$(( $(date +%s) - start ))
	grep -E '^(KCHECK-|kcheck: |verifier processed insns)' "$log" |
		grep -v '^KCHECK-STEP' | sed 's/^/  /' || true
	if grep -q '^KCHECK-RESULT: PASS' "$log"; then
		say "$pkg: PASS in ${secs}s"
	else
		[ "$rc" = 124 ] && say "$pkg: timed out"
		if ! grep -q '^KCHECK-RESULT' "$log"; then
			say "no result line; last lines of the console:"
			tail -n 30 "$log" | sed 's/^/  | /'
		else
			say "from the first failure on (at most 100 lines):"
			sed -n '/FAIL\|--- verifier log/,$p' "$log" |
				grep -v '^KCHECK-STEP' | head -n 100 | sed 's/^/  | /'
		fi
		say "$pkg: FAIL in ${secs}s (log: $log)"
		fails=$((fails + 1))
	fi
done
[ "$fails" = 0 ] && say "all kernels PASS" || say "$fails kernel(s) FAIL"
exit $(( fails > 0 ))

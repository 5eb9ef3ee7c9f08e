#!/bin/sh
# Install every Debian package sipdlg needs to build, run and test.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -eu

# SIP over TLS: OpenSSL to build and run; openssl and stunnel for the tests
# (sipp has no TLS: stunnel stands in front of it).
TLS_PKGS="libssl-dev openssl stunnel4"

PKGS="clang llvm lld libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev
default-libmysqlclient-dev libjansson-dev libcmocka-dev mariadb-server
mariadb-client sip-tester iproute2 libclang-rt-14-dev jq tcpdump
pkg-config make gcc valgrind util-linux socat groff-base man-db
galera-4 rsync"
# Several boxes: keepalived moves the virtual address between boxes in the
# cluster e2e test (its notify hook is tools/cluster/sipdlg-vrrp-notify).
PKGS="$PKGS keepalived"
# The Prometheus endpoint: libmicrohttpd serves /metrics; its e2e test
# checks the output with promtool and scrapes it with a real Prometheus
# (both from the prometheus package) and curl.
PKGS="$PKGS libmicrohttpd-dev prometheus curl"
# The benchmarks' small helpers (soak.sh's floods, bench-cluster's SIP
# probe and control-socket poller) are Python scripts.
PKGS="$PKGS python3"

missing=""
for p in $PKGS $TLS_PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps the install small; policy-rc.d stops the
# package scripts from starting a system-wide MariaDB we do not use (tests
# run their own server on a private socket).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.sipdlg
if [ ! -e /usr/sbin/policy-rc.d ]; then
	cp /usr/sbin/policy-rc.d.sipdlg /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
rm -f /usr/sbin/policy-rc.d.sipdlg
apt-get install -y -qq --no-install-recommends $missing

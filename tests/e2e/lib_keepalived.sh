# tests/e2e/lib_keepalived.sh - keepalived (VRRP) inside a test's network
# namespaces, moving a virtual address between boxes (bash; source after
# tests/e2e/lib.sh and e2e_init).
#
#   ka_init                         (once, after e2e_init)
#   ka_config FILE NAME IFACE SRC PEER HOOK RELEASE_DIR NODE:VRID:VIP:PRIO...
#                                   (one vrrp_instance per node's address;
#                                   the hook is called with NODE appended)
#   ka_start NAME NS FILE || fail   (keepalived --dont-fork in NS)
#   ka_has_vip NS IFACE VIP         (the address is on that box now)
#   ka_stop NAME                    (TERM: it gives the address away)
#   ka_kill NAME                    (KILL, both processes: a dead box)
#
# Every instance starts as BACKUP with nopreempt: the higher priority
# becomes MASTER at start, and a box that comes back does not take the
# address back from the one that holds it (the operator moves it, after
# `sipdlgctl cluster handback`, by writing 1 and then 0 to the holder's
# release file of that node: a track_file of weight 0 puts the instance
# in FAULT while it holds a non-zero value).  VRRP goes by unicast_peer (no multicast
# needed across the test's bridge).  Every keepalived is stopped at exit,
# pass or fail; pid files live in $E2E_TMP and are removed before a
# restart (lab-notes.md: a zombie named in a pid file blocks the start).

declare -A KA_PIDS=()

ka_config() {	# FILE NAME IFACE SRC PEER HOOK RELEASE_DIR NODE:VRID:VIP:PRIO...
	local f=$1 name=$2 ifc=$3 src=$4 peer=$5 hook=$6 rel=$7 i node vrid vip prio
	shift 7
	cat >"$f" <<EOK
global_defs {
	router_id $name
	script_user root
	enable_script_security
}
EOK
	for i in "$@"; do
		IFS=: read -r node vrid vip prio <<<"$i"
		cat >>"$f" <<EOK
# "echo 1 > $rel/release-node$node" gives node $node's address away
# (FAULT); "echo 0" makes this box a backup for it again.
track_file release_node$node {
	file "$rel/release-node$node"
	weight 0
	init_file 0 overwrite
}
vrrp_instance node$node {
	state BACKUP
	nopreempt
	interface $ifc
	virtual_router_id $vrid
	priority $prio
	advert_int 1
	unicast_src_ip $src
	unicast_peer {
		$peer
	}
	virtual_ipaddress {
		$vip/32 dev $ifc
	}
	track_file {
		release_node$node
	}
	notify_master "$hook $node"
}
EOK
	done
}

# The pid of the VRRP child, from its pid file.
_ka_child() { cat "$E2E_TMP/ka-$1.vrrp.pid" 2>/dev/null; }

ka_start() {	# NAME NS FILE
	local name=$1 ns=$2 conf=$3
	rm -f "$E2E_TMP/ka-$name.pid" "$E2E_TMP/ka-$name.vrrp.pid"
	( exec nsenter --net="/run/netns/$ns" keepalived --dont-fork \
		--log-console --log-detail --vrrp --use-file="$conf" \
		--pid="$E2E_TMP/ka-$name.pid" \
		--vrrp_pid="$E2E_TMP/ka-$name.vrrp.pid" ) \
		>>"$E2E_TMP/ka-$name.log" 2>&1 </dev/null &
	KA_PIDS[$name]=$!
	wait_for 5 test -s "$E2E_TMP/ka-$name.vrrp.pid" || {
		echo "# keepalived '$name' did not start; its log:"
		tail -n 20 "$E2E_TMP/ka-$name.log" | sed 's/^/#   /'
		return 1
	}
}

ka_has_vip() {	# NS IFACE VIP
	ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null | grep -q " $3/"
}

_ka_signal() {	# SIGNAL NAME
	local pid=${KA_PIDS[$2]:-} child i
	[ -n "$pid" ] || return 0
	child=$(_ka_child "$2")
	kill "-$1" "$pid" 2>/dev/null
	[ "$1" = KILL ] && [ -n "$child" ] && kill -KILL "$child" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "KA_PIDS[$2]"
}
ka_stop() { _ka_signal TERM "$1"; }
ka_kill() { _ka_signal KILL "$1"; }

ka_stop_all() {
	local n
	for n in "${!KA_PIDS[@]}"; do ka_kill "$n"; done
}

# ka_init: after e2e_init (whose trap it extends).
ka_init() {
	local prev
	prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	if [ -n "$prev" ]; then
		# shellcheck disable=SC2064
		trap "ka_stop_all; $prev" EXIT
	else
		trap ka_stop_all EXIT
	fi
}

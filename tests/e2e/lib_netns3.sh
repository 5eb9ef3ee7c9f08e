# tests/e2e/lib_netns3.sh - the three-namespace topology of the kernel relay
# tests and benchmarks (source it after lib.sh and e2e_init):
#
#   caller ns                  box ns                       callee ns
#   N3_VC  <--- veth --->  N3_VBC   [sipdlgd]   N3_VBE  <--- veth --->  N3_VE
#   N3_C4 / N3_C6          lo: N3_BOX4 / N3_BOX6                 N3_E4 / N3_E6
#
# sipdlgd listens on the box's loopback addresses N3_BOX4 and N3_BOX6 (one
# address per family: its Record-Route has one entry), reached from both
# sides through the box's veths, where its XDP program is attached (native
# mode).  The caller and callee ends carry a trivial XDP_PASS program: a
# veth delivers XDP_TX / redirected frames only to a peer with NAPI on.
# Forwarding is on in the box (bpf_fib_lookup refuses to forward from an
# interface where it is off).  Everything is removed by lib.sh's EXIT
# trap (the namespaces take their veths with them).
#
# netns3_setup : create it all; 1 (with a not_ok) on failure.
# Sets N3_CALLER N3_BOX N3_CALLEE (namespace names), the interface names
# and the addresses below.

N3_PASS_OBJ="$E2E_ROOT/build/tests/fixtures/xdp_pass.bpf.o"

netns3_setup() {
	local r=$(( $$ % 200 + 20 )) h
	h=$(printf '%x' $(( $$ % 60000 + 1000 )))
	N3_CALLER="${E2E_ID}c" N3_BOX="${E2E_ID}b" N3_CALLEE="${E2E_ID}e"
	N3_VC="${E2E_ID}vc" N3_VBC="${E2E_ID}vbc"
	N3_VE="${E2E_ID}ve" N3_VBE="${E2E_ID}vbe"
	# Addresses exist only inside the namespaces of this test.
	N3_C4=10.$r.1.2 N3_BC4=10.$r.1.1
	N3_E4=10.$r.2.2 N3_BE4=10.$r.2.1
	N3_BOX4=10.$r.0.1
	N3_C6=fd00:$h:1::2 N3_BC6=fd00:$h:1::1
	N3_E6=fd00:$h:2::2 N3_BE6=fd00:$h:2::1
	N3_BOX6=fd00:$h::1
	if [ ! -f "$N3_PASS_OBJ" ]; then
		not_ok "three namespaces" "missing $N3_PASS_OBJ (make test-build)"
		return 1
	fi
	netns_add "$N3_CALLER" && netns_add "$N3_BOX" && netns_add "$N3_CALLEE" ||
		{ not_ok "three namespaces created"; return 1; }
	{
		veth_pair "$N3_CALLER" "$N3_VC" "$N3_BOX" "$N3_VBC" &&
		veth_pair "$N3_CALLEE" "$N3_VE" "$N3_BOX" "$N3_VBE" &&
		netns_addr "$N3_CALLER" "$N3_VC" "$N3_C4/24" "$N3_C6/64" &&
		netns_addr "$N3_BOX" "$N3_VBC" "$N3_BC4/24" "$N3_BC6/64" &&
		netns_addr "$N3_BOX" "$N3_VBE" "$N3_BE4/24" "$N3_BE6/64" &&
		netns_addr "$N3_BOX" lo "$N3_BOX4/32" "$N3_BOX6/128" &&
		netns_addr "$N3_CALLEE" "$N3_VE" "$N3_E4/24" "$N3_E6/64" &&
		ip -n "$N3_CALLER" route add default via "$N3_BC4" &&
		ip -n "$N3_CALLER" -6 route add default via "$N3_BC6" &&
		ip -n "$N3_CALLEE" route add default via "$N3_BE4" &&
		ip -n "$N3_CALLEE" -6 route add default via "$N3_BE6" &&
		in_ns "$N3_BOX" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
		ip -n "$N3_CALLER" link set dev "$N3_VC" xdpdrv obj "$N3_PASS_OBJ" sec xdp &&
		ip -n "$N3_CALLEE" link set dev "$N3_VE" xdpdrv obj "$N3_PASS_OBJ" sec xdp
	} >"$E2E_TMP/netns3.log" 2>&1 || {
		not_ok "three namespaces created" "$(cat "$E2E_TMP/netns3.log")"
		return 1
	}
	# Neighbours resolved before the first packet: bpf_fib_lookup passes
	# a packet up (relay_pass_fib) while the neighbour is unknown.
	in_ns "$N3_CALLER" ping -c1 -W2 "$N3_BC4" >/dev/null 2>&1
	in_ns "$N3_CALLEE" ping -c1 -W2 "$N3_BE4" >/dev/null 2>&1
	in_ns "$N3_CALLER" ping -6 -c1 -W2 "$N3_BC6" >/dev/null 2>&1
	in_ns "$N3_CALLEE" ping -6 -c1 -W2 "$N3_BE6" >/dev/null 2>&1
	ok "three namespaces: caller | box | callee, XDP_PASS on the peers"
}

# netns3_config FILE SOCK PIN RELAY(true|false) CALLEE_PORT [ACK(true|false)]:
# sipdlgd for the box: listens on N3_BOX4 and [N3_BOX6] port 5060, XDP
# native on both box veths, relay on or off; an initial INVITE for
# sip:callee@... goes to the callee namespace (its IPv4 or IPv6 address
# by the R-URI's user part: callee / callee6), sequential requests follow
# their Route set; ACK sets xdp.relay.ack (default: the default, true).
# Log level N3_LOG_LEVEL (default debug).
netns3_config() {
	local file=$1 sock=$2 pin=$3 relay=$4 cport=$5 ack=${6:+, ack: $6}
	cat >"$file" <<CFG
listen: ["udp:$N3_BOX4:5060", "udp:[$N3_BOX6]:5060"]
dialog:
  default_timeout: 120
xdp:
  interfaces: [$N3_VBC, $N3_VBE]
  mode: native
  pin_path: $pin
  relay: { enabled: $relay$ack }
control:
  socket: $sock
log:
  level: ${N3_LOG_LEVEL:-debug}
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: callee }
    actions: [ dlg_manage, { forward: "udp:$N3_E4:$cport" } ]
  - match: { method: INVITE, in_dialog: false, ruri_user: callee6 }
    actions: [ dlg_manage, { forward: "udp:[$N3_E6]:$cport" } ]
CFG
}

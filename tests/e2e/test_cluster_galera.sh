#!/bin/bash
# e2e (cluster): two sipdlgd boxes, each on its own node of a real
# three-node MariaDB Galera cluster (tests/e2e/lib_galera.sh), each in
# its own network namespace on a bridge with the root namespace, where
# sipp runs.  Each node has a virtual address (VIP1 node 1's, A's home;
# VIP2 node 2's, B's home) that keepalived in the boxes
# (tests/e2e/lib_keepalived.sh) moves; its notify_master hook is the
# shipped tools/cluster/sipdlg-vrrp-notify.
#   - a cluster-wide profile: 2 calls of eve through box A, a third of
#     eve through box B refused with 486; staleness of B's view measured;
#   - 200 (+5) calls up on A while Galera node 3 is stopped; A dies
#     (link down, keepalived and sipdlgd killed -9); VIP1 moves to B,
#     whose hook runs `sipdlgctl cluster takeover 1`: every call listed on
#     B, all end by their own BYE through B, timeouts of A's calls fire on
#     B (BYE both ways), eve's counts now B's own, rows deleted;
#   - A restarted is fenced (loads none of the calls B ended); cluster
#     handback 1: A loads eve's 2; Galera node 3 rejoins with the same rows;
#   - takeover while A runs: A fences itself; sipdlgctl end on B ends
#     A's calls of eve;
#   - A dies again with no keepalived on B: B takes over by itself after
#     takeover_after; then its keepalived takes VIP1 (the hook loads
#     nothing twice); dan's BYEs through B end the last calls; no row left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_galera.sh"
. "$(dirname "$0")/lib_keepalived.sh"

e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "cluster e2e" "jq missing"; e2e_finish; }
command -v keepalived >/dev/null 2>&1 || { skip "cluster e2e" "keepalived missing (make deps)"; e2e_finish; }
e2e_port_block BASE 23000 100 60 || { not_ok "a free block of 60 ports"; e2e_finish; }

T_START=$(date +%s%N)
galera_start "$BASE"; rc=$?
if [ "$rc" -eq 2 ]; then
	skip "three-node Galera cluster" "galera-4/mariadb-server/rsync missing (make deps)"
	e2e_finish
fi
[ "$rc" -eq 0 ] || { not_ok "three-node Galera cluster starts"; e2e_finish; }
ok "three-node Galera cluster up in $(( ($(date +%s%N) - T_START) / 1000000 )) ms"

# ---- network: boxes A and B on a bridge with the root namespace --------
# keepalived (VRRP by unicast) moves the VIPs between the boxes' eth0; each
# sipdlgd listens on both VIPs (ip_nonlocal_bind: a box binds a VIP before
# it has it) and advertises its own node's.
NA="sdga$$"; NB="sdgb$$"; VA="sdva$$"; VB="sdvb$$"; BR="sdbr$$"
VIP=10.77.0.100; VIP2=10.77.0.101; RA=10.77.0.1; AA=10.77.0.2; AB=10.77.0.3
E2E_LINKS=()
netns_add "$NA" && netns_add "$NB" || { not_ok "namespaces"; e2e_finish; }
cleanup_net() { ip link del "$VA" 2>/dev/null; ip link del "$VB" 2>/dev/null; ip link del "$BR" 2>/dev/null; }
prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2064
trap "$prev; cleanup_net" EXIT
ka_init
ip link add "$BR" type bridge && ip addr add "$RA/24" dev "$BR" && ip link set "$BR" up ||
	{ not_ok "bridge"; e2e_finish; }
for x in "A $NA $VA $AA" "B $NB $VB $AB"; do
	set -- $x
	ip link add "$3" type veth peer name eth0 netns "$2" &&
	ip link set "$3" master "$BR" && ip link set "$3" up &&
	ip -n "$2" addr add "$4/24" dev eth0 && ip -n "$2" link set eth0 up &&
	nsenter --net="/run/netns/$2" sysctl -qw net.ipv4.ip_nonlocal_bind=1 ||
		{ not_ok "veth of box $1"; e2e_finish; }
done
vip_on() { ka_has_vip "$1" eth0 "$VIP"; }	# VIP1 on box NS
vip2_on() { ka_has_vip "$1" eth0 "$VIP2"; }
HOOK="$E2E_ROOT/tools/cluster/sipdlg-vrrp-notify"
ka_box() {	# NAME NS SRC PEER PRIORITY1 PRIORITY2 SOCK
	ka_config "$E2E_TMP/ka-$1.conf" "sipdlg-$1" eth0 "$3" "$4" \
		"$HOOK --socket $7 --ctl $SIPDLGCTL --log $E2E_TMP/notify-$1.log --release-dir $E2E_TMP/rel-$1" \
		"$E2E_TMP/rel-$1" "1:77:$VIP:$5" "2:78:$VIP2:$6"
}
release() { echo "$3" >"$E2E_TMP/rel-$1/release-node$2"; }	# BOX NODE 0|1

U1=$((BASE + 40)); U2=$((BASE + 41)); U3=$((BASE + 46)); U4=$((BASE + 48))
C1=$((BASE + 42)); C2=$((BASE + 43)); C3=$((BASE + 44)); C4=$((BASE + 45))
C5=$((BASE + 47)); C6=$((BASE + 49))
tlog() { echo "# +$(( ($(date +%s%N) - T_START) / 1000000 )) ms: $*"; }
NCALLS=200

box_config() {	# FILE NODE BACKUP OWN_ADDR GALERA_NODE SOCK OWN_VIP
	cat >"$1" <<EOC
listen: ["udp:$VIP:5060", "udp:$VIP2:5060", "udp:$4:5060"]
advertise: "$7:5060"
xdp: {enabled: false}
dialog:
  db_mode: 1
  db_url: "$(galera_url "$5")"
  send_bye: true
  profiles_with_value: [caller]
database: {required: true}
cluster:
  node_id: $2
  nodes: 2
  address: "$4:5060"
  heartbeat_interval: 1
  takeover_after: 6
  backup_of: [$3]
  profiles: [caller]
control:
  socket: $6
log: {level: info}
routes:
  - name: "cluster limit: 2 calls per caller"
    match: { method: INVITE, in_dialog: false, ruri_user: lim }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - if: { profile_size: [caller, "\$fU"], gt: 2 }
        then: [ { reply: "486 Busy Here" } ]
      - forward: "udp:$RA:$U4"
  - name: "held calls"
    match: { method: INVITE, in_dialog: false, ruri_user: hold }
    actions: [ dlg_manage, { forward: "udp:$RA:$U1" } ]
  - name: "many held calls"
    match: { method: INVITE, in_dialog: false, ruri_user: many }
    actions: [ dlg_manage, { forward: "udp:$RA:$U3" } ]
  - name: "calls that time out after 7 s"
    match: { method: INVITE, in_dialog: false, ruri_user: wait }
    actions: [ dlg_manage, { timeout: 7 }, { forward: "udp:$RA:$U2" } ]
EOC
}
SA="$E2E_TMP/a.sock"; SB="$E2E_TMP/b.sock"
box_config "$E2E_TMP/a.yaml" 1 2 "$AA" 1 "$SA" "$VIP"
box_config "$E2E_TMP/b.yaml" 2 1 "$AB" 2 "$SB" "$VIP2"
check "both box configs pass --check" "$SIPDLGD" -c "$E2E_TMP/a.yaml" --check
ctl() { local s=$1; shift; "$SIPDLGCTL" --socket "$s" --json "$@"; }
n_dlg() { ctl "$1" list 2>/dev/null | jq 'length'; }
n_dlg_is() { [ "$(n_dlg "$1")" = "$2" ]; }
psize() { ctl "$1" profile-size caller "$2" 2>/dev/null; }
psize_is() { [ "$(psize "$1" "$2")" = "$3" ]; }
serves() { ctl "$1" cluster status 2>/dev/null | jq -c '.serves'; }
serves_is() { [ "$(serves "$1")" = "$2" ]; }
rows() { galera_sql "$1" "SELECT COUNT(*) FROM dialog"; }
# count and a digest of the rows' ids, Call-IDs and states
digest() { galera_sql "$1" "SELECT CONCAT(COUNT(*), '/', COALESCE(SUM(CRC32(CONCAT_WS(':', hash_entry, hash_id, callid, state))), 0)) FROM dialog"; }
rows_is() { [ "$(rows "$1")" = "$2" ]; }
notified() { grep -q "$2" "$E2E_TMP/notify-$1.log" 2>/dev/null; }
kill_box_a() {	# a whole box dying: link down, keepalived and sipdlgd killed
	ip -n "$NA" link set eth0 down
	ka_kill a
	kill -KILL "$PA"; wait "$PA" 2>/dev/null; forget_pid "$PA"
}
revive_box_a() {	# its link back, without the address it had
	ip -n "$NA" addr del "$VIP/32" dev eth0 2>/dev/null
	ip -n "$NA" addr del "$VIP2/32" dev eth0 2>/dev/null
	ip -n "$NA" link set eth0 up
}

# A database without config/schema/cluster.sql: refused at start, named.
galera_sql 1 "CREATE DATABASE nocl" &&
	"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock 1)" -u root nocl <"$E2E_ROOT/config/schema/mysql.sql"
sed "s|/sipdlg\"|/nocl\"|" "$E2E_TMP/a.yaml" >"$E2E_TMP/nocl.yaml"
out=$(timeout 20 nsenter --net="/run/netns/$NA" "$SIPDLGD" -c "$E2E_TMP/nocl.yaml" 2>&1); rc=$?
case "$rc:$out" in
0:*|124:*) not_ok "a box whose database lacks the cluster tables does not start" "rc $rc: $out" ;;
*cluster.sql*) ok "a box whose database lacks the cluster tables does not start (names cluster.sql)" ;;
*) not_ok "the refusal names config/schema/cluster.sql" "$out" ;;
esac

start_daemon boxa "$E2E_TMP/a.yaml" "$NA" || { not_ok "box A starts"; e2e_finish; }
PA=$DAEMON_PID
start_daemon boxb "$E2E_TMP/b.yaml" "$NB" || { not_ok "box B starts"; e2e_finish; }
PB=$DAEMON_PID
if wait_for 5 serves_is "$SA" "[1]" && wait_for 5 serves_is "$SB" "[2]"; then
	ok "both boxes up, each serving its own node"
else
	not_ok "both boxes up, each serving its own node" "A $(serves "$SA") B $(serves "$SB")"
fi
# keepalived: A becomes MASTER of VIP1 (priority 150 against 100), B of VIP2.
mkdir -p "$E2E_TMP/rel-a" "$E2E_TMP/rel-b"
ka_box a "$NA" "$AA" "$AB" 150 100 "$SA"; ka_box b "$NB" "$AB" "$AA" 100 150 "$SB"
ka_start a "$NA" "$E2E_TMP/ka-a.conf" && ka_start b "$NB" "$E2E_TMP/ka-b.conf" ||
	{ not_ok "keepalived starts on both boxes"; e2e_finish; }

# ---- bad requests: a clear error, nothing changes ----------------------
bad() {	# NAME EXPECTED-TEXT ARGS...
	local name=$1 want=$2 out; shift 2
	out=$("$SIPDLGCTL" --socket "$SB" "$@" 2>&1) && { not_ok "$name" "succeeded: $out"; return; }
	case "$out" in *"$want"*) ok "$name" ;; *) not_ok "$name" "$out" ;; esac
}
bad "takeover of this node itself is refused" "not another node" cluster takeover 2
bad "takeover of a node outside the cluster is refused" "not another node" cluster takeover 9
bad "handback of a node B does not hold is refused" "not held by this node" cluster handback 1
bad "cluster takeover without a number is a usage error" "NODE must be" cluster takeover x
bad "cluster takeover --unless-alive without a number is a usage error" "MS must be" \
	cluster takeover 1 --unless-alive soon
bad "cluster takeover --unless-alive of a node whose heartbeat is fresh is refused" \
	"node 1 is up (heartbeat" cluster takeover 1 --unless-alive 3000
bad "an RPC takeover with a negative unless_alive_ms is refused" "unless_alive_ms must be" \
	rpc cluster.takeover 1 -1
out=$("$HOOK" --socket "$SB" --ctl "$SIPDLGCTL" x 2>&1)
[ $? = 2 ] && case "$out" in *"must be a node id"*) true ;; *) false ;; esac &&
	ok "the notify hook refuses a NODE that is not a number" || not_ok "notify hook usage" "$out"
out=$("$HOOK" --socket "$SB" --ctl "$SIPDLGCTL" --log "$E2E_TMP/hook.log" --alive-ms 3000 1 2>&1); rc=$?
if [ "$rc" = 1 ] && grep -q "node 1 is up (heartbeat" "$E2E_TMP/hook.log" && serves_is "$SB" "[2]"; then
	ok "the notify hook does not take over a node whose heartbeat is fresh"
else
	not_ok "the notify hook leaves a live node alone" "rc $rc $out $(cat "$E2E_TMP/hook.log")"
fi
serves_is "$SB" "[2]" && [ "$(galera_sql 1 "SELECT taken_over_by FROM sipdlg_nodes WHERE node_id = 1")" = 0 ] &&
	ok "after the refusals nothing changed" || not_ok "after the refusals nothing changed" "$(serves "$SB")"
# Whichever keepalived starts first may take both addresses; the hook does
# not take a node over whose heartbeat is fresh, and gives its address
# back (release file), so each box ends up with its own.
if wait_for 8 vip_on "$NA" && wait_for 15 vip2_on "$NB" &&
   wait_for 3 notified a "MASTER for node 1: this box's own address" &&
   wait_for 3 notified b "MASTER for node 2: this box's own address" &&
   ! vip_on "$NB" && ! vip2_on "$NA" && serves_is "$SA" "[1]" && serves_is "$SB" "[2]"; then
	ok "keepalived: A is MASTER of VIP1, B of VIP2; their hooks take nothing over"
else
	not_ok "A MASTER of VIP1, B of VIP2" "$(cat "$E2E_TMP"/notify-*.log 2>&1)" "$(tail -5 "$E2E_TMP/ka-a.log")"
fi

# ---- cluster-wide profile -----------------------------------------------
tlog "cluster-wide profile"
SIPP_TIMEOUT=160 sipp_start uas_eve cl_uas_wait_bye.xml -i "$RA" -t u1 -p "$U4" -m 2
UASE=$SIPP_PID
SIPP_TIMEOUT=160 sipp_start eve cl_uac_wait_bye.xml "$VIP:5060" -i "$RA" -t u1 -p "$C1" \
	-s lim -key from_user eve -m 2 -r 10
EVE=$SIPP_PID
wait_for 8 psize_is "$SA" eve 2
t0=$(date +%s%N)
if wait_for 3 psize_is "$SB" eve 2; then
	STALE=$(( ($(date +%s%N) - t0) / 1000000 ))
	ok "box B counts box A's 2 calls of eve within $STALE ms (staleness)"
else
	not_ok "box B counts box A's calls of eve" "A $(psize "$SA" eve) B $(psize "$SB" eve)"
fi
# The RPCs: dlg.profile_get_size counts the cluster (with or without a
# value); dlg.profile_list lists the dialogs this box holds (none of A's).
if [ "$(ctl "$SB" profile-size caller 2>/dev/null)" = 2 ] &&
   [ "$(ctl "$SB" profile-list caller eve | jq length)" = 0 ] &&
   [ "$(ctl "$SA" profile-list caller eve | jq length)" = 2 ]; then
	ok "on B, dlg.profile_get_size counts A's calls; dlg.profile_list lists only B's own"
else
	not_ok "profile RPCs on B" "size $(ctl "$SB" profile-size caller 2>&1) list $(ctl "$SB" profile-list caller eve 2>&1)"
fi
SIPP_TIMEOUT=10 sipp_start busy cl_uac_busy.xml "$VIP2:5060" -i "$RA" -t u1 -p "$C2" \
	-s lim -key from_user eve -m 1
sipp_wait "$SIPP_PID" 12 && ok "a third call of eve on box B gets 486 (limit 2 across the cluster)" ||
	not_ok "a third call of eve on box B gets 486" "$(sipp_diag busy)"

# ---- 200 calls on A; a Galera node stopped meanwhile; A dies ------------
tlog "$NCALLS calls"
SIPP_TIMEOUT=120 sipp_start uas_hold db_uas_hold.xml -i "$RA" -t u1 -p "$U1" -m 3
UASH=$SIPP_PID
SIPP_TIMEOUT=40 sipp_start uas_wait dlg_uas_wait_bye.xml -i "$RA" -t u1 -p "$U2" -m 2
UASW=$SIPP_PID
SIPP_TIMEOUT=60 sipp_start uas_many db_uas_hold.xml -i "$RA" -t u1 -p "$U3" -m "$NCALLS"
UASM=$SIPP_PID
SIPP_TIMEOUT=60 sipp_start many db_uac_hold.xml "$VIP:5060" -i "$RA" -t u1 -p "$C5" \
	-s many -key from_user many -m "$NCALLS" -r 100 -d 10000
MANY=$SIPP_PID
# Galera node 3 (neither box's) leaves while the calls are set up.
galera_stop_node 3
SIPP_TIMEOUT=40 sipp_start carol db_uac_hold.xml "$VIP:5060" -i "$RA" -t u1 -p "$C3" \
	-s hold -key from_user carol -m 1 -d 6000
CAROL=$SIPP_PID
SIPP_TIMEOUT=40 sipp_start tim dlg_uac_wait_bye.xml "$VIP:5060" -i "$RA" -t u1 -p "$C4" \
	-s wait -key from_user tim -m 2 -r 10
TIM=$SIPP_PID
N_A=$((NCALLS + 5))
if wait_for 10 n_dlg_is "$SA" "$N_A" && wait_for 10 rows_is 2 "$N_A" && rows_is 1 "$N_A"; then
	ok "$N_A calls up on box A ($NCALLS + 5), all rows on Galera nodes 1 and 2 while node 3 is stopped"
else
	not_ok "$N_A calls up on box A" "A $(n_dlg "$SA") rows n1 $(rows 1) n2 $(rows 2)"
fi
# Node 3 comes back while the calls are up and then ended: it catches up
# by IST (a clean stop saved its position) while the rest goes on.
galera_restart_node 3
kill_box_a
t0=$(date +%s%N)
tlog "box A killed; Galera node 3 restarting"
if wait_for 10 vip_on "$NB"; then
	ok "keepalived moves VIP1 to box B $(( ($(date +%s%N) - t0) / 1000000 )) ms after box A died"
else
	not_ok "VIP1 moves to box B" "$(tail -5 "$E2E_TMP/ka-b.log")"
fi
if wait_for 5 notified b "node 2 took it over: loaded=$N_A" && n_dlg_is "$SB" "$N_A" &&
   serves_is "$SB" "[1,2]"; then
	ok "B's notify hook ran cluster takeover 1: all $N_A calls listed on B ($(sed -n 's/.*ms=//p' "$E2E_TMP/notify-b.log" | tail -1) ms)"
else
	not_ok "B's notify hook took node 1 over" "$(cat "$E2E_TMP/notify-b.log" 2>&1); B lists $(n_dlg "$SB")"
fi
wait_for 2 psize_is "$SB" eve 2 && [ "$(ctl "$SB" cluster status | jq '.profiles.caller.local')" = 2 ] &&
	ok "eve's 2 calls now count on box B as its own" ||
	not_ok "eve's calls count on box B" "$(ctl "$SB" cluster status)"
sipp_wait "$TIM" 15 && sipp_wait "$UASW" 5 &&
	ok "B sends the timeout BYEs of A's calls (both ways)" ||
	not_ok "timeouts of taken-over calls fire on B" "$(sipp_diag tim uas_wait)"
sipp_wait "$CAROL" 15 &&
	ok "a caller's BYE through box B ends a taken-over call" ||
	not_ok "BYE through box B" "$(sipp_diag carol)"
if sipp_wait "$MANY" 30 && sipp_wait "$UASM" 5; then
	ok "all $NCALLS calls end by their own BYE (A's cookies in the Route) through box B"
else
	not_ok "the $NCALLS calls end through box B" "$(sipp_diag many uas_many)"
fi
wait_for 10 rows_is 1 2 && wait_for 10 n_dlg_is "$SB" 2 &&
	ok "their rows are deleted (2 left, eve's)" ||
	not_ok "rows of ended taken-over calls deleted" "rows $(rows 1), B $(n_dlg "$SB")"
tlog "box A comes back"

# ---- A comes back: fenced, resurrects nothing; handback --------------------
revive_box_a
start_daemon boxa "$E2E_TMP/a.yaml" "$NA" || { not_ok "box A restarts"; e2e_finish; }
PA=$DAEMON_PID
ka_start a "$NA" "$E2E_TMP/ka-a.conf" || not_ok "keepalived restarts on box A"
if [ "$(ctl "$SA" cluster status | jq .fenced)" = true ] && n_dlg_is "$SA" 0; then
	ok "box A restarted is fenced: its dialogs are on B, it loads none"
else
	not_ok "box A restarted is fenced" "$(ctl "$SA" cluster status) A lists $(n_dlg "$SA")"
fi
H=$(ctl "$SB" cluster handback 1 2>&1)
if wait_for 4 n_dlg_is "$SA" 2 && n_dlg_is "$SB" 0 && wait_for 3 serves_is "$SA" "[1]"; then
	ok "cluster handback 1: B unloads 2, A loads eve's 2, none of the $((N_A - 2)) B ended ($(printf '%s' "$H" | jq -r .message))"
else
	not_ok "cluster handback 1" "$H; A $(n_dlg "$SA") B $(n_dlg "$SB")"
fi
same_rows() { [ "$(digest 3)" = "$(digest 1)" ] && [ "$(digest 2)" = "$(digest 1)" ]; }
if wait_for 40 galera_ready 3 && wait_for 5 rows_is 3 2 && wait_for 3 same_rows &&
   [ "$(galera_sql 3 "SELECT taken_over_by FROM sipdlg_nodes WHERE node_id = 1")" = 0 ]; then
	ok "Galera node 3, stopped during the $NCALLS calls, rejoins with the same rows as the others ($(digest 3))"
else
	not_ok "Galera node 3 rejoins with the same rows" "n1 $(digest 1) n2 $(digest 2) n3 $(digest 3 2>&1)"
fi
# ---- taken over while alive: A fences itself ------------------------------
# (B holds VIP1: a box sends the BYEs of node 1's dialogs from VIP1, which
# it can only do while it has it.)
T=$(ctl "$SB" cluster takeover 1 2>&1)
if wait_for 4 n_dlg_is "$SA" 0 && [ "$(ctl "$SA" cluster status | jq .fenced)" = true ] &&
   n_dlg_is "$SB" 2; then
	ok "sipdlgctl cluster takeover 1 while A runs: A unloads its 2 dialogs and fences itself"
else
	not_ok "A fences itself when taken over alive" "$T; A $(n_dlg "$SA") B $(n_dlg "$SB")"
fi
ids=$(ctl "$SB" list | jq -r '.[] | "\(.h_entry) \(.h_id)"')
ENDS=$(printf '%s\n' "$ids" | while read -r he hi; do ctl "$SB" end "$he" "$hi" 2>&1; done)
if sipp_wait "$EVE" 10 && sipp_wait "$UASE" 5 && wait_for 5 n_dlg_is "$SB" 0 &&
   wait_for 5 rows_is 1 0 && wait_for 3 psize_is "$SB" eve 0; then
	ok "sipdlgctl end on B ends A's 2 calls of eve (BYE both ways, rows deleted, count 0)"
else
	not_ok "sipdlgctl end on B of A's calls" "ids $ids: $ENDS" "$(tail -n 20 "$E2E_TMP/boxb.log")" "$(sipp_diag eve uas_eve)"
fi
H=$(ctl "$SB" cluster handback 1 2>&1)
wait_for 4 serves_is "$SA" "[1]" && serves_is "$SB" "[2]" ||
	not_ok "second handback" "$H; A $(serves "$SA")"

# VIP1 back to A (nopreempt: the operator moves it): B's release file for
# node 1 puts B's instance in FAULT, A takes the address.  It stays 1
# until the automatic takeover (B must not take VIP1 by keepalived).
release b 1 1
wait_for 6 vip_on "$NA" && ! vip_on "$NB" && vip2_on "$NB" && ok "release file: VIP1 is back on box A, VIP2 stays on B" ||
	not_ok "VIP1 back on box A" "$(tail -5 "$E2E_TMP/ka-a.log")"

# ---- automatic takeover (no keepalived on B: the heartbeat alone) ----------
tlog "automatic takeover"
SIPP_TIMEOUT=60 sipp_start dan db_uac_hold.xml "$VIP:5060" -i "$RA" -t u1 -p "$C6" \
	-s hold -key from_user dan -m 2 -r 10 -d 16000
DAN=$SIPP_PID
wait_for 5 n_dlg_is "$SA" 2 || not_ok "dan's 2 calls up on box A" "A $(n_dlg "$SA")"
kill_box_a
t0=$(date +%s%N)
if serves_is "$SB" "[2]" && wait_for 12 serves_is "$SB" "[1,2]" && wait_for 2 n_dlg_is "$SB" 2; then
	ok "box B takes node 1 over by itself $(( ($(date +%s%N) - t0) / 1000000 )) ms after box A died (takeover_after 6 s)"
else
	not_ok "automatic takeover" "$(ctl "$SB" cluster status)"
fi
: >"$E2E_TMP/notify-b.log"
release b 1 0
if wait_for 8 vip_on "$NB" && wait_for 3 notified b "node 2 took it over: loaded=0"; then
	ok "B's keepalived takes VIP1 (release 0); its hook's takeover of a node B holds loads nothing twice"
else
	not_ok "B's hook after the automatic takeover" "$(cat "$E2E_TMP/notify-b.log")"
fi
sipp_wait "$DAN" 40 && sipp_wait "$UASH" 5 &&
	ok "dan's BYEs through box B end the calls it took over by itself" ||
	not_ok "dan's calls end through B" "$(sipp_diag dan uas_hold)"
wait_for 5 rows_is 3 0 && ok "no dialog row left on any Galera node" ||
	not_ok "no dialog row left" "$(rows 3)"
ok "cluster e2e took $(( ($(date +%s%N) - T_START) / 1000000000 )) s"
e2e_finish

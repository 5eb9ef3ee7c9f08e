#!/bin/bash
# e2e (cluster): two sipdlgd boxes, each on its own node of a real
# three-node MariaDB Galera cluster (tests/e2e/lib_galera.sh), each in
# its own network namespace with the same virtual address (VIP) on its
# loopback; the root namespace routes the VIP to one box at a time (what
# keepalived does by moving the address).  sipp runs in the root
# namespace.
#   - a cluster-wide profile: 2 calls of eve through box A, a third of
#     eve through box B refused with 486; staleness of B's view measured;
#   - kill -9 A; VIP to B; cluster takeover 1 on B: every call listed on
#     B, a caller's BYE through B ends its call (row deleted), timeouts
#     of A's calls fire on B (BYE both ways), eve's counts now B's own;
#   - A restarted is fenced (loads nothing); cluster handback 1 on B:
#     A loads them;
#   - kill -9 A again: B takes over by itself after takeover_after;
#     eve's BYEs through B end the last calls; no row left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_galera.sh"

e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "cluster e2e" "jq missing"; e2e_finish; }
e2e_port_block BASE 23000 100 60 || { not_ok "a free block of 60 ports"; e2e_finish; }

T_START=$(date +%s%N)
galera_start "$BASE"; rc=$?
if [ "$rc" -eq 2 ]; then
	skip "three-node Galera cluster" "galera-4/mariadb-server/rsync missing (make deps)"
	e2e_finish
fi
[ "$rc" -eq 0 ] || { not_ok "three-node Galera cluster starts"; e2e_finish; }
ok "three-node Galera cluster up in $(( ($(date +%s%N) - T_START) / 1000000 )) ms"

# ---- network: boxa/boxb namespaces, VIP on each one's loopback --------
NA="sdga$$"; NB="sdgb$$"; VA="sdva$$"; VB="sdvb$$"
VIP=10.77.9.9; RA=10.77.1.1; RB=10.77.2.1; AA=10.77.1.2; AB=10.77.2.2
E2E_LINKS=()
netns_add "$NA" && netns_add "$NB" || { not_ok "namespaces"; e2e_finish; }
for x in "A $NA $VA $RA $AA" "B $NB $VB $RB $AB"; do
	set -- $x
	ip link add "$3" type veth peer name eth0 netns "$2" &&
	ip addr add "$4/24" dev "$3" && ip link set "$3" up &&
	ip -n "$2" addr add "$5/24" dev eth0 && ip -n "$2" link set eth0 up &&
	ip -n "$2" addr add "$VIP/32" dev lo &&
	ip -n "$2" route add default via "$4" || { not_ok "veth of box $1"; e2e_finish; }
done
vip_to() { ip route replace "$VIP/32" via "$1"; }
vip_to "$AA"
cleanup_vip() { ip route del "$VIP/32" 2>/dev/null; ip link del "$VA" 2>/dev/null; ip link del "$VB" 2>/dev/null; }
prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2064
trap "$prev; cleanup_vip" EXIT

U1=$((BASE + 40)); U2=$((BASE + 41)); C1=$((BASE + 42)); C2=$((BASE + 43))
C3=$((BASE + 44)); C4=$((BASE + 45))

box_config() {	# FILE NODE BACKUP OWN_ADDR GALERA_NODE SOCK
	cat >"$1" <<EOC
listen: ["udp:$VIP:5060", "udp:$4:5060"]
advertise: "$VIP:5060"
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
  takeover_after: 3
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
      - forward: "udp:$RA:$U1"
  - name: "held calls"
    match: { method: INVITE, in_dialog: false, ruri_user: hold }
    actions: [ dlg_manage, { forward: "udp:$RA:$U1" } ]
  - name: "calls that time out after 4 s"
    match: { method: INVITE, in_dialog: false, ruri_user: wait }
    actions: [ dlg_manage, { timeout: 4 }, { forward: "udp:$RA:$U2" } ]
EOC
}
SA="$E2E_TMP/a.sock"; SB="$E2E_TMP/b.sock"
box_config "$E2E_TMP/a.yaml" 1 2 "$AA" 1 "$SA"
box_config "$E2E_TMP/b.yaml" 2 1 "$AB" 2 "$SB"
check "both box configs pass --check" "$SIPDLGD" -c "$E2E_TMP/a.yaml" --check
ctl() { local s=$1; shift; "$SIPDLGCTL" --socket "$s" --json "$@"; }
n_dlg() { ctl "$1" list 2>/dev/null | jq 'length'; }
n_dlg_is() { [ "$(n_dlg "$1")" = "$2" ]; }
psize() { ctl "$1" profile-size caller "$2" 2>/dev/null; }
psize_is() { [ "$(psize "$1" "$2")" = "$3" ]; }
serves() { ctl "$1" cluster status 2>/dev/null | jq -c '.serves'; }
serves_is() { [ "$(serves "$1")" = "$2" ]; }
rows() { galera_sql "$1" "SELECT COUNT(*) FROM dialog"; }
rows_is() { [ "$(rows "$1")" = "$2" ]; }

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
serves_is "$SB" "[2]" && [ "$(galera_sql 1 "SELECT taken_over_by FROM sipdlg_nodes WHERE node_id = 1")" = 0 ] &&
	ok "after the refusals nothing changed" || not_ok "after the refusals nothing changed" "$(serves "$SB")"

# ---- cluster-wide profile -----------------------------------------------
SIPP_TIMEOUT=60 sipp_start uas_hold db_uas_hold.xml -i "$RA" -t u1 -p "$U1" -m 3
UASH=$SIPP_PID
SIPP_TIMEOUT=40 sipp_start uas_wait dlg_uas_wait_bye.xml -i "$RA" -t u1 -p "$U2" -m 2
UASW=$SIPP_PID
SIPP_TIMEOUT=60 sipp_start eve db_uac_hold.xml "$VIP:5060" -i "$RA" -t u1 -p "$C1" \
	-s lim -key from_user eve -m 2 -r 10 -d 32000
EVE=$SIPP_PID
wait_for 8 psize_is "$SA" eve 2
t0=$(date +%s%N)
if wait_for 3 psize_is "$SB" eve 2; then
	STALE=$(( ($(date +%s%N) - t0) / 1000000 ))
	ok "box B counts box A's 2 calls of eve within $STALE ms (staleness)"
else
	not_ok "box B counts box A's calls of eve" "A $(psize "$SA" eve) B $(psize "$SB" eve)"
fi
SIPP_TIMEOUT=10 sipp_start busy cl_uac_busy.xml "$AB:5060" -i "$RA" -t u1 -p "$C2" \
	-s lim -key from_user eve -m 1
sipp_wait "$SIPP_PID" 12 && ok "a third call of eve on box B gets 486 (limit 2 across the cluster)" ||
	not_ok "a third call of eve on box B gets 486" "$(sipp_diag busy)"

# ---- manual takeover ----------------------------------------------------
SIPP_TIMEOUT=40 sipp_start carol db_uac_hold.xml "$VIP:5060" -i "$RA" -t u1 -p "$C3" \
	-s hold -key from_user carol -m 1 -d 5000
CAROL=$SIPP_PID
SIPP_TIMEOUT=40 sipp_start tim dlg_uac_wait_bye.xml "$VIP:5060" -i "$RA" -t u1 -p "$C4" \
	-s wait -key from_user tim -m 2 -r 10
TIM=$SIPP_PID
rows1() { galera_sql 2 "SELECT COUNT(*) FROM dialog WHERE hash_id % 2 = 0"; }
rows1_is() { [ "$(rows1)" = "$1" ]; }
wait_for 5 n_dlg_is "$SA" 5 && wait_for 5 rows1_is 5 ||
	not_ok "5 calls up on box A, rows on Galera node 2" "A $(n_dlg "$SA") rows $(rows1)"
kill -KILL "$PA"; wait "$PA" 2>/dev/null; forget_pid "$PA"
vip_to "$AB"
T=$(ctl "$SB" cluster takeover 1 2>&1)
if [ "$(printf '%s' "$T" | jq -r .loaded)" = 5 ] && n_dlg_is "$SB" 5; then
	ok "cluster takeover 1 on box B: 5 dialogs in $(printf '%s' "$T" | jq -r .ms) ms"
else
	not_ok "cluster takeover 1 on box B" "$T; B lists $(n_dlg "$SB")"
fi
wait_for 2 psize_is "$SB" eve 2 && [ "$(ctl "$SB" cluster status | jq '.profiles.caller.local')" = 2 ] &&
	ok "eve's 2 calls now count on box B as its own" ||
	not_ok "eve's calls count on box B" "$(ctl "$SB" cluster status)"
sipp_wait "$TIM" 15 && sipp_wait "$UASW" 5 &&
	ok "the timeouts of A's calls fire on box B (BYE both ways)" ||
	not_ok "timeouts of taken-over calls fire on B" "$(sipp_diag tim uas_wait)"
sipp_wait "$CAROL" 15 &&
	ok "a caller's BYE through box B ends a taken-over call" ||
	not_ok "BYE through box B" "$(sipp_diag carol)"
wait_for 10 rows_is 1 2 && wait_for 10 n_dlg_is "$SB" 2 &&
	ok "their rows are deleted (2 left, eve's)" ||
	not_ok "rows of ended taken-over calls deleted" "rows $(rows 1), B $(n_dlg "$SB")"

# ---- fencing and handback ------------------------------------------------
start_daemon boxa "$E2E_TMP/a.yaml" "$NA" || { not_ok "box A restarts"; e2e_finish; }
PA=$DAEMON_PID
if [ "$(ctl "$SA" cluster status | jq .fenced)" = true ] && n_dlg_is "$SA" 0; then
	ok "box A restarted is fenced: its dialogs are on B, it loads none"
else
	not_ok "box A restarted is fenced" "$(ctl "$SA" cluster status) A lists $(n_dlg "$SA")"
fi
H=$(ctl "$SB" cluster handback 1 2>&1)
if wait_for 4 n_dlg_is "$SA" 2 && n_dlg_is "$SB" 0 && wait_for 3 serves_is "$SA" "[1]"; then
	ok "cluster handback 1: B unloads 2, A loads them ($(printf '%s' "$H" | jq -r .message))"
else
	not_ok "cluster handback 1" "$H; A $(n_dlg "$SA") B $(n_dlg "$SB")"
fi
vip_to "$AA"

# ---- taken over while alive: A fences itself ------------------------------
T=$(ctl "$SB" cluster takeover 1 2>&1)
if wait_for 4 n_dlg_is "$SA" 0 && [ "$(ctl "$SA" cluster status | jq .fenced)" = true ] &&
   n_dlg_is "$SB" 2; then
	ok "node 1 taken over while A runs: A unloads its 2 dialogs and fences itself"
else
	not_ok "A fences itself when taken over alive" "$T; A $(n_dlg "$SA") B $(n_dlg "$SB")"
fi
H=$(ctl "$SB" cluster handback 1 2>&1)
wait_for 4 n_dlg_is "$SA" 2 && wait_for 3 serves_is "$SA" "[1]" ||
	not_ok "second handback" "$H; A $(n_dlg "$SA")"

# ---- automatic takeover --------------------------------------------------
wait_for 3 psize_is "$SB" eve 2
kill -KILL "$PA"; wait "$PA" 2>/dev/null; forget_pid "$PA"
t0=$(date +%s%N)
vip_to "$AB"
if serves_is "$SB" "[2]" && wait_for 10 serves_is "$SB" "[1,2]" && wait_for 2 n_dlg_is "$SB" 2; then
	ok "box B takes node 1 over by itself $(( ($(date +%s%N) - t0) / 1000000 )) ms after kill -9 (takeover_after 3 s)"
else
	not_ok "automatic takeover" "$(ctl "$SB" cluster status)"
fi
sipp_wait "$EVE" 30 && sipp_wait "$UASH" 5 &&
	ok "eve's BYEs through box B end the last calls" ||
	not_ok "eve's calls end through B" "$(sipp_diag eve uas_hold)"
wait_for 5 rows_is 3 0 && ok "no dialog row left on any Galera node" ||
	not_ok "no dialog row left" "$(rows 3)"
ok "cluster e2e took $(( ($(date +%s%N) - T_START) / 1000000000 )) s"
e2e_finish

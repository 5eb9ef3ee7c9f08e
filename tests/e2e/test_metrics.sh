#!/bin/bash
# The Prometheus endpoint (metrics:) with real calls and a real
# Prometheus.  Everything runs in one network namespace of this test:
# sipdlgd with XDP on the namespace's lo, sipp caller and callee, curl,
# and Prometheus (Debian's `prometheus`, on a temp dir, scraping every
# second).  Checks:
#   - bad metrics: config is refused by --check with FILE:LINE:COL; a
#     taken port and an address the host lacks stop the start with a
#     clear message;
#   - /metrics: 200 in text format 0.0.4, `promtool check metrics` finds
#     nothing, 404 elsewhere, 405 for POST;
#   - the values move: during held calls sipdlg_dialogs_active and the
#     profile sizes (per profile and per value) show them; after them
#     processed dialogs, SIP counters and the kernel's dlg_match counter
#     have grown and the active ones are back to 0;
#   - Prometheus scrapes it during the calls: its HTTP API returns
#     up == 1 and a sample of sipdlg_dialogs_active above 0;
#   - IPv6: "[::1]:PORT" serves too;
#   - config/grafana-sipdlg.json is valid JSON and names only metrics
#     the endpoint exports.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
for t in curl jq promtool prometheus; do
	command -v "$t" >/dev/null 2>&1 || { skip "metrics" "$t is not installed (make deps)"; e2e_finish; }
done
SIPP_TIMEOUT=30

NS="${E2E_ID}m"
netns_add "$NS" || { not_ok "create the namespace"; e2e_finish; }
P=5060 U=5080 C=5070 M=9091 M6=9092 PROM=9095 SINK=5099
DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN metrics
CFG="$E2E_TMP/metrics.yaml"

# config MLISTEN [EXTRA-METRICS-KEYS] : the daemon's config.
config() {
	cat <<EOF2
listen: ["udp:127.0.0.1:$P"]
xdp:
  interfaces: [lo]
  pin_path: $PIN
dialog:
  profiles_with_value: [caller, subject]
  profiles_no_value: [inbound]
control:
  socket: $DLG_SOCK
log: {level: info}
metrics:
  listen: "$1"
  max_values_per_profile: 10${2:-}
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: hostile }
    actions:
      - dlg_manage
      - set_dlg_profile: [subject, "\$hdr(Subject)"]
      - forward: "udp:127.0.0.1:$SINK"
  - match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:127.0.0.1:$U"
EOF2
}
ns() { in_ns "$NS" "$@"; }
scrape() { ns curl -sS --max-time 5 "http://127.0.0.1:$M/metrics"; }
# value TEXT SERIES : the sample of SERIES (name plus labels) in TEXT.
# (The series through the environment: awk -v would undo its escapes.)
value() { printf '%s\n' "$1" | S="$2" awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF; f = 1 } END { if (!f) print "none" }'; }

# --- bad configuration ---------------------------------------------------------
config "127.0.0.1" >"$CFG"
out=$("$SIPDLGD" -c "$CFG" --check 2>&1); rc=$?
check_eq "--check refuses metrics.listen without a port (exit 1)" 1 "$rc"
check_contains "... with FILE:LINE:COL and the fix" "$CFG:12:11: metrics.listen: '127.0.0.1' needs a port, e.g. \"127.0.0.1:9091\"" "$out"
config "localhost:$M" >"$CFG"
out=$("$SIPDLGD" -c "$CFG" --check 2>&1)
check_contains "--check refuses a host name (no DNS at load)" "is not a numeric IPv4 address" "$out"
config "127.0.0.1:$M" "
  max_values: 3" >"$CFG"
out=$("$SIPDLGD" -c "$CFG" --check 2>&1)
check_contains "--check refuses an unknown metrics: key" "max_values" "$out"

# A port someone else listens on: the start fails at once, saying why.
( exec nsenter --net="/run/netns/$NS" socat TCP-LISTEN:$M,bind=127.0.0.1,reuseaddr,fork /dev/null ) >/dev/null 2>&1 </dev/null &
HOG=$!
E2E_PIDS+=("$HOG")
wait_for 5 ns bash -c "ss -Hlnt 'sport = :$M' | grep -q ."
config "127.0.0.1:$M" >"$CFG"
out=$(timeout 20 nsenter --net="/run/netns/$NS" "$SIPDLGD" -c "$CFG" 2>&1); rc=$?
check_eq "a taken metrics port stops the start (exit 1)" 1 "$rc"
check_contains "... with a message naming the address and the cause" \
	"metrics.listen 127.0.0.1:$M: cannot bind: Address already in use (another program" "$out"
kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; forget_pid "$HOG"
config "10.255.255.1:$M" >"$CFG"
out=$(timeout 20 nsenter --net="/run/netns/$NS" "$SIPDLGD" -c "$CFG" 2>&1); rc=$?
check_contains "an address the host lacks stops the start, saying so" \
	"cannot bind: Cannot assign requested address (not an address of this host)" "$out"
rm -rf "$PIN"

# --- IPv6 ------------------------------------------------------------------------
if ns ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	config "[::1]:$M6" >"$CFG"
	if start_daemon v6 "$CFG" "$NS"; then
		body=$(ns curl -sS -g --max-time 5 "http://[::1]:$M6/metrics")
		check_contains "metrics.listen \"[::1]:$M6\" serves /metrics over IPv6" \
			"# TYPE sipdlg_dialogs_active gauge" "$body"
		stop_daemon "$DAEMON_PID"; forget_pid "$DAEMON_PID"
	else
		not_ok "sipdlgd starts with metrics on [::1]:$M6"
	fi
else
	skip "metrics over IPv6" "no ::1 in the namespace"
fi

# --- the endpoint ----------------------------------------------------------------
config "127.0.0.1:$M" >"$CFG"
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" "$NS"; then
	not_ok "sipdlgd starts with XDP on lo and metrics on 127.0.0.1:$M"
	e2e_finish
fi
ok "sipdlgd starts with XDP on lo and metrics on 127.0.0.1:$M"

# Prometheus, scraping every second, on a temp dir of this test.
mkdir -p "$E2E_TMP/prom"
cat >"$E2E_TMP/prometheus.yml" <<EOF2
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: sipdlg
    static_configs: [ { targets: ["127.0.0.1:$M"] } ]
EOF2
( cd "$E2E_TMP/prom" && exec nsenter --net="/run/netns/$NS" prometheus \
	--config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom/data" \
	--web.listen-address="127.0.0.1:$PROM" --log.level=warn ) >"$E2E_TMP/prometheus.log" 2>&1 </dev/null &
PROM_PID=$!
E2E_PIDS+=("$PROM_PID")
pq() { ns curl -sS --max-time 3 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1"; }

hdr=$(ns curl -sS --max-time 5 -D - -o "$E2E_TMP/m0.txt" "http://127.0.0.1:$M/metrics")
check_contains "GET /metrics: 200" "HTTP/1.1 200" "$hdr"
check_contains "... Content-Type of the text format 0.0.4" "Content-Type: text/plain; version=0.0.4" "$hdr"
check "promtool check metrics finds nothing to say (idle daemon)" \
	sh -c "promtool check metrics <'$E2E_TMP/m0.txt'"
m0=$(cat "$E2E_TMP/m0.txt")
check_eq "HEAD /metrics: 200 without a body" "200 0" \
	"$(ns curl -s -I -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "http://127.0.0.1:$M/metrics")"
check_eq "404 for another path" 404 "$(ns curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$M/")"
code=$(ns curl -s -o /dev/null -w '%{http_code} %header{allow}' --max-time 5 -X POST -d x=1 "http://127.0.0.1:$M/metrics")
check_eq "405 with Allow for POST" "405 GET, HEAD" "$code"
missing=""
for s in sipdlg_dialogs_active sipdlg_dialogs_processed_total sipdlg_sip_rcv_requests_total \
	sipdlg_core_rcv_bytes_total sipdlg_core_tcp_open 'sipdlg_xdp_packets_total{reason="dlg_match"}' \
	'sipdlg_xdp_bytes_total{reason="dlg_match"}' 'sipdlg_profile_size{profile="caller"}' \
	'sipdlg_profile_size{profile="inbound"}' sipdlg_process_cpu_seconds_total \
	sipdlg_process_resident_memory_bytes sipdlg_process_open_fds sipdlg_process_start_time_seconds; do
	[ "$(value "$m0" "$s")" = none ] && missing="$missing $s"
done
check_eq "the exposition holds statistics, XDP reasons, profiles and process figures" "" "$missing"
# Every statistic of `sipdlgctl stats` is there, by its Prometheus name.
nstats=$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats 2>/dev/null | jq 'length')
ntype=$(grep '^# TYPE ' "$E2E_TMP/m0.txt" | grep -vc ' sipdlg_\(xdp_packets_total\|xdp_bytes_total\|profile_\|process_\|build_info\|metrics_\)')
check_eq "one family per statistic of sipdlgctl stats ($nstats)" "$nstats" "$ntype"

# --- calls ------------------------------------------------------------------------
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NS" sipp -sf "$SIPP_SCENARIOS/$sf" \
		-nostdin -trace_err -error_file "$E2E_TMP/$name.err" \
		-trace_stat -stf "$E2E_TMP/$name.csv" \
		-timeout "${SIPP_TIMEOUT}s" -timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}
# Prometheus scrapes before the calls start (so it sees them up).
prom_up() { [ "$(pq 'up{job="sipdlg"}' | jq -r '.data.result[0].value[1]' 2>/dev/null)" = 1 ]; }
if wait_for 20 prom_up; then ok "Prometheus scrapes the endpoint (up{job=\"sipdlg\"} == 1)"
else not_ok "Prometheus scrapes the endpoint (up{job=\"sipdlg\"} == 1)" "$(tail -n 5 "$E2E_TMP/prometheus.log")"; fi

CALLS=6
sipp_ns uas db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U" -m "$CALLS"
UAS_PID=$SIPP_PID
wait_for 5 ns bash -c "ss -Hlnu 'sport = :$U' | grep -q ."
sipp_ns uac db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -s callee \
	-key from_user alice -m "$CALLS" -l "$CALLS" -r 20 -d 6000 -default_behaviors "all,-bye"
UAC_PID=$SIPP_PID

all_up() { [ "$(value "$(scrape)" sipdlg_dialogs_active)" = "$CALLS" ]; }
if wait_for 10 all_up; then ok "during the calls: sipdlg_dialogs_active is $CALLS"
else not_ok "during the calls: sipdlg_dialogs_active is $CALLS" "$(scrape | grep -v '^#' | head -20)"; fi
# Meanwhile a call whose profile value comes from the network: a Subject
# with a quote, a backslash and a byte that is not UTF-8.  Its callee (a
# sink) never answers: a dialog in state 1 until the INVITE times out
# (~16 s; not counted as active or early, like Kamailio's).
( exec nsenter --net="/run/netns/$NS" socat -u UDP-RECV:$SINK,bind=127.0.0.1 OPEN:/dev/null ) >/dev/null 2>&1 </dev/null &
E2E_PIDS+=("$!")
printf 'INVITE sip:hostile@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5098;branch=z9hG4bKhostile1\r\nFrom: <sip:evil@127.0.0.1>;tag=h1\r\nTo: <sip:hostile@127.0.0.1>\r\nCall-ID: hostile-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:evil@127.0.0.1:5098>\r\nMax-Forwards: 70\r\nSubject: say "hi" \\ \xff}\r\nContent-Length: 0\r\n\r\n' "$P" >"$E2E_TMP/hostile.sip"
ns bash -c "cat '$E2E_TMP/hostile.sip' >/dev/udp/127.0.0.1/$P"
HOSTILE='sipdlg_profile_value_size{profile="subject",value="say \"hi\" \\ \\xFF}"}'
hostile_seen() { [ "$(value "$(scrape)" "$HOSTILE")" = 1 ]; }
if wait_for 5 hostile_seen; then ok "a hostile profile value is exported escaped: $HOSTILE"
else not_ok "a hostile profile value is exported escaped" "$(scrape | grep subject)" "$(tail -n 5 "$PROXY_LOG")"; fi

m1=$(scrape)
check_eq "the unanswered call (state 1) is not among sipdlg_dialogs_active" "$CALLS" "$(value "$m1" sipdlg_dialogs_active)"
check_eq "sipdlg_profile_size{profile=\"inbound\"} counts them" "$CALLS" \
	"$(value "$m1" 'sipdlg_profile_size{profile="inbound"}')"
check_eq "sipdlg_profile_value_size counts them under the caller's value" "$CALLS" \
	"$(value "$m1" 'sipdlg_profile_value_size{profile="caller",value="alice"}')"
check_eq "sipdlg_profile_values{profile=\"caller\"} is 1" 1 \
	"$(value "$m1" 'sipdlg_profile_values{profile="caller"}')"
printf '%s\n' "$m1" >"$E2E_TMP/m1.txt"
check "promtool check metrics finds nothing to say (calls up, hostile value)" sh -c "promtool check metrics <'$E2E_TMP/m1.txt'"

# Prometheus saw the calls: bounded wait for a scraped sample above 0.
prom_active() { pq 'max_over_time(sipdlg_dialogs_active{job="sipdlg"}[1m])' | jq -e '.data.result[0].value[1] | tonumber > 0'; }
if wait_for 15 prom_active; then
	ok "Prometheus scraped sipdlg_dialogs_active > 0 during the calls"
else
	not_ok "Prometheus scraped sipdlg_dialogs_active > 0 during the calls" \
		"query: $(pq 'sipdlg_dialogs_active')" "targets: $(ns curl -sS --max-time 3 "http://127.0.0.1:$PROM/api/v1/targets" | head -c 600)" \
		"$(tail -n 5 "$E2E_TMP/prometheus.log")"
fi
prom_hostile() { pq 'sipdlg_profile_value_size{profile="subject"}' | jq -r '.data.result[0].metric.value // empty'; }
prom_hostile_seen() { [ -n "$(prom_hostile)" ]; }
wait_for 5 prom_hostile_seen
check_eq "Prometheus stored the hostile value as it was (label unescaped)" 'say "hi" \ \xFF}' "$(prom_hostile)"
check_eq "Prometheus: up{job=\"sipdlg\"} is still 1 (the hostile label did not break a scrape)" 1 \
	"$(pq 'min_over_time(up{job="sipdlg"}[1m])' | jq -r '.data.result[0].value[1]')"

sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "the $CALLS calls completed (sipp caller and callee exit 0)" "0 0" "$uac_rc $uas_rc"
ended() { [ "$(value "$(scrape)" sipdlg_dialogs_active)" = 0 ]; }
wait_for 5 ended
m2=$(scrape)
check_eq "after the calls: sipdlg_dialogs_active is 0" 0 "$(value "$m2" sipdlg_dialogs_active)"
check_eq "sipdlg_dialogs_processed_total grew by $CALLS + the unanswered one" $(( $(value "$m0" sipdlg_dialogs_processed_total) + CALLS + 1 )) \
	"$(value "$m2" sipdlg_dialogs_processed_total)"
check_eq "sipdlg_sip_rcv_requests_total grew by 3 per call (INVITE, ACK, BYE) + 1" \
	$(( $(value "$m0" sipdlg_sip_rcv_requests_total) + 3 * CALLS + 1 )) "$(value "$m2" sipdlg_sip_rcv_requests_total)"
check_eq "sipdlg_profile_value_size has no sample once the value is gone" none \
	"$(value "$m2" 'sipdlg_profile_value_size{profile="caller",value="alice"}')"
dm0=$(value "$m0" 'sipdlg_xdp_packets_total{reason="dlg_match"}')
dm2=$(value "$m2" 'sipdlg_xdp_packets_total{reason="dlg_match"}')
check_eq "the kernel counted in-dialog packets (dlg_match grew)" yes "$([ "$dm2" -gt "$dm0" ] 2>/dev/null && echo yes || echo "no: $dm0 -> $dm2")"
check_eq "... and their bytes" yes "$([ "$(value "$m2" 'sipdlg_xdp_bytes_total{reason="dlg_match"}')" -gt "$(value "$m0" 'sipdlg_xdp_bytes_total{reason="dlg_match"}')" ] 2>/dev/null && echo yes || echo no)"
check_eq "sipdlgctl xdp agrees with the exposition on dlg_match" \
	"$("$SIPDLGCTL" --socket "$DLG_SOCK" --json xdp | jq -r '.counters.dlg_match.packets')" \
	"$(value "$(scrape)" 'sipdlg_xdp_packets_total{reason="dlg_match"}')"

# Idle again: every statistic of `sipdlgctl stats` has its family and the
# same value (dialog:active_dialogs is sipdlg_dialogs_active, ...).
m3=$(scrape)
# (One awk over both lists: a loop of greps is slow on a loaded box.)
printf '%s\n' "$m3" | awk '!/^#/ && !/[{]/ { print $1, $2 }' >"$E2E_TMP/expo.txt"
diffs=$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats | jq -r 'to_entries[] | "\(.key) \(.value)"' |
	awk 'NR == FNR { e[$1] = $2; next }
	{
		split($1, k, "."); g = k[1]; n = substr($1, length(g) + 2)
		if (g == "dialog" && n ~ /^(active|early)_dialogs$/)
			c[1] = "sipdlg_dialogs_" substr(n, 1, length(n) - 8)
		else if (g == "dialog" && n ~ /^(processed|expired|failed)_dialogs$/)
			c[1] = "sipdlg_dialogs_" substr(n, 1, length(n) - 8) "_total"
		else {
			c[1] = "sipdlg_" g "_" n "_total"; c[2] = "sipdlg_" g "_" n
		}
		got = "none"
		for (i = 1; i <= 2; i++)
			if ((i in c) && (c[i] in e)) { got = e[c[i]]; break }
		if (got != $2) print $1 "=" $2 " exported as " c[1] "=" got
		delete c
	}' "$E2E_TMP/expo.txt" -)
check_eq "every statistic of sipdlgctl stats is exported with its value" "" "$diffs"

# --- the Grafana dashboard ---------------------------------------------------------
G="$E2E_ROOT/config/grafana-sipdlg.json"
check "config/grafana-sipdlg.json is valid JSON with panels" jq -e '.panels | length > 0' "$G"
printf '%s\n' "$m2" | awk '/^# TYPE / { print $3 }' >"$E2E_TMP/types.txt"
# sipdlg_db_* exist only with db_mode > 0; a name ending in _ is a regex prefix.
unknown=$(jq -r '.panels[].targets[].expr' "$G" | grep -o 'sipdlg_[a-z0-9_]*' | sort -u |
	awk 'NR == FNR { t[$1] = 1; next }
	/^sipdlg_db_/ { next }
	{ found = ($1 in t)
	  if (!found && $1 ~ /_$/) for (x in t) if (index(x, $1) == 1) found = 1
	  if (!found) printf " %s", $1 }' "$E2E_TMP/types.txt" -)
check_eq "every metric the dashboard queries is exported" "" "$unknown"

stop_daemon "$DAEMON_PID"
rc=$?
check_eq "sipdlgd stops cleanly with the metrics thread running" 0 "$rc"
forget_pid "$DAEMON_PID"
e2e_finish

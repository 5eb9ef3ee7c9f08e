#!/bin/bash
# The tls: section under `sipdlgd --check`: every bad value is refused
# with FILE:LINE:COL and a reason a person can act on (missing or
# unreadable certificate or key, a key that is not the certificate's, an
# unknown verify_peer or min_version, a cipher list OpenSSL does not know,
# a tls: listen entry or forward without the section), and a good section
# passes.  Certificates are made by tests/e2e/helpers/tls_certs.sh.  No
# daemon runs; a second or two.
. "$(dirname "$0")/lib.sh"
e2e_init

C="$E2E_TMP/certs"
if ! bash "$E2E_ROOT/tests/e2e/helpers/tls_certs.sh" "$C" >"$E2E_TMP/certs.log" 2>&1; then
	not_ok "the test certificates are made with openssl" "$(cat "$E2E_TMP/certs.log")"
	e2e_finish
fi
ok "the test certificates are made with openssl"

F="$E2E_TMP/tls.yaml"
# tls_cfg LINES... : a config with a TLS listen entry and LINES (each one
# line of the tls: section, indented by us) in $F.
tls_cfg() {
	{
		echo 'listen: ["udp:127.0.0.1:5060", "tls:127.0.0.1:5061"]'
		echo 'xdp: {enabled: false}'
		echo 'tls:'
		local l
		for l in "$@"; do echo "  $l"; done
	} >"$F"
}

# refused NAME LINE NEEDLE : --check exits 1 and names $F:LINE: and NEEDLE.
refused() {
	local out rc
	out=$("$SIPDLGD" -c "$F" --check 2>&1); rc=$?
	if [ "$rc" -eq 1 ] && [[ "$out" == *"$F:$2:"* ]] && [[ "$out" == *"$3"* ]]; then
		ok "$1"
	else
		not_ok "$1" "exit status $rc, expected 1 with '$F:$2:' and '$3'" "$out"
	fi
}

GOOD=("certificate: $C/sip.pem" "private_key: $C/sip.key")

tls_cfg "${GOOD[@]}" "ca_file: $C/ca.pem" "verify_peer: required" \
	"min_version: TLS1.3" "ciphers: ECDHE-ECDSA-AES256-GCM-SHA384" \
	"ciphersuites: TLS_AES_256_GCM_SHA384" "server_name: callee.test" \
	"handshake_timeout_ms: 2000" "certificates:" \
	"  - {server_name: other.test, certificate: $C/other.pem, private_key: $C/other.key}"
out=$("$SIPDLGD" -c "$F" --check 2>&1); rc=$?
check_eq "a complete tls: section passes --check" "0 $F: configuration is valid" "$rc $out"

tls_cfg "certificate: $C/nosuch.pem" "private_key: $C/sip.key"
refused "a missing certificate file is refused" 4 "cannot read $C/nosuch.pem: No such file"

cp "$C/sip.key" "$E2E_TMP/unreadable.key"
chmod 000 "$E2E_TMP/unreadable.key"
tls_cfg "certificate: $C/sip.pem" "private_key: $E2E_TMP/unreadable.key"
if [ "$(id -u)" -eq 0 ]; then
	# root reads a 000 file: make it unreadable by being a directory.
	rm -f "$E2E_TMP/unreadable.key"; mkdir "$E2E_TMP/unreadable.key"
fi
refused "an unreadable private key is refused" 5 "private_key"

tls_cfg "certificate: $C/sip.pem" "private_key: $C/other.key"
refused "a key that is not the certificate's is refused" 5 "is not the private key of the certificate"

echo "not a certificate" >"$E2E_TMP/junk.pem"
tls_cfg "certificate: $E2E_TMP/junk.pem" "private_key: $C/sip.key"
refused "a file with no PEM certificate is refused" 4 "holds no usable PEM certificate"

tls_cfg "certificate: $C/sip.pem"
refused "a certificate without its private key is refused" 4 "needs private_key beside it"

tls_cfg "${GOOD[@]}" "verify_peer: sometimes"
refused "an unknown verify_peer is refused" 6 "'sometimes' is not one of none, optional, required"

tls_cfg "${GOOD[@]}" "min_version: SSLv3"
refused "an unknown min_version is refused" 6 "'SSLv3' is not one of TLS1.2, TLS1.3"

tls_cfg "${GOOD[@]}" "ciphers: NO-SUCH-CIPHER"
refused "a cipher list OpenSSL does not know is refused" 6 "names no cipher"

tls_cfg "${GOOD[@]}" "ciphersuites: TLS_NOPE"
refused "unknown TLS 1.3 suites are refused" 6 "is not a list of TLS 1.3 suites"

tls_cfg "${GOOD[@]}" "ca_file: $C/nosuch-ca.pem"
refused "a missing ca_file is refused" 6 "cannot read $C/nosuch-ca.pem"

tls_cfg "${GOOD[@]}" "ca_dir: $C/ca.pem"
refused "a ca_dir that is not a directory is refused" 6 "is not a directory"

tls_cfg "${GOOD[@]}" "certificates:" "  - {server_name: other.test, certificate: $C/other.pem, private_key: $C/sip.key}"
refused "an SNI certificate with the wrong key is refused" 7 "certificates[0].private_key"

tls_cfg "${GOOD[@]}" "handshake_timeout_ms: 5"
refused "a handshake_timeout_ms under 100 is refused" 6 "handshake_timeout_ms"

printf 'listen: ["tls:127.0.0.1:5061"]\nxdp: {enabled: false}\n' >"$F"
refused "a tls: listen entry without a tls: section is refused" 1 "needs a tls: section"

printf 'listen: ["udp:127.0.0.1:5060"]\nxdp: {enabled: false}\ntls: {ca_file: %s}\nroutes:\n  - name: out\n    actions: [ { forward: "tls:127.0.0.1:5061" } ]\n' "$C/ca.pem" >"$F"
refused "a tls forward without a tls: listen entry is refused" 6 "needs a tls: entry in listen:"

printf 'listen: ["udp:127.0.0.1:5060", "tls:[::1]:5061"]\nxdp: {enabled: false}\ntls: {ca_file: %s}\n' "$C/ca.pem" >"$F"
refused "a tls: listen entry without a certificate is refused" 3 "certificate and private_key are needed"

e2e_finish

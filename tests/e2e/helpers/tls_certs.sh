#!/bin/bash
# tests/e2e/helpers/tls_certs.sh DIR : make the certificates of the TLS
# tests in DIR with openssl, in a second or two (EC P-256 keys):
#   ca.pem                 the test CA
#   sip.{pem,key}          sipdlgd's server certificate, CN/SAN sip.test
#   sip2.{pem,key}         the same name, another serial (for reload)
#   other.{pem,key}        SAN other.test (the SNI certificate)
#   client.{pem,key}       a client certificate (CN client.test)
#   callee.{pem,key}       the TLS callee, SAN callee.test and IP 127.0.0.1
#   localhost.{pem,key}    SAN localhost (a next hop named by DNS name)
#   wrongname.{pem,key}    signed by the CA, SAN wrong.test
#   expired.{pem,key}      a client certificate that expired in 2020
#   rogue-ca.pem, rogue.{pem,key}  another CA and a client cert it signed
# The expired one is made with `openssl ca -startdate/-enddate` (dates in
# the past; no faketime needed).
set -eu
D=$1
mkdir -p "$D"
cd "$D"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca NAME : a self-signed CA NAME.pem / NAME.key.
ca() {
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "/CN=sipdlg test $1" \
		-days 3650 -out "$1.pem" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# leaf NAME CN CA [SAN] : NAME.pem signed by CA, SAN DNS:CN (plus SAN,
# e.g. IP:127.0.0.1), valid for a year.
leaf() {
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" "${4:+,$4}" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
		-CAcreateserial -days 365 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca
ca rogue-ca
leaf sip sip.test ca
leaf sip2 sip.test ca
leaf other other.test ca
leaf client client.test ca
leaf callee callee.test ca IP:127.0.0.1
leaf localhost localhost ca
leaf wrongname wrong.test ca
leaf rogue client.test rogue-ca

# The expired client certificate, through a minimal `openssl ca` setup.
mkdir -p cadb
: >cadb/index.txt
echo 1000 >cadb/serial
cat >cadb/ca.cnf <<EOF
[ca]
default_ca = test
[test]
dir = $D/cadb
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $D/ca.pem
private_key = $D/ca.key
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
EOF
key expired.key
openssl req -new -key expired.key -subj "/CN=client.test" -out expired.csr 2>/dev/null
openssl ca -batch -config cadb/ca.cnf -in expired.csr -out expired.pem \
	-startdate 20200101000000Z -enddate 20200201000000Z -notext 2>/dev/null

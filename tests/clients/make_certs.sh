#!/usr/bin/env bash
# Generates a throwaway PKI for TLS tests into DIR: ca.{crt,key}, server.{crt,key} (for
# localhost / 127.0.0.1 / ::1), client.{crt,key} signed by the same CA, and other-ca.crt with
# other-client.{crt,key} (a client certificate the server must refuse).
#   make_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1; }
ca() {  # name subject
  q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() {  # name subject ca ext
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$4" > "$1.ext"
  q openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" -days 2 \
    -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
ca ca "/CN=secmlops test CA"
ca other-ca "/CN=someone else's CA"
leaf server "/CN=localhost" ca "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
leaf client "/CN=secmlops test client" ca "extendedKeyUsage=clientAuth"
leaf other-client "/CN=stranger" other-ca "extendedKeyUsage=clientAuth"
chmod 600 ./*.key

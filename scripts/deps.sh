#!/bin/sh
# deps.sh: install what building and testing Nomaflow needs on Debian 12.
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   plus what the test suite uses
#   scripts/deps.sh --bench  plus what bench/*.sh use beyond the build
#                            (gnuplot for bench/peers.sh's plot; npm, curl
#                            and python3 for its Dagu side)
set -e
pkgs="build-essential autoconf automake pkg-config libev-dev libmsgpack-dev
      libsqlite3-dev libseccomp-dev libpq-dev libcurl4-openssl-dev
      libjansson-dev libsystemd-dev libsodium-dev libmicrohttpd-dev
      ca-certificates check tzdata"
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs jq clang libclang-rt-14-dev util-linux procps sqlite3
	    postgresql-15 postgresql-client-15 python3-croniter python3 openssl
	    systemd libfaketime python3-prometheus-client curl chromium nodejs"
	# The browser test (tests/integration/web-ui.sh) installs
	# puppeteer-core with npm; NodeSource's nodejs carries its own npm.
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
if [ "${1:-}" = "--bench" ]; then
	pkgs="$pkgs gnuplot-nox npm curl python3 sqlite3"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null

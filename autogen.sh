#!/bin/sh
# Generate configure and Makefile.in from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake only installs the TAP driver on request; copy it from automake.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh

#!/bin/sh
# toml-test.sh: run the vendored official TOML test suite against our
# parser (supervisor/toml.c); the runner prints TAP.  make check sets
# top_srcdir and top_builddir; both default to "." for a manual run from
# the top of an in-tree build.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
exec "$top_builddir/tests/toml_test_runner" "$top_srcdir/tests/toml-test"

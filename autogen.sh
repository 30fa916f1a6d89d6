#!/bin/sh
# Generates configure and Makefile.in from configure.ac and Makefile.am.
# Run it once after a fresh checkout; release tarballs do not need it.
set -e
cd "$(dirname "$0")"
autoreconf --install --force

#!/bin/sh
# Builds filemap's tests and examples and runs the tests (installs what is missing).
set -eu
cd "$(dirname "$0")/.."
cmake/install-deps.sh test
cmake --workflow --preset dev

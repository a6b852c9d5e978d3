#!/bin/sh
# A project that builds with a plain compiler line and pkg-config, against an
# installed filemap: build.sh PREFIX SOURCE OUTPUT.
set -eu
prefix=$1 source=$2 output=$3
PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --exists filemap
flags=$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --libs filemap)
echo "pkg-config --cflags --libs filemap: $flags"
${CXX:-c++} -std=c++20 -Wall -Wextra -Werror "$source" $flags -o "$output"
"$output"

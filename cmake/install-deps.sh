#!/bin/sh
# Installs, on Debian or Ubuntu, what a filemap task needs and the machine lacks.
#   cmake/install-deps.sh build|test|bench|windows|sanitize|clang|docs|valgrind|format|bitness|byteorder|windows32 ...
# Uses apt-get directly as root, through sudo otherwise; installs nothing
# when everything is already there.
set -eu

packages() {
    case "$1" in
        build) echo "g++ cmake make libmsgsl-dev" ;;
        test) echo "g++ cmake make libmsgsl-dev catch2 python3 pkg-config" ;;
        bench) echo "g++ cmake make libmsgsl-dev libbenchmark-dev libboost-dev" ;;
        windows) echo "g++-mingw-w64-x86-64-posix wine wine64 libmsgsl-dev catch2" ;;
        windows32) echo "g++-mingw-w64-i686-posix libmsgsl-dev catch2" ;;
        sanitize) echo "clang libclang-rt-14-dev" ;;
        clang) echo "clang" ;;
        docs) echo "doxygen" ;;
        valgrind) echo "valgrind" ;;
        format) echo "clang-format" ;;
        bitness) echo "g++-multilib qemu-user" ;;
        byteorder) echo "clang libstdc++-12-dev-s390x-cross binutils-s390x-linux-gnu qemu-user" ;;
        *) echo "install-deps.sh: unknown task '$1'" >&2; exit 2 ;;
    esac
}

missing=""
for task in "$@"; do
    for package in $(packages "$task"); do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
            case " $missing " in *" $package "*) ;; *) missing="$missing $package" ;; esac
        fi
    done
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "filemap: please install:$missing" >&2
    exit 1
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "filemap: installing$missing"
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# The demo: two processes sharing memory by name. Installs what is missing,
# builds the examples, starts 01-writer, then 02-reader in a second process.
set -eu
cd "$(dirname "$0")/.."
cmake/install-deps.sh build
cmake --preset examples >/dev/null
cmake --build --preset examples -j 2 >/dev/null

bin=build/examples/examples
name="filemap-demo-$$"
echo "--- two processes, one named mapping \"$name\""
"$bin/01-writer" "$name" "Hello from process $$" &
writer=$!
"$bin/02-reader" "$name"
wait "$writer"
echo "--- the same in UTF-16, as UNICODE Windows programs store text (--wide)"
"$bin/01-writer" --wide "$name-wide" "Grüße from process $$" &
writer=$!
"$bin/02-reader" --wide "$name-wide"
wait "$writer"
echo "--- a message loop over a Channel: 06-receiver in the background, 05-sender in front"
"$bin/06-receiver" &
receiver=$!
"$bin/05-sender" "first message" "second message" "the last one"
wait "$receiver"
echo "--- four processes counting under one NamedMutex"
"$bin/07-counter" 4
echo "--- one struct, Shared<Status>: a publisher and two watchers woken by each change"
"$bin/08-shared-struct" watch "$name-status" > "${TMPDIR:-/tmp}/$name-w1" &
w1=$!
"$bin/08-shared-struct" watch "$name-status" > "${TMPDIR:-/tmp}/$name-w2" &
w2=$!
"$bin/08-shared-struct" publish "$name-status" 2
wait "$w1" "$w2"
sed 's/^/  1st /' "${TMPDIR:-/tmp}/$name-w1"
sed 's/^/  2nd /' "${TMPDIR:-/tmp}/$name-w2"
rm -f "${TMPDIR:-/tmp}/$name-w1" "${TMPDIR:-/tmp}/$name-w2"
echo "--- a log that grows while a follower reads it: grow() here, refresh() there"
"$bin/09-growing-log" follow "$name-log" &
follower=$!
"$bin/09-growing-log" write "$name-log" 1 40
wait "$follower"
echo "--- one producer, two subscribers on a Topic: frames built and read in place"
"$bin/10-topic" watch "$name-frames" > "${TMPDIR:-/tmp}/$name-s1" &
s1=$!
"$bin/10-topic" watch "$name-frames" > "${TMPDIR:-/tmp}/$name-s2" &
s2=$!
"$bin/10-topic" produce "$name-frames" 500 2
wait "$s1" "$s2"
sed 's/^/  1st /' "${TMPDIR:-/tmp}/$name-s1"
sed 's/^/  2nd /' "${TMPDIR:-/tmp}/$name-s2"
rm -f "${TMPDIR:-/tmp}/$name-s1" "${TMPDIR:-/tmp}/$name-s2"

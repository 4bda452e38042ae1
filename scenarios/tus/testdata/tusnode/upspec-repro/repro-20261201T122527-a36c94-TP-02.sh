#!/bin/sh
# upspec reproducer of TP-02: A PATCH with another Content-Type: refused (415), nothing stored
# KNOWN in run 20261201T122527-a36c94 against http://127.0.0.1:34137/files/ (2026-12-01T12:25:27Z)
# KNOWN: listed in tus-node-server-2 as an expected deviation: a PATCH with another Content-Type is refused with 400 Bad Request ("Invalid content-type"), and one with none with 403 Forbidden ("Content-Type header required"), not 415 Unsupported Media Type; nothing is stored
#
# What failed:
#   tus.core.patch-415 (SHOULD): The refusal of a PATCH with another Content-Type is 415 Unsupported Media Type.
#     expected: 415 Unsupported Media Type
#     got:      400 , body "Invalid content-type"
#   tus.core.patch-415 (SHOULD): The refusal of a PATCH with another Content-Type is 415 Unsupported Media Type.
#     expected: 415 Unsupported Media Type
#     got:      403 , body "Content-Type header required"
#
# Run:   sh repro-20261201T122527-a36c94-TP-02.sh              (curl needed)
# TARGET is the server (scheme://host:port); RUN prefixes the session IDs and file names and
# is new on every execution. Exit status: 1 the failure reproduces, 0 it does not, 2 the
# target cannot be reached.
set -u

TARGET=${TARGET:-'http://127.0.0.1:34137'}
RUN=${RUN:-20261201T122527-a36c94-repro-$(date +%s)-$$}
ALPHABET=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
OUT=$(mktemp -d "${TMPDIR:-/tmp}/upspec-repro.XXXXXX") || exit 2
trap 'rm -rf "$OUT"' EXIT

# body OFFSET SEED LEN: LEN bytes of the test file with pattern SEED, from file offset OFFSET
# (byte i of the file is ALPHABET[(i+SEED) mod 62]).
body() {
  yes "$ALPHABET" 2>/dev/null | tr -d '\n' | tail -c +$(( (($1 + $2) % 62 + 62) % 62 + 1 )) | head -c "$3"
}
# show N: print answer N (status line, headers, body), or curl's error when none came.
show() {
  if [ -s "$OUT/$1" ]; then tr -d '\r' < "$OUT/$1"; echo; else echo "    (no answer: $(cat "$OUT/$1.err" 2>/dev/null))"; fi
}
# same N STATUS RANGE: answer N has STATUS (000: none) and, when RANGE is given, that Range.
same() {
  [ "$(cat "$OUT/$1.status" 2>/dev/null)" = "$2" ] || return 1
  [ -z "$3" ] && return 0
  [ "$(tr -d '\r' < "$OUT/$1" | sed -n 's/^[Rr][Aa][Nn][Gg][Ee]:[[:space:]]*//p' | head -n 1 | tr -d ' ')" = "$3" ]
}

# [1/8] create the upload
#   answered in the run: 201
curl -sS -i --max-time 10 --http1.1 -X 'POST' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Length: 40' \
  -H 'Content-Length: 0' \
  -H 'Connection: close' \
  -o "$OUT/1" -w '%{http_code}' \
  "$TARGET"'/files/' >"$OUT/1.status" 2>"$OUT/1.err"
echo $? >"$OUT/1.rc"

# [2/8] PATCH with Content-Type "application/octet-stream"
#   answered in the run: 400 , body "Invalid content-type"
body 0 99 20 |
  curl -sS -i --max-time 10 --http1.1 -X 'PATCH' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Offset: 0' \
  -H 'Content-Type: application/octet-stream' \
  -H 'Content-Length: 20' \
  -H 'Connection: close' \
  -T - \
  -o "$OUT/2" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/2.status" 2>"$OUT/2.err"
echo $? >"$OUT/2.rc"

# [3/8] HEAD: the PATCH with another Content-Type stored nothing
#   answered in the run: 200
curl -sS -i --max-time 10 --http1.1 -X 'HEAD' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Connection: close' \
  -o "$OUT/3" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/3.status" 2>"$OUT/3.err"
echo $? >"$OUT/3.rc"

# [4/8] PATCH with Content-Type (none)
#   answered in the run: 403 , body "Content-Type header required"
body 0 99 20 |
  curl -sS -i --max-time 10 --http1.1 -X 'PATCH' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Offset: 0' \
  -H 'Content-Length: 20' \
  -H 'Connection: close' \
  -T - \
  -o "$OUT/4" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/4.status" 2>"$OUT/4.err"
echo $? >"$OUT/4.rc"

# [5/8] HEAD: the PATCH with another Content-Type stored nothing
#   answered in the run: 200
curl -sS -i --max-time 10 --http1.1 -X 'HEAD' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Connection: close' \
  -o "$OUT/5" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/5.status" 2>"$OUT/5.err"
echo $? >"$OUT/5.rc"

# [6/8] PATCH bytes 0-19 of the upload
#   answered in the run: 204
body 0 6 20 |
  curl -sS -i --max-time 10 --http1.1 -X 'PATCH' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Offset: 0' \
  -H 'Content-Type: application/offset+octet-stream' \
  -H 'Content-Length: 20' \
  -H 'Connection: close' \
  -T - \
  -o "$OUT/6" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/6.status" 2>"$OUT/6.err"
echo $? >"$OUT/6.rc"

# [7/8] PATCH bytes 20-39 of the upload
#   answered in the run: 204
body 20 6 20 |
  curl -sS -i --max-time 10 --http1.1 -X 'PATCH' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Offset: 20' \
  -H 'Content-Type: application/offset+octet-stream' \
  -H 'Content-Length: 20' \
  -H 'Connection: close' \
  -T - \
  -o "$OUT/7" -w '%{http_code}' \
  "$TARGET"'/files/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/7.status" 2>"$OUT/7.err"
echo $? >"$OUT/7.rc"

# [8/8] read back the upload
#   answered in the run: 200 OK, body "6789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
curl -sS -i --max-time 10 --http1.1 -X 'GET' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Connection: close' \
  -o "$OUT/8" -w '%{http_code}' \
  "$TARGET"'/stored/894ac8b1f6f1f245ba0983f7e294e185' >"$OUT/8.status" 2>"$OUT/8.err"
echo $? >"$OUT/8.rc"

wait

# The answers, in request order.
echo '>>> [1/8] create the upload'
echo '    answered in the run: 201'
show 1
echo '>>> [2/8] PATCH with Content-Type "application/octet-stream"'
echo '    answered in the run: 400 , body "Invalid content-type"'
show 2
echo '>>> [3/8] HEAD: the PATCH with another Content-Type stored nothing'
echo '    answered in the run: 200'
show 3
echo '>>> [4/8] PATCH with Content-Type (none)'
echo '    answered in the run: 403 , body "Content-Type header required"'
show 4
echo '>>> [5/8] HEAD: the PATCH with another Content-Type stored nothing'
echo '    answered in the run: 200'
show 5
echo '>>> [6/8] PATCH bytes 0-19 of the upload'
echo '    answered in the run: 204'
show 6
echo '>>> [7/8] PATCH bytes 20-39 of the upload'
echo '    answered in the run: 204'
show 7
echo '>>> [8/8] read back the upload'
echo '    answered in the run: 200 OK, body "6789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"'
show 8

# Could the target be reached at all?
for f in "$OUT"/*.rc; do
  case $(cat "$f") in 6|7) echo "cannot reach $TARGET (curl exit $(cat "$f")): check TARGET"; exit 2;; esac
done

# The failure reproduces when the failed steps get the answers the run judged failing.
if same 1 '201' '' && \
   same 2 '400' '' && \
   same 3 '200' '' && \
   same 4 '403' '' && \
   same 5 '200' '' && \
   same 6 '204' '' && \
   same 7 '204' '' && \
   same 8 '200' ''; then
  echo 'REPRODUCED: TP-02 tus.core.patch-415: expected 415 Unsupported Media Type; the target answered as in the failing run'
  exit 1
fi
echo 'NOT REPRODUCED: TP-02: the target answered otherwise than in the failing run (see the answers above)'
exit 0

#!/bin/sh
# upspec reproducer of TO-03: An unsupported Tus-Resumable version: 412 with Tus-Version, and nothing created or stored
# KNOWN in run 20261201T122527-a36c94 against http://127.0.0.1:34137/files/ (2026-12-01T12:25:27Z)
# KNOWN: listed in tus-node-server-2 as an expected deviation: an unsupported Tus-Resumable is refused with 400 Bad Request ("Invalid tus-resumable", its header validation), not 412 Precondition Failed, and with no Tus-Version header; the request is not processed
#
# What failed:
#   tus.core.version-412 (MUST): A request whose `Tus-Resumable` names a version the server does not support is answered 412 Precondition Failed and is not processed (no upload is created, no byte is stored).
#     expected: 412 Precondition Failed for the creating POST
#     got:      400 , body "Invalid tus-resumable"
#   tus.core.version-412 (MUST): A request whose `Tus-Resumable` names a version the server does not support is answered 412 Precondition Failed and is not processed (no upload is created, no byte is stored).
#     expected: 412 Precondition Failed for the PATCH
#     got:      400 , body "Invalid tus-resumable"
#
# Run:   sh repro-20261201T122527-a36c94-TO-03.sh              (curl needed)
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

# [1/4] POST with Tus-Resumable: 0.0.1
#   answered in the run: 400 , body "Invalid tus-resumable"
curl -sS -i --max-time 10 --http1.1 -X 'POST' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 0.0.1' \
  -H 'Upload-Length: 10' \
  -H 'Content-Length: 0' \
  -H 'Connection: close' \
  -o "$OUT/1" -w '%{http_code}' \
  "$TARGET"'/files/' >"$OUT/1.status" 2>"$OUT/1.err"
echo $? >"$OUT/1.rc"

# [2/4] create the upload
#   answered in the run: 201
curl -sS -i --max-time 10 --http1.1 -X 'POST' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Upload-Length: 10' \
  -H 'Content-Length: 0' \
  -H 'Connection: close' \
  -o "$OUT/2" -w '%{http_code}' \
  "$TARGET"'/files/' >"$OUT/2.status" 2>"$OUT/2.err"
echo $? >"$OUT/2.rc"

# [3/4] PATCH with Tus-Resumable: 0.0.1
#   answered in the run: 400 , body "Invalid tus-resumable"
body 0 2 10 |
  curl -sS -i --max-time 10 --http1.1 -X 'PATCH' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 0.0.1' \
  -H 'Upload-Offset: 0' \
  -H 'Content-Type: application/offset+octet-stream' \
  -H 'Content-Length: 10' \
  -H 'Connection: close' \
  -T - \
  -o "$OUT/3" -w '%{http_code}' \
  "$TARGET"'/files/2fd7c33f58a8b7c340f244e9b930d84d' >"$OUT/3.status" 2>"$OUT/3.err"
echo $? >"$OUT/3.rc"

# [4/4] HEAD: the refused PATCH stored nothing
#   answered in the run: 200
curl -sS -i --max-time 10 --http1.1 -X 'HEAD' \
  -H 'Expect:' \
  -H 'Accept:' \
  -H 'User-Agent:' \
  -H 'Content-Type:' \
  -H 'Transfer-Encoding:' \
  -H 'Tus-Resumable: 1.0.0' \
  -H 'Connection: close' \
  -o "$OUT/4" -w '%{http_code}' \
  "$TARGET"'/files/2fd7c33f58a8b7c340f244e9b930d84d' >"$OUT/4.status" 2>"$OUT/4.err"
echo $? >"$OUT/4.rc"

wait

# The answers, in request order.
echo '>>> [1/4] POST with Tus-Resumable: 0.0.1'
echo '    answered in the run: 400 , body "Invalid tus-resumable"'
show 1
echo '>>> [2/4] create the upload'
echo '    answered in the run: 201'
show 2
echo '>>> [3/4] PATCH with Tus-Resumable: 0.0.1'
echo '    answered in the run: 400 , body "Invalid tus-resumable"'
show 3
echo '>>> [4/4] HEAD: the refused PATCH stored nothing'
echo '    answered in the run: 200'
show 4

# Could the target be reached at all?
for f in "$OUT"/*.rc; do
  case $(cat "$f") in 6|7) echo "cannot reach $TARGET (curl exit $(cat "$f")): check TARGET"; exit 2;; esac
done

# The failure reproduces when the failed steps get the answers the run judged failing.
if same 1 '400' '' && \
   same 2 '201' '' && \
   same 3 '400' '' && \
   same 4 '200' ''; then
  echo 'REPRODUCED: TO-03 tus.core.version-412: expected 412 Precondition Failed for the creating POST; the target answered as in the failing run'
  exit 1
fi
echo 'NOT REPRODUCED: TO-03: the target answered otherwise than in the failing run (see the answers above)'
exit 0

#!/bin/bash
# Source checks run by CI (STYLE.md section 13):
#  - every dynamic symbol exported by libevidence starts with ev_
#  - the library has no writable global data (no B/D symbols)
#  - banned calls (checksrc)
#  - every EV_EXTERN in public headers has a doc block; every ev_status has
#    ev_strerror text and a row in docs/api/errors.md
#  - every subcommand has docs/cli/evidence-<cmd>.md
#  - no module includes the header of a module above it (layers), and no
#    two files call each other, directly or in a circle
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
fail=0
err() { echo "checks: $*"; fail=1; }

so=$(ls "$build"/libevidence/libevidence.so.* 2>/dev/null | head -n1)
if [ -n "$so" ]; then
  bad=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^ev_' | grep -v '^_' || true)
  [ -z "$bad" ] || err "exported symbols without the ev_ prefix: $bad"
  objs=$(find "$build"/libevidence -name '*.o' -path '*evidence_obj*')
  w=$(nm $objs 2>/dev/null | awk '$2 ~ /^[BD]$/ {print $3}' || true)
  [ -z "$w" ] || err "writable global data in the library: $w"
else
  err "no libevidence.so in $build"
fi

# banned calls
banned_all='\b(gets|sprintf|vsprintf|strcpy|strcat|strncat|strtok|atoi|atol|tmpnam|alloca)\s*\('
banned_lib='\b(printf|fprintf|exit|abort|assert|getenv|setlocale|system|av_log_set_[a-z_]+)\s*\('
hits=$(grep -nE "$banned_all" libevidence/src/*/*.c tools/*.c 2>/dev/null | grep -v 'checksrc: allow' || true)
[ -z "$hits" ] || err "banned calls: $hits"
hits=$(grep -nE "$banned_lib" libevidence/src/*/*.c 2>/dev/null | grep -v 'checksrc: allow' || true)
[ -z "$hits" ] || err "calls banned in the library: $hits"

# every EV_EXTERN has a doc block just above it
for h in libevidence/include/evidence/*.h; do
  awk -v f="$h" '
    /\*\// { lastdoc = NR }
    /^EV_EXTERN/ { if (NR - lastdoc > 1 && !cont) { printf "checks: %s:%d: EV_EXTERN without a doc block\n", f, NR; bad=1 } }
    { cont = ($0 ~ /^EV_EXTERN/ && $0 !~ /;/) }
    END { exit bad }' "$h" || fail=1
done

# every ev_status has text and a docs row
for code in $(grep -oE '\bEV_E[A-Z]+ = -[0-9]+|\bEV_ERROR = -1' libevidence/include/evidence/common.h | awk '{print $1}'); do
  grep -q "case $code:" libevidence/src/base/common.c || err "$code has no ev_strerror text"
  grep -q "$code" docs/api/errors.md 2>/dev/null || err "$code has no row in docs/api/errors.md"
done

# every subcommand has a help page
for c in tools/cmd_*.c; do
  n=$(basename "$c" .c); n=${n#cmd_}
  [ -f "docs/cli/evidence-$n.md" ] || err "tools/cmd_$n.c has no docs/cli/evidence-$n.md"
done

# layers: a module includes only its own headers and those of the modules
# below it (docs/architecture.md is the map; keep the two in step)
declare -A below=(
  [base]=""
  [bag]="base"
  [profile]="base"
  [media]="base"
  [container]="base bag"
  [record]="base bag container"
  [views]="base bag container record"
  [transcode]="base media profile"
  [sign]="base"
  [bundle]="base bag container profile media record views transcode sign"
)
for d in libevidence/src/*/; do
  m=$(basename "$d")
  [ -n "${below[$m]+x}" ] || { err "libevidence/src/$m/ is not in the layer table of scripts/checks.sh"; continue; }
  for f in "$d"*.[ch]; do
    while IFS=: read -r ln inc; do
      to=${inc%%/*}
      [ "$to" = "$m" ] && continue
      [ -n "${below[$to]+x}" ] || continue       # evidence/... public headers, system headers
      case " ${below[$m]} " in *" $to "*) ;; *) err "$f:$ln: $m includes $inc, but $to is not below $m" ;; esac
    done < <(grep -noE '^#include "[a-z_]+/[a-z_]+\.h"' "$f" | sed -E 's/#include "(.*)"/\1/')
  done
done

# no circle of calls between the library's files (docs/architecture.md)
python3 scripts/callcycles.py "$build" || err "circles of calls between files (above)"

[ $fail -eq 0 ] && echo "checks: all passed"
exit $fail

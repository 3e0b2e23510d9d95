#!/bin/bash
# Every public header must compile on its own as C11 (pedantic, -Werror) and as C++.
set -u
inc=$1; cc=${2:-cc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for h in "$inc"/evidence/*.h "$inc"/evidence.h; do
  rel=${h#"$inc"/}
  printf '#include <%s>\nint ev_header_check_dummy;\n' "$rel" > "$tmp/t.c"
  if ! "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o"; then
    echo "FAIL (C11): $rel"; fail=1
  fi
  if command -v c++ >/dev/null; then
    cp "$tmp/t.c" "$tmp/t.cpp"
    if ! c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
      echo "FAIL (C++): $rel"; fail=1
    fi
  fi
done
# Every *_OPTIONS_INIT macro, used as a user would, in C11 and in C++11 (the
# macros must not need C++20's designated initializers), warning-free.
inits=$(grep -ho 'define EV_[A-Z_]*_OPTIONS_INIT ' "$inc"/evidence/*.h | awk '{print $2}')
[ -n "$inits" ] || { echo "FAIL: no *_OPTIONS_INIT macros found"; fail=1; }
{
  echo '#include <evidence.h>'
  echo 'int ev_use_inits(void);'
  echo 'int ev_use_inits(void) {'
  echo '    unsigned int sum = 0;'
  for m in $inits; do
    t=$(echo "$m" | sed -E 's/^EV_(.*)_OPTIONS_INIT$/\1/' | tr 'A-Z' 'a-z')
    echo "    { ev_${t}_options o = $m; sum += o.version; }"
  done
  echo '    return (int)sum;'
  echo '}'
} > "$tmp/inits.c"
if ! "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$tmp/inits.c" -o "$tmp/i.o"; then
  echo "FAIL (C11): *_OPTIONS_INIT"; fail=1
fi
if command -v c++ >/dev/null; then
  cp "$tmp/inits.c" "$tmp/inits.cpp"
  for std in c++11 c++17; do
    if ! c++ -std=$std -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$tmp/inits.cpp" -o "$tmp/i.o"; then
      echo "FAIL ($std): *_OPTIONS_INIT"; fail=1
    fi
  done
fi
[ $fail -eq 0 ] && echo "all public headers compile standalone; $(echo $inits | wc -w) *_OPTIONS_INIT macros work in C11 and C++11"
exit $fail

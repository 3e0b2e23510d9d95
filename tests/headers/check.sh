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
[ $fail -eq 0 ] && echo "all public headers compile standalone"
exit $fail

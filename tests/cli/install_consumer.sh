#!/bin/bash
# Installing (README.md, "Installing and using the library"): `cmake --install` into a fresh prefix gives a tool that runs
# without LD_LIBRARY_PATH and finds its profiles, and a library that another
# program finds with pkg-config or CMake's find_package(evidence), builds
# against with only the installed headers, and uses to pack and verify.
. "$(dirname "$0")/lib.sh"
cd "$T" || die "no scratch folder"
B=${EV_BUILD_DIR:?ctest sets EV_BUILD_DIR}
P=$T/prefix
unset EVIDENCE_PROFILE_PATH LD_LIBRARY_PATH

run cmake --install "$B" --prefix "$P"
[ "$RC" -eq 0 ] || { show_last; die "cmake --install failed"; }
for f in bin/evidence include/evidence.h include/evidence/bundle.h lib/pkgconfig/libevidence.pc \
         lib/cmake/evidence/evidenceConfig.cmake share/evidence/profiles/remux-mp4.json \
         lib/libevidence.a share/man/man1/evidence.1 share/man/man1/evidence-pack.1 \
         share/man/man1/evidence-verify.1 share/bash-completion/completions/evidence; do
    ok "installs $f" test -e "$P/$f"
done
if command -v man >/dev/null; then
    ok "man evidence-pack renders the help page" bash -c \
        "MANWIDTH=80 man -l '$P/share/man/man1/evidence-pack.1' 2>/dev/null | grep -q -- '--exhibit REF'"
    ok "man evidence lists the commands" bash -c \
        "MANWIDTH=80 man -l '$P/share/man/man1/evidence.1' 2>/dev/null | grep -q 'transcode   make a verified copy'"
fi

# the installed tool: its own library (RUNPATH), its own profiles
expect_exit 0 "$P/bin/evidence" --version
ok "installed tool reports its version" grep -q "^evidence " "$OUT"
expect_exit 0 "$P/bin/evidence" profiles
ok "installed tool finds the installed profiles" grep -q "^working-copy-h264 " "$OUT"
ok "profiles come from the prefix" grep -q "$P/share/evidence/profiles" <("$P/bin/evidence" profiles --json)

# a program built against the installed library
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
SAN=$(sed -n 's/^EVIDENCE_SANITIZE:[A-Z]*=//p' "$B/CMakeCache.txt")
SANFLAGS=()
[ -n "$SAN" ] && SANFLAGS=(-fsanitize="${SAN//;/,}" -fno-omit-frame-pointer)
cat > consumer.c <<'C'
#include <evidence.h>
#include <stdio.h>
#include <string.h>

/* every *_INIT macro must compile warning-free in user code */
static unsigned int inits(void)
{
    ev_writer_options a = EV_WRITER_OPTIONS_INIT;
    ev_bundle_options b = EV_BUNDLE_OPTIONS_INIT;
    ev_verify_options c = EV_VERIFY_OPTIONS_INIT;
    ev_signer_options d = EV_SIGNER_OPTIONS_INIT;
    ev_trust_options e = EV_TRUST_OPTIONS_INIT;
    ev_media_options f = EV_MEDIA_OPTIONS_INIT;
    ev_transcode_options g = EV_TRANSCODE_OPTIONS_INIT;
    return a.version + b.version + c.version + d.version + e.version + f.version + g.version;
}

int main(int argc, char **argv)
{
    if (argc != 3 || inits() == 0)
        return 2;
    ev_writer *w = NULL;
    ev_writer_options wo;
    ev_writer_options_init(&wo, EV_WRITER_OPTIONS_VERSION);
    wo.case_ref = "23/1234";
    if (ev_writer_new(&w, &wo) != EV_OK || ev_writer_add(w, argv[1], "JS/1") != EV_OK ||
        ev_writer_seal(w, argv[2]) != EV_OK) {
        fprintf(stderr, "pack: %s\n", w ? ev_writer_last_error(w) : "no writer");
        ev_writer_free(w);
        return 1;
    }
    ev_writer_free(w);
    ev_bundle *b = NULL;
    ev_report *r = NULL;
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    if (ev_bundle_new(&b, NULL) != EV_OK || ev_bundle_open(b, argv[2]) != EV_OK ||
        ev_bundle_verify(&r, b, &vo) != EV_OK) {
        fprintf(stderr, "verify: %s\n", b ? ev_bundle_last_error(b) : "no bundle");
        ev_bundle_free(b);
        return 1;
    }
    const ev_item *it = ev_bundle_item(b, 0);
    printf("libevidence %s verdict %d items %zu first %s %s\n", ev_version_string(),
           (int)ev_report_verdict(r), ev_bundle_item_count(b), it ? it->path : "-",
           it && it->sha256 ? it->sha256 : "-");
    int rc = ev_report_verdict(r) == EV_VERDICT_VALID ? 0 : 1;
    ev_report_free(r);
    ev_bundle_free(b);
    return rc;
}
C
printf 'exhibit text\n' > note.txt
want=$(sha256sum note.txt | cut -d' ' -f1)

export PKG_CONFIG_PATH=$P/lib/pkgconfig
expect_exit 0 pkg-config --modversion libevidence
ok "pkg-config knows libevidence" test -n "$OUT"
# the headers must come from the prefix, not from whatever /usr/local holds
expect_exit 0 pkg-config --cflags libevidence
ok "pkg-config --cflags names the prefix's include folder" grep -q -- "-I$P/lib/pkgconfig/../../include" "$OUT"
# shellcheck disable=SC2046
run "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "${SANFLAGS[@]}" consumer.c -o consumer \
    $(pkg-config --cflags --libs libevidence) -Wl,-rpath,"$P/lib"
ok "a C11 program builds against the installed headers (pkg-config)" test "$RC" -eq 0 || show_last
if [ -x consumer ]; then
    expect_exit 0 ./consumer note.txt pc.zip
    ok "it packs and verifies through the API" grep -q "verdict 0 items 1 first data/JS_1/note.txt $want" "$OUT" || show_last
    ok "the library it ran is the installed one" grep -q "$P/lib/libevidence.so" <(ldd consumer)
    expect_exit 0 "$P/bin/evidence" verify pc.zip
fi
# statically: the installed libevidence.a and what pkg-config --static names
# for it (Requires.private, Libs.private)
# shellcheck disable=SC2046
run "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "${SANFLAGS[@]}" consumer.c -o consumer-static \
    $(pkg-config --cflags libevidence) $(pkg-config --static --libs libevidence | sed 's/-levidence\b/-l:libevidence.a/')
ok "a C11 program links the static library with pkg-config --static" test "$RC" -eq 0 || show_last
if [ -x consumer-static ]; then
    ok "... and does not load libevidence.so" test -z "$(ldd consumer-static | grep libevidence)"
    expect_exit 0 ./consumer-static note.txt st.zip
    ok "... it packs and verifies through the API" grep -q "verdict 0 items 1" "$OUT" || show_last
fi

# the same through CMake's find_package
mkdir -p cm && cp consumer.c cm/ && cat > cm/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(evidence 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE evidence::evidence)
CM
run cmake -S cm -B cm/build -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_C_FLAGS="${SANFLAGS[*]}" -DCMAKE_BUILD_RPATH="$P/lib"
ok "find_package(evidence) configures" test "$RC" -eq 0 || show_last
run cmake --build cm/build
ok "and builds" test "$RC" -eq 0 || show_last
if [ -x cm/build/consumer ]; then
    expect_exit 0 cm/build/consumer note.txt cm.zip
    ok "the CMake-built program packs and verifies" grep -q "verdict 0 items 1" "$OUT"
fi
finish

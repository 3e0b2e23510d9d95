# Shared helpers for the CLI tests in tests/cli/*.sh (bash).
#
# Source it first:   . "$(dirname "$0")/lib.sh"
#
# It gives each test:
#   $T          a fresh scratch folder under $EV_TEST_TMP, removed when every
#               check passed and kept (its path printed) when one failed
#   $EVIDENCE   the binary under test (ctest sets it)
#   $TOOLS      tests/tools (python3 helpers, standard library only)
#   $OUT $ERR   stdout and stderr of the last expect_exit/run
#   expect_exit N cmd...   run cmd; check its exit code is N and that no
#                          sanitizer report or crash appeared; returns 0/1
#   run cmd...             run cmd capturing $OUT/$ERR; sets $RC
#   ok COND-CMD... / fail MSG / note MSG / skip_case MSG / finish
#   has_problem JSON CODE [PATH] [SEVERITY]   (see tests/tools/evjson.py)
#
# Failures are counted, not fatal: a test reports every failing check and
# finish() prints "N passed, M failed" and exits 1 when M > 0. Use die() for
# a broken precondition that makes the rest of a test meaningless.
#
# Run directly (bash tests/cli/lib.sh, as ctest does for cli_lib), this file
# tests its own helpers.

set -u
set -o pipefail

EV_TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
: "${EV_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${EV_TEST_TMP:=${TMPDIR:-/tmp}/evidence-tests}"
if [ -z "${EVIDENCE:-}" ]; then
    for d in "${EV_BUILD_DIR:-}" "$EV_SOURCE_DIR/build/dev"; do
        if [ -n "$d" ] && [ -x "$d/tools/evidence" ]; then
            EVIDENCE="$d/tools/evidence"
            break
        fi
    done
fi
: "${EVIDENCE:=evidence}"
TOOLS="$EV_SOURCE_DIR/tests/tools"
export EVIDENCE EV_SOURCE_DIR EV_TEST_TMP TOOLS

# A sanitizer report must never be mistaken for exit code 1 ("invalid"):
# give sanitizers an exit code of their own. Existing settings are kept.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86:print_stacktrace=1"
export LC_ALL=C.UTF-8
export PYTHONDONTWRITEBYTECODE=1

# python3 for the helpers: the system one when there is one (a version
# manager's shim can cost ~80 ms per call, and the tests make hundreds).
if [ -x /usr/bin/python3 ]; then
    EV_PYTHON=/usr/bin/python3
else
    EV_PYTHON=$(command -v python3 || echo python3)
fi
# (Start background helpers with "$EV_PYTHON" itself, so that $! is their pid.)
python3() { "$EV_PYTHON" "$@"; }

mkdir -p "$EV_TEST_TMP" || { echo "cannot create $EV_TEST_TMP" >&2; exit 1; }
T=$(mktemp -d "$EV_TEST_TMP/$EV_TEST_NAME.XXXXXX") || { echo "mktemp failed" >&2; exit 1; }
OUT="$T/.out"
ERR="$T/.err"
RC=0
: >"$OUT"
: >"$ERR"
EV_PASSED=0
EV_FAILED=0
EV_SKIPPED=0
EV_CLEANUP_CMDS=()

# Run "$@" at exit (before $T is removed), e.g. to unmount a tmpfs.
on_exit() { EV_CLEANUP_CMDS+=("$*"); }

ev__cleanup() {
    local c
    for c in "${EV_CLEANUP_CMDS[@]+"${EV_CLEANUP_CMDS[@]}"}"; do
        eval "$c" >/dev/null 2>&1 || true
    done
    if [ "$EV_FAILED" -eq 0 ] && [ -z "${EV_KEEP_TMP:-}" ]; then
        chmod -R u+rwx "$T" 2>/dev/null
        rm -rf "$T"
    else
        echo "scratch folder kept: $T" >&2
    fi
}
trap ev__cleanup EXIT

fail() {
    EV_FAILED=$((EV_FAILED + 1))
    echo "FAIL: $*" >&2
}

pass() {
    EV_PASSED=$((EV_PASSED + 1))
}

note() {
    echo "note: $*" >&2
}

skip_case() {
    EV_SKIPPED=$((EV_SKIPPED + 1))
    echo "SKIP: $*" >&2
}

die() {
    fail "$*"
    finish
}

# Show what the last command printed (for failure messages).
show_last() {
    if [ -s "$ERR" ]; then
        { head -c 3000 "$ERR"; echo; } | sed '/^$/d; s/^/    stderr: /' >&2
    fi
    if [ -s "$OUT" ]; then
        { head -c 1500 "$OUT"; echo; } | sed '/^$/d; s/^/    stdout: /' >&2
    fi
}

# run cmd...: run with stdout/stderr captured; sets RC.
run() {
    "$@" >"$OUT" 2>"$ERR"
    RC=$?
    return 0
}

# True when the last command's stderr shows a sanitizer report or a crash.
ev__crashed() {
    grep -Eq 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|Segmentation fault|core dumped' "$ERR"
}

# expect_exit N cmd...: check the exit code and the absence of a crash.
expect_exit() {
    local want=$1
    shift
    run "$@"
    if ev__crashed; then
        fail "crash or sanitizer report (exit $RC) from: $*"
        show_last
        return 1
    fi
    if [ "$RC" -ne "$want" ]; then
        fail "exit $RC, expected $want, from: $*"
        show_last
        return 1
    fi
    pass
    return 0
}

# ok DESCRIPTION cmd...: count a check that passes when cmd succeeds.
ok() {
    local what=$1
    shift
    if "$@"; then
        pass
        return 0
    fi
    fail "$what"
    return 1
}

# Checks on --json output (a file); see tests/tools/evjson.py.
has_problem() { python3 "$TOOLS/evjson.py" has-problem "$@"; }
lacks_problem() { ! python3 "$TOOLS/evjson.py" has-problem "$@"; }
json_get() { python3 "$TOOLS/evjson.py" get "$@"; }

# expect_problem JSON CODE [PATH] [SEVERITY]: counted check with a message.
expect_problem() {
    if has_problem "$@"; then
        pass
        return 0
    fi
    fail "no problem $* in $1; problems were:"
    python3 "$TOOLS/evjson.py" problems "$1" 2>&1 | head -40 | sed 's/^/    /' >&2
    return 1
}

# The stderr of the last command is non-empty and starts with "evidence: ".
expect_message() {
    if [ -s "$ERR" ] && grep -q '^evidence: ' "$ERR"; then
        pass
        return 0
    fi
    fail "no 'evidence: ' message on stderr for the last command"
    show_last
    return 1
}

# only_dest_in SANDBOX DEST: nothing but DEST, its contents and its parent
# folders exists inside SANDBOX (checks that extraction wrote nowhere else).
only_dest_in() {
    local sandbox=$1 dest=$2 path bad=""
    while IFS= read -r -d '' path; do
        case "$path" in
        "$dest" | "$dest"/*) continue ;;
        esac
        case "$dest" in
        "$path"/*) continue ;;
        esac
        bad="$bad '$path'"
    done < <(find "$sandbox" -mindepth 1 -print0)
    if [ -z "$bad" ]; then
        pass
        return 0
    fi
    fail "files appeared outside $dest:$bad"
    return 1
}

# Exit status: 1 if a case failed; otherwise 77 if a case was skipped
# (CTest's SKIP_RETURN_CODE, so the test shows as skipped, not passed: a
# part of it did not run here); otherwise 0.
# The example exhibit schedule of docs/exhibit-schedule.md in folder DIR:
# DIR/schedule.csv (docs/examples/exhibit-schedule.csv) beside its ten
# files, each holding PREFIX followed by its own path and a newline.
example_schedule() { # DIR [PREFIX]
    mkdir -p "$1/JS1" "$1/JS2" || die "cannot make $1"
    cp "$EV_SOURCE_DIR/docs/examples/exhibit-schedule.csv" "$1/schedule.csv" || die "no example schedule"
    local f
    for f in JS1/IMG_0001.jpg JS1/IMG_0002.jpg JS1/IMG_0003.jpg JS1/IMG_0004.jpg JS2/cctv-cam1.mp4 \
             JS2/cctv-cam2.mp4 JS2/cctv-export-log.txt AB1-call.wav AB1-notes.txt AB1-photo.jpg; do
        printf '%s%s\n' "${2:-}" "$f" >"$1/$f"
    done
}

finish() {
    echo "$EV_TEST_NAME: $EV_PASSED passed, $EV_FAILED failed, $EV_SKIPPED skipped"
    if [ "$EV_FAILED" -ne 0 ]; then
        exit 1
    fi
    if [ "$EV_SKIPPED" -ne 0 ]; then
        exit 77
    fi
    exit 0
}

# ---------------------------------------------------------------------------
# Self-test, when run directly rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ev__self() {
        local f=0
        # expect_exit counts a right exit code as a pass, a wrong one as a failure
        local p0=$EV_PASSED f0=$EV_FAILED
        expect_exit 3 bash -c 'exit 3'
        [ $EV_PASSED -eq $((p0 + 1)) ] && [ $EV_FAILED -eq "$f0" ] || f=1
        expect_exit 0 bash -c 'exit 1' 2>/dev/null
        [ $EV_FAILED -eq $((f0 + 1)) ] || f=1
        # a sanitizer report is a failure even with the expected exit code
        expect_exit 1 bash -c 'echo "==1==ERROR: AddressSanitizer: heap-use-after-free" >&2; exit 1' 2>/dev/null
        [ $EV_FAILED -eq $((f0 + 2)) ] || f=1
        # output capture
        run bash -c 'echo out; echo err >&2; exit 7'
        [ "$RC" -eq 7 ] && [ "$(cat "$OUT")" = out ] && [ "$(cat "$ERR")" = err ] || f=1
        # JSON problem lookup
        printf '%s\n' '{"format":"evidence.verify","problems":[{"severity":"error","code":"modified","path":"data/a","message":"m"}]}' >"$T/j.json"
        has_problem "$T/j.json" modified data/a error || f=1
        has_problem "$T/j.json" modified data/b 2>/dev/null && f=1
        has_problem "$T/j.json" missing 2>/dev/null && f=1
        lacks_problem "$T/j.json" missing || f=1
        # only_dest_in
        mkdir -p "$T/sb/x/dest/sub"
        only_dest_in "$T/sb" "$T/sb/x/dest" || f=1
        touch "$T/sb/x/evil"
        only_dest_in "$T/sb" "$T/sb/x/dest" 2>/dev/null && f=1
        # finish: a skipped case makes the script exit 77 (shown as skipped),
        # a failure 1, neither 0
        (EV_PASSED=1 EV_FAILED=0 EV_SKIPPED=1; finish) >/dev/null; [ $? -eq 77 ] || f=1
        (EV_PASSED=1 EV_FAILED=1 EV_SKIPPED=1; finish) >/dev/null; [ $? -eq 1 ] || f=1
        (EV_PASSED=1 EV_FAILED=0 EV_SKIPPED=0; finish) >/dev/null; [ $? -eq 0 ] || f=1
        # undo the deliberate failures
        EV_FAILED=$f0
        EV_PASSED=$p0
        return $f
    }
    if ev__self; then
        pass
    else
        fail "lib.sh self-test"
    fi
    finish
fi

# Trouble while packing: outputs that cannot be written, inputs that are
# missing or not files, inputs that vanish or change while being packed, a
# full disk, SIGINT and kill -9. Each must end with the designed exit code
# and a message, and leave nothing at the output path (after a clean
# failure: nothing at all in the output folder; after kill -9: at most a
# temporary file that is not named like the output nor *.zip, and that does
# not verify).
#
# Changes "while packing" are made deterministic by tests/tools/pack_race.py:
# it watches pack's temporary output until pack is writing the big input,
# stops pack (SIGSTOP), changes the input, and lets it go on.
. "$(dirname "$0")/lib.sh"

IN="$T/in"
OD="$T/outdir"
mkdir -p "$IN" "$OD"
BIG="$IN/big.bin"
SMALL="$IN/small.txt"
fresh_inputs() {
    rm -f "$BIG" "$SMALL"
    truncate -s 256M "$BIG"
    printf 'first bytes' | dd of="$BIG" conv=notrunc status=none
    printf 'small input\n' >"$SMALL"
}
fresh_inputs

# the output folder holds nothing (a clean failure leaves no temporary files)
od_empty() {
    local left
    left=$(ls -A "$OD")
    [ -z "$left" ] && pass || fail "$1: left in the output folder: $left"
}

# --- outputs that cannot be written ---------------------------------------------------
expect_exit 4 "$EVIDENCE" pack -o "$T/no/such/folder/out.zip" "$SMALL" && expect_message
ok "no output in a missing folder" test ! -e "$T/no/such/folder/out.zip"
touch "$T/a-file"
expect_exit 4 "$EVIDENCE" pack -o "$T/a-file/out.zip" "$SMALL" && expect_message
expect_exit 4 "$EVIDENCE" pack -o /proc/evidence-test-out.zip "$SMALL" && expect_message
ok "nothing written into /proc" test ! -e /proc/evidence-test-out.zip

# an existing output is never replaced
printf 'precious\n' >"$OD/exists.zip"
expect_exit 4 "$EVIDENCE" pack -o "$OD/exists.zip" "$SMALL" && expect_message
ok "an existing output is left as it was" test "$(cat "$OD/exists.zip")" = precious
mkdir "$OD/exists-dir"
expect_exit 4 "$EVIDENCE" pack --format dir -o "$OD/exists-dir" "$SMALL" && expect_message
ok "an existing output folder is left empty" test -z "$(ls -A "$OD/exists-dir")"
rm -rf "$OD/exists.zip" "$OD/exists-dir"

# a read-only file system (root ignores permission bits, so mount one)
mkdir -p "$T/ro"
if mount -t tmpfs -o ro,size=1m tmpfs "$T/ro" 2>/dev/null; then
    on_exit "umount '$T/ro'"
    expect_exit 4 "$EVIDENCE" pack -o "$T/ro/out.zip" "$SMALL" && expect_message
    expect_exit 4 "$EVIDENCE" pack --format dir -o "$T/ro/out" "$SMALL" && expect_message
    ok "nothing on the read-only mount" test -z "$(ls -A "$T/ro")"
else
    skip_case "cannot mount a read-only tmpfs here (not root, or no privilege)"
fi

# usage errors: exit 2, nothing written
expect_exit 2 "$EVIDENCE" pack "$SMALL" && expect_message
expect_exit 2 "$EVIDENCE" pack -o "$OD/x.zip" && expect_message
expect_exit 2 "$EVIDENCE" pack -o "$OD/x.zip" --format tar "$SMALL" && expect_message
expect_exit 2 "$EVIDENCE" pack -o "$OD/x.zip" --algorithm md5 "$SMALL" && expect_message
expect_exit 2 "$EVIDENCE" pack -o "$OD/x.zip" --no-such-option "$SMALL" && expect_message
# a bag name that is not a plain printable name
expect_exit 2 "$EVIDENCE" pack -o "$OD/$(printf 'bad\001name').zip" "$SMALL" && expect_message
od_empty "usage errors"

# --- inputs that are missing or not files ---------------------------------------------------
expect_exit 3 "$EVIDENCE" pack -o "$OD/x.zip" "$IN/missing.bin" && expect_message
expect_exit 3 "$EVIDENCE" pack -o "$OD/x.zip" "$SMALL" "$IN/missing.bin" && expect_message
mkfifo "$T/a-fifo"
expect_exit 3 timeout 60 "$EVIDENCE" pack -o "$OD/x.zip" "$T/a-fifo" && expect_message
od_empty "missing inputs"
# special files and links inside a folder are skipped, with a warning
mkdir -p "$T/withfifo"
echo keep >"$T/withfifo/real.txt"
mkfifo "$T/withfifo/fifo"
ln -s /etc/hostname "$T/withfifo/link"
expect_exit 0 timeout 60 "$EVIDENCE" pack -o "$OD/skip.zip" "$T/withfifo" &&
    grep -q 'skipped' "$ERR" && pass || fail "no warning about the skipped FIFO and link"
expect_exit 0 unzip -l "$OD/skip.zip"
grep -q 'withfifo/real.txt' "$OUT" && ! grep -Eq 'withfifo/(fifo|link)$' "$OUT" && pass ||
    fail "skip.zip should hold real.txt only"
rm -f "$OD/skip.zip"

# --- inputs that change while being packed ------------------------------------------------------
# raced FORMAT SHELL-COMMAND: pack BIG then SMALL; run the command while pack
# is stopped just after its temporary output appeared
raced() {
    local fmt=$1 what=$2 out pattern r
    # stop once pack is writing BIG (1 MiB of output exists): its size and
    # time have been taken, and most of it is still to be read
    if [ "$fmt" = zip ]; then
        out="$OD/out.zip"
        pattern="*@1048576"
    else
        out="$OD/out"
        pattern="*/big.bin@1048576"
    fi
    r=$(python3 "$TOOLS/pack_race.py" "$OD" "$pattern" stop "$what" "$OUT" "$ERR" -- \
        "$EVIDENCE" pack --format "$fmt" -o "$out" "$BIG" "$SMALL")
    RACE=$?
    RC=${r:-255}
}

# raced_case NAME FORMAT EXPECTED-EXIT SHELL-COMMAND
raced_case() {
    local name=$1 fmt=$2 want=$3 what=$4
    fresh_inputs
    raced "$fmt" "$what"
    if [ "$RACE" -ne 0 ]; then
        fail "$name ($fmt): pack finished before its temporary output was seen"
        return
    fi
    if ev__crashed; then
        fail "$name ($fmt): crash or sanitizer report"
        show_last
    elif [ "$RC" -ne "$want" ]; then
        fail "$name ($fmt): exit $RC, expected $want"
        show_last
    else
        pass
        expect_message
    fi
    od_empty "$name ($fmt)"
    rm -rf "${OD:?}"/* "$OD"/.[!.]* 2>/dev/null
}

for fmt in zip dir; do
    raced_case "input removed" "$fmt" 3 "rm -f '$SMALL'"
    raced_case "input grew" "$fmt" 3 "printf more >>'$SMALL'"
    raced_case "input shrank" "$fmt" 3 "truncate -s 100M '$BIG'"
    raced_case "input rewritten in place" "$fmt" 3 \
        "printf CHANGED | dd of='$BIG' bs=1 seek=$((200 * 1024 * 1024)) conv=notrunc status=none"
    raced_case "input appended" "$fmt" 3 "printf tail >>'$BIG'"
done
grep -q 'changed while it was being packed\|vanished' "$ERR" && pass ||
    fail "the message does not say that an input changed"

# --- a full disk -------------------------------------------------------------------------
mkdir -p "$T/full"
if mount -t tmpfs -o size=2m tmpfs "$T/full" 2>/dev/null; then
    on_exit "umount '$T/full'"
    head -c 5000000 /dev/urandom >"$IN/5mb.bin"
    expect_exit 4 "$EVIDENCE" pack -o "$T/full/out.zip" "$IN/5mb.bin" && expect_message
    grep -qi 'full\|space' "$ERR" && pass || fail "the message does not say the disk is full"
    ok "nothing left on the full disk (zip)" test -z "$(ls -A "$T/full")"
    expect_exit 4 "$EVIDENCE" pack --format dir -o "$T/full/out" "$IN/5mb.bin" && expect_message
    ok "nothing left on the full disk (folder)" test -z "$(ls -A "$T/full")"
    # the disk fills while the tag files are written, after the payload
    head -c 1900000 /dev/urandom >"$IN/1.9mb.bin"
    expect_exit 4 "$EVIDENCE" pack -o "$T/full/late.zip" "$IN/1.9mb.bin" "$IN/5mb.bin"
    ok "nothing left on the full disk (late)" test -z "$(ls -A "$T/full")"
    rm -f "$IN/5mb.bin" "$IN/1.9mb.bin"
else
    skip_case "cannot mount a 2 MB tmpfs here (not root, or no privilege)"
fi

# --- interrupted ----------------------------------------------------------------------------
for fmt in zip dir; do
    fresh_inputs
    if [ "$fmt" = zip ]; then pat="*@1048576"; o="$OD/out.zip"; else pat="*/big.bin@1048576"; o="$OD/out"; fi
    r=$(python3 "$TOOLS/pack_race.py" "$OD" "$pat" signal INT "$OUT" "$ERR" -- \
        "$EVIDENCE" pack --format "$fmt" -o "$o" "$BIG" "$SMALL")
    race=$?
    if [ "$race" -ne 0 ]; then
        fail "SIGINT ($fmt): pack finished before it could be interrupted"
    else
        [ "$r" = 130 ] && pass || { fail "SIGINT ($fmt): exit $r, expected 130"; show_last; }
        ev__crashed && fail "SIGINT ($fmt): crash" && show_last
        expect_message
        od_empty "SIGINT ($fmt)"
    fi
    rm -rf "${OD:?}"/* "$OD"/.[!.]* 2>/dev/null

    r=$(python3 "$TOOLS/pack_race.py" "$OD" "$pat" signal KILL "$OUT" "$ERR" -- \
        "$EVIDENCE" pack --format "$fmt" -o "$o" "$BIG" "$SMALL")
    race=$?
    if [ "$race" -ne 0 ]; then
        fail "kill -9 ($fmt): pack finished before it could be killed"
    else
        [ "$r" = 137 ] && pass || fail "kill -9 ($fmt): exit $r, expected 137"
        ok "kill -9 ($fmt): nothing at the output path" test ! -e "$o"
        left=$(cd "$OD" && ls -A)
        case "$left" in
        *.zip | *.zip$'\n'*) fail "kill -9 ($fmt): a .zip file was left: $left" ;;
        *) pass ;;
        esac
        # whatever was left behind does not pass as a valid bundle
        for f in "$OD"/* "$OD"/.[!.]*; do
            [ -e "$f" ] || continue
            run "$EVIDENCE" verify "$f"
            [ "$RC" -ne 0 ] && pass || fail "kill -9 ($fmt): the leftover $f verifies as valid"
            ev__crashed && fail "verify of a leftover crashed" && show_last
        done
        # the leftover is named like every temporary output, and the next
        # writer of the same target removes it (nobody holds its lock), but
        # not one that a live writer holds
        b=$(basename "$o")
        left=$(cd "$OD" && ls -A)
        case "$left" in
        ".$b.partial-"*) pass ;;
        *) fail "kill -9 ($fmt): leftover not named .$b.partial-*: $left" ;;
        esac
        live="$OD/.$b.partial-LIVE42"
        : >"$live"
        flock -x "$live" sleep 60 &
        holder=$!
        sleep 0.3
        expect_exit 0 "$EVIDENCE" pack --format "$fmt" -o "$o" "$SMALL"
        left=$(cd "$OD" && ls -A | grep -v "^.$b.partial-LIVE42\$" | grep partial)
        [ -z "$left" ] && pass || fail "kill -9 ($fmt): the next pack left the stale $left"
        [ -e "$live" ] && pass || fail "kill -9 ($fmt): a temporary output held by a live process was removed"
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    rm -rf "${OD:?}"/* "$OD"/.[!.]* 2>/dev/null
done

# custody add (and sign, timestamp: the same writer) remove stale temporary
# outputs of their bundle, those of earlier versions (.NAME.amend-*) too
for fmt in zip dir; do
    if [ "$fmt" = zip ]; then o="$OD/c.zip"; else o="$OD/c"; fi
    b=$(basename "$o")
    expect_exit 0 "$EVIDENCE" pack --format "$fmt" -o "$o" "$SMALL"
    : >"$OD/.$b.partial-DEAD01"
    mkdir -p "$OD/.$b.partial-DEAD02/data"
    echo x >"$OD/.$b.partial-DEAD02/data/x"
    : >"$OD/.$b.amend-0123456789ab"
    : >"$OD/..$b.amend-0123456789ab.partial-DEAD03"
    expect_exit 0 "$EVIDENCE" custody add "$o" --action note --actor "A. Tester" --org "Lab"
    left=$(cd "$OD" && ls -A | grep -E 'partial|amend')
    [ -z "$left" ] && pass || fail "custody add ($fmt) left stale temporary outputs: $left"
    expect_exit 0 "$EVIDENCE" verify "$o"
    rm -rf "${OD:?}"/* "$OD"/.[!.]* 2>/dev/null
done

finish

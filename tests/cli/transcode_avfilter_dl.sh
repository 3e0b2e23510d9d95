#!/bin/bash
# libavfilter is not linked: it is loaded (dlopen) only when a transcode
# converts audio. Commands that do not (--version, verify, a remux, a video
# encode with the audio copied) never load it; an audio conversion does;
# and when libavfilter.so.8 cannot be loaded, or is not the right one, the
# transcode fails with exit 4 and a message saying what to install, leaving
# nothing at OUT (docs/dependencies.md).
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"

# the binary and the library it uses do not need libavfilter
ok "evidence is not linked with libavfilter" sh -c "! ldd '$EVIDENCE' | grep -q libavfilter"

# the shared objects a command opened, from the dynamic linker's trace
loads() {
    rm -f "$T"/ld.*
    LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$@" >/dev/null 2>&1
    cat "$T"/ld.* 2>/dev/null > trace
    test -s trace || { fail "no LD_DEBUG trace from: $*"; return 1; }
}
no_avfilter() { ! grep -q libavfilter trace; }
avfilter_dlopened() { grep -q 'file=libavfilter\.so\.[0-9]* .*dynamically loaded by' trace; }

$FF -f lavfi -i testsrc=size=64x48:rate=25 -t 1 -c:v libx264 -pix_fmt yuv420p video.mp4 || die fixture
$FF -f lavfi -i testsrc=size=64x48:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 1 -c:v libx264 -pix_fmt yuv420p -c:a aac av.mp4 || die fixture
$FF -f lavfi -i sine=frequency=997:sample_rate=48000 -ac 2 -t 1 -c:a pcm_s16le tone.wav || die fixture

loads "$EVIDENCE" --version && ok "--version does not load libavfilter" no_avfilter
expect_exit 0 "$EVIDENCE" pack -o small.zip tone.wav
loads "$EVIDENCE" verify small.zip && ok "verify does not load libavfilter" no_avfilter
loads "$EVIDENCE" transcode --profile remux-mkv av.mp4 remux.mkv &&
    ok "a remux (audio copied) does not load libavfilter" no_avfilter
ok "... and made its copy" test -s remux.mkv
loads "$EVIDENCE" transcode --profile archive-ffv1 video.mp4 video.mkv &&
    ok "a video encode does not load libavfilter" no_avfilter
ok "... and made its copy" test -s video.mkv
loads "$EVIDENCE" transcode --profile audio-flac tone.wav tone.flac &&
    ok "an audio conversion loads libavfilter at run time" avfilter_dlopened
ok "... and made its copy" test -s tone.flac

# a libavfilter.so.8 that is not a library
mkdir fake
echo "not a library" > fake/libavfilter.so.8
LD_LIBRARY_PATH=$T/fake expect_exit 4 "$EVIDENCE" transcode --profile audio-flac tone.wav bad.flac
ok "unloadable: the message names the library and the reason" \
    grep -q "converting audio needs FFmpeg's libavfilter: libavfilter.so.8 could not be loaded (.*fake/libavfilter.so.8: " "$ERR"
ok "... and what to install" grep -q "libavfilter8" "$ERR"
ok "... and nothing is left at OUT" test ! -e bad.flac -a ! -e bad.flac.derivation.json
LD_LIBRARY_PATH=$T/fake expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv av.mp4 remux2.mkv
ok "unloadable: a remux still works" test -s remux2.mkv

# a library of another major version
if command -v cc >/dev/null; then
    {
        echo 'unsigned avfilter_version(void) { return 7u << 16 | 110u << 8 | 100u; }'
        for f in avfilter_graph_alloc avfilter_graph_free avfilter_graph_create_filter \
                 avfilter_graph_config avfilter_get_by_name avfilter_link \
                 av_buffersink_set_frame_size av_buffersink_get_frame av_buffersrc_add_frame_flags; do
            echo "void $f(void); void $f(void) { }"
        done
    } > fake.c
    cc -shared -fPIC -o fake/libavfilter.so.8 fake.c || die "cc"
    LD_LIBRARY_PATH=$T/fake expect_exit 4 "$EVIDENCE" transcode --profile audio-flac tone.wav old.flac
    ok "another major version: refused, both versions named" \
        grep -q "libavfilter.so.8 is version 7.110.100, but this library was built for major version 8" "$ERR"
    ok "... and nothing is left at OUT" test ! -e old.flac
else
    note "no C compiler: the version check is not tried"
fi
finish

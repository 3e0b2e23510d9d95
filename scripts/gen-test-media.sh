#!/usr/bin/env bash
# Generate the media fixtures used by the media tests (tests/unit/test_media.c,
# tests/cli/media_*.sh) into OUTDIR. Everything is synthetic (FFmpeg lavfi
# sources, exiftool tags); nothing is downloaded. Needs ffmpeg and exiftool
# (Debian packages ffmpeg, libimage-exiftool-perl); heif-enc (libheif-examples)
# is optional and only used for the HEIC fixture.
#
# usage: scripts/gen-test-media.sh OUTDIR
# Prints nothing on success; exits non-zero on the first failure.
set -euo pipefail

out=${1:?usage: gen-test-media.sh OUTDIR}
mkdir -p "$out"
cd "$out"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
et() { exiftool -q -q -overwrite_original "$@"; }

V="-f lavfi -i testsrc2=size=320x240:rate=25"
A="-f lavfi -i sine=frequency=440:sample_rate=48000"
T=1

# --- video containers -------------------------------------------------------
ff $V $A -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 64k \
   -metadata creation_time=2024-05-01T10:20:30Z v_h264.mp4
ff -i v_h264.mp4 -map 0 -c copy v_remux.mkv
ff -i v_remux.mkv -map 0 -c copy v_remux.mp4
ff $V $A -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a flac v_h264_flac.mkv
ff $V $A -t $T -c:v mjpeg -q:v 5 -pix_fmt yuvj420p -c:a pcm_s16le v_mjpeg.avi
ff $V $A -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 64k v_h264.ts
ff $V $A -t $T -c:v mpeg2video -q:v 4 -c:a mp2 -f vob v_mpeg2.mpg
ff $V -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -bsf:v h264_mp4toannexb -f h264 v_raw.264
ff $V -t $T -c:v libx265 -preset ultrafast -x265-params log-level=none -pix_fmt yuv420p -f hevc v_raw.265
# intra-only lossless video: every packet is one frame (deep-verify tests)
ff $V -t $T -c:v ffv1 -level 3 -g 1 -slices 4 -slicecrc 1 v_ffv1.mkv
# 10-bit 4:2:2 video (native pixel format other than yuv420p)
ff $V -t $T -c:v ffv1 -pix_fmt yuv422p10le v_ffv1_422p10.mkv
# interlaced (top field first)
ff $V -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -flags +ildct+ilme \
   -x264opts tff=1 v_interlaced.mp4
# variable frame rate: frames 0-9 at 25 fps, then 12.5 fps
ff -f lavfi -i testsrc2=size=320x240:rate=25 -t 2 \
   -vf "setpts='if(lt(N,10),N,10+(N-10)*2)/25/TB'" -fps_mode vfr \
   -c:v libx264 -preset veryfast -pix_fmt yuv420p v_vfr.mp4

# rotation through the display matrix (5.1's -metadata:s:v rotate does not set one)
for r in 90 180 270; do
    cp v_h264.mp4 v_rot$r.mp4
    et -Rotation=$r v_rot$r.mp4
done

# GPS and device facts in MP4 (Apple mdta keys) and MOV (QuickTime user data)
cp v_h264.mp4 v_gps.mp4
et -Keys:GPSCoordinates="51.5007, -0.1246, 12.5" -Keys:Make=TestMake -Keys:Model=TestModel \
   -Keys:CreationDate="2024:05:01 11:20:30+01:00" v_gps.mp4
ff $V $A -t $T -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 64k -f mov v_gps.mov
et -UserData:GPSCoordinates="40.6892, -74.0445" -UserData:Make=QtMake -UserData:Model=QtModel v_gps.mov

# --- audio --------------------------------------------------------------------
ff $A -t $T -c:a pcm_s16le a_s16.wav
ff $A -t $T -c:a pcm_s24le a_s24.wav
ff $A -t $T -c:a pcm_f32le a_f32.wav
ff -f lavfi -i sine=frequency=440:sample_rate=8000 -t $T -c:a pcm_alaw a_alaw.wav
ff -f lavfi -i sine=frequency=440:sample_rate=8000 -t $T -c:a pcm_mulaw a_mulaw.wav
ff $A -t $T -c:a libmp3lame -b:a 64k a.mp3
ff $A -t $T -ac 2 -c:a flac -sample_fmt s32 a_s24.flac
ff $A -t $T -c:a flac a_s16.flac

# --- stills -------------------------------------------------------------------
ff -f lavfi -i testsrc2=size=96x64 -frames:v 1 -q:v 3 i.jpg
et -Make=TestMake -Model=TestModel -SerialNumber=SN12345 \
   -DateTimeOriginal="2024:05:01 10:20:30" -SubSecTimeOriginal=25 -OffsetTimeOriginal="+01:00" \
   -GPSLatitude=51.5007 -GPSLatitudeRef=N -GPSLongitude=0.1246 -GPSLongitudeRef=W \
   -GPSAltitude=12.5 -GPSAltitudeRef=0 -GPSDateStamp=2024:05:01 -GPSTimeStamp=09:20:30 \
   -Orientation#=6 i.jpg
for o in 1 2 3 4 5 6 7 8; do
    cp i.jpg i_o$o.jpg
    et -Orientation#=$o i_o$o.jpg
done
ff -f lavfi -i testsrc2=size=96x64 -frames:v 1 -q:v 3 i_noexif.jpg
ff -f lavfi -i testsrc2=size=96x64 -frames:v 1 i.png
et -Make=PngMake -Model=PngModel -DateTimeOriginal="2023:12:31 23:59:59" \
   -GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E i.png
ff -f lavfi -i testsrc2=size=96x64 -frames:v 1 -pix_fmt rgb24 i.tiff
et -Make=TiffMake -Model=TiffModel -DateTimeOriginal="2022:01:02 03:04:05" -Orientation#=3 i.tiff
if command -v heif-enc >/dev/null 2>&1; then
    heif-enc -q 50 i.png -o i.heic >/dev/null 2>&1 &&
        et -Make=HeicMake -Model=HeicModel -DateTimeOriginal="2024:05:01 10:20:30" \
           -OffsetTimeOriginal="+01:00" i.heic || rm -f i.heic
fi
exit 0

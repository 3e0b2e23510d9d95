#!/usr/bin/env python3
"""The events of a video's timeline worked out from ffprobe -show_frames, to
compare with `evidence inspect` (docs/media.md, "Timelines").

    showframes.py FILE

Reads each frame's own pts (MPEG-PS gives one only to the first frame of each
PES packet; the frames between are taken to follow at the usual interval, the
median step of the first 64). A timed frame later than that by more than half
an interval ends a gap (missing: the excess); one not later than the timed
frame before it is a discontinuity. FFmpeg's MPEG-PS reading now and then gives
a frame the next frame's PES time: one interval late, the next timed frame as
much early after at most 8 frames between; that pair is stamp jitter, not an
event (as docs/media.md says). best_effort_timestamp is not used: for MPEG-2 it
carries the next packet's dts, one frame early at a cut. Picture sizes: where
width x height change. Frames are counted from 1. Prints:

    gap after frame K: SECONDS
    discontinuity after frame K: goes back|stands still
    early after frame K: SECONDS          (a step back not paired as jitter)
    size from frame K: WxH to WxH
    jitter N
    frames N

A stream whose frames have no pts of their own (a raw elementary stream)
gives no events. Standard library and ffprobe only.
"""
import json, subprocess, sys
from fractions import Fraction
d = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
    "frame=pts,width,height:stream=time_base", "-of", "json", sys.argv[1]],
    capture_output=True, text=True, check=True).stdout)
num, den = map(int, d["streams"][0]["time_base"].split("/"))
tb = Fraction(num, den)
fr = d["frames"]
known = [(k + 1, f["pts"]) for k, f in enumerate(fr) if "pts" in f]
steps = sorted((b - a) // (j - i) for (i, a), (j, b) in zip(known[:65], known[1:65]) if b > a)
ref = steps[len(steps) // 2] if steps else None
ev = []
for (i, a), (j, b) in zip(known, known[1:]) if ref else []:
    late = b - (a + (j - i) * ref)
    if b <= a:
        ev.append(["discontinuity", j - 1, b - a])
    elif late > ref // 2:
        ev.append(["gap", j - 1, late])
    elif late < -(ref // 2):
        ev.append(["early", j - 1, late])
jitter = 0
for n, e in enumerate(ev):
    f = ev[n + 1] if n + 1 < len(ev) else None
    if e[0] == "gap" and e[2] <= 2 * ref and f and f[0] == "early" and f[1] - e[1] <= 9 \
            and abs(e[2] + f[2]) <= ref // 2:
        e[0] = f[0] = "jitter"
        jitter += 1
for kind, k, v in ev:
    if kind == "gap":
        print("gap after frame %d: %.3f" % (k, v * tb))
    elif kind == "discontinuity":
        print("discontinuity after frame %d: %s" % (k, "stands still" if v == 0 else "goes back"))
    elif kind == "early":
        print("early after frame %d: %.3f" % (k, v * tb))
for k in range(1, len(fr)):
    if (fr[k]["width"], fr[k]["height"]) != (fr[k - 1]["width"], fr[k - 1]["height"]):
        print("size from frame %d: %dx%d to %dx%d" % (k + 1, fr[k - 1]["width"], fr[k - 1]["height"],
                                                    fr[k]["width"], fr[k]["height"]))
print("jitter %d" % jitter)
print("frames %d" % len(fr))

#!/usr/bin/env python3
"""Timeline checks for tests/cli/media_timeline.sh.

  tlcheck.py get DOC.json KEY           print media.streams[0].timeline[KEY] (json)
  tlcheck.py events DOC.json            print "gap AFTER MISSING" / "disc KIND AFTER" lines
  tlcheck.py ffprobe PACKETS.csv [TICKS_PER_S]   the same lines, computed independently from
                                        `ffprobe -show_entries packet=pts,dts,duration -of csv=p=0`
                                        (pts, else the previous time + its duration; a gap is
                                        a step over 1.5 times the median of the first 64 steps)
"""
import json
import sys


def tl(path):
    return json.load(open(path))["media"]["streams"][0]["timeline"]


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "get":
        print(json.dumps(tl(path).get(sys.argv[3])))
    elif cmd == "events":
        t = tl(path)
        for g in t.get("gaps", []):
            print("gap %d %.3f" % (g["after_frame"], g["missing"]))
        for d in t.get("discontinuities", []):
            print("disc %s %d" % (d["kind"], d["after_frame"]))
    elif cmd == "ffprobe":
        tb = float(sys.argv[3]) if len(sys.argv) > 3 else 90000.0
        times = []
        prev = prev_dur = None
        for line in open(path):
            f = line.strip().split(",")
            pts, dur = f[0], f[2] if len(f) > 2 else "N/A"
            if pts != "N/A":
                v = int(pts)
            elif prev is not None and prev_dur:
                v = prev + prev_dur
            else:
                continue
            times.append(v)
            prev, prev_dur = v, (int(dur) if dur not in ("N/A", "") else None)
        steps = [b - a for a, b in zip(times, times[1:])]
        probe = sorted(s for s in steps[:64] if s > 0)
        ref = probe[len(probe) // 2]
        gaps, discs = [], []

        def record(i, s):
            if s <= 0:
                discs.append("disc %s %d" % ("backward" if s < 0 else "repeat", i + 1))
            elif s > ref + ref // 2:
                gaps.append("gap %d %.3f" % (i + 1, (s - ref) / tb))

        # a short gap taken back within 8 frames by a step that stands still
        # or goes back (deviations summing to under half an interval) is
        # stamp jitter, not an event
        pend = None  # (index, step, deviation, held steps)
        for i, s in enumerate(steps):
            if pend is not None:
                dev = pend[2] + (s - ref)
                if s <= 0 and abs(dev) <= ref // 2:
                    pend = None
                    continue
                if 0 < s <= ref + ref // 2 and pend[3] < 8:
                    pend = (pend[0], pend[1], dev, pend[3] + 1)
                    continue
                record(pend[0], pend[1])
                pend = None
            if ref + ref // 2 < s <= 3 * ref:
                pend = (i, s, s - ref, 0)
                continue
            record(i, s)
        if pend is not None:
            record(pend[0], pend[1])
        print("\n".join(gaps + discs))
    else:
        sys.exit("unknown command")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Circles of calls between the library's source files, from the symbols of
their object files (nm): file A calls a function defined in file B, B calls
one in A (or through more files). Prints each circle; exit 1 if there is
one. usage: callcycles.py BUILD_DIR   (run by scripts/checks.sh)"""
import collections
import glob
import os
import subprocess
import sys

root = os.path.join(sys.argv[1], "libevidence", "CMakeFiles", "evidence_obj.dir", "src")
objs = glob.glob(os.path.join(root, "*", "*.o"))
if not objs:
    print("callcycles: no object files under %s" % root)
    sys.exit(1)
defs, uses = {}, collections.defaultdict(set)
for o in objs:
    name = os.path.relpath(o, root)[:-2]          # bag/bag.c
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDRB":
            defs[p[2]] = name
        elif len(p) == 2 and p[0] == "U":
            uses[name].add(p[1])
graph = collections.defaultdict(set)
for f, us in uses.items():
    for u in us:
        if u in defs and defs[u] != f:
            graph[f].add(defs[u])
# strongly connected components (iterative Tarjan)
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
for start in sorted(set(graph) | set(defs.values())):
    if start in index:
        continue
    work = [(start, iter(sorted(graph[start])))]
    index[start] = low[start] = counter[0]; counter[0] += 1
    stack.append(start); on.add(start)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = counter[0]; counter[0] += 1
                stack.append(w); on.add(w)
                work.append((w, iter(sorted(graph[w]))))
            elif w in on:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))
for c in comps:
    print("callcycles: these files call each other in a circle: " + ", ".join(c))
sys.exit(1 if comps else 0)

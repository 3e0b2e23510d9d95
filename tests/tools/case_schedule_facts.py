#!/usr/bin/env python3
"""Every fact of a record's exhibit schedule (evidence.json: people, places,
events, exhibits) is in case.jsonld as docs/exhibit-schedule.md maps it.

    case_schedule_facts.py evidence.json case.jsonld [custody.jsonl]

With custody.jsonl, a custody event that names a person or place of the
schedule must have that person's and place's nodes as its performer and
location.

Prints each fact that is missing or different; exit 0 when none, 1 otherwise.
Used by tests/cli/case_shacl.sh.
"""
import json
import re
import sys


def main(rec_path, graph_path, custody_path=None):
    rec = json.load(open(rec_path))
    g = json.load(open(graph_path))["@graph"]
    ids = {n["@id"]: n for n in g}
    bad = []

    def want(cond, what):
        if not cond:
            bad.append(what)

    def deref(v):
        if not v:
            return None
        v = v[0] if isinstance(v, list) else v
        return ids.get(v["@id"])

    people = {p["id"]: p for p in rec.get("people", [])}
    places = {p["id"]: p for p in rec.get("places", [])}
    events = {e["id"]: e for e in rec.get("events", [])}
    prs = {n["case-investigation:exhibitNumber"]: n for n in g
           if n["@type"] == "case-investigation:ProvenanceRecord"}
    acts = [n for n in g if n["@type"] == "case-investigation:InvestigativeAction"]
    ctx = {"crime": "crime reference", "urn": "URN", "dems_id": "DEMS"}
    for x in rec.get("exhibits", []):
        r = x["reference"]
        pr = prs.get(r)
        want(pr is not None, r + ": a provenance record")
        if not pr:
            continue
        want(pr.get("uco-core:description") == x.get("description"), r + ": description")
        got = {(e["uco-core:definingContext"], e["uco-core:externalIdentifier"])
               for e in pr.get("uco-core:externalReference", [])}
        want(got == {(ctx[k], v) for k, v in x.get("references", {}).items()}, r + ": references")
        ev = events[x["event"]]
        # the schedule's action (custody's "created" has the bundle as a result too)
        a = [a for a in acts
             if any(v["@id"] == pr["@id"] for v in a.get("uco-action:result", [])) and
             not any(ids.get(v["@id"], {}).get("@type") == "uco-core:Bundle"
                     for v in a.get("uco-action:result", []))]
        want(len(a) == 1, r + ": one action with the exhibit as its result")
        if len(a) != 1:
            continue
        a = a[0]
        said = a.get("uco-core:description", "")
        want(a.get("uco-core:name") == ev.get("action"), r + ": action")
        who = deref(a.get("uco-action:performer"))
        p = people[ev["performer"]]
        want(who is not None and who.get("uco-core:name") == p["name"], r + ": performer's name")
        xr = (who or {}).get("uco-core:externalReference", [{}])[0]
        want(xr.get("uco-core:externalIdentifier") == p.get("identifier"),
             r + ": performer's identifier")
        for key, prop in (("time", "uco-action:startTime"), ("end_time", "uco-action:endTime")):
            t = a.get(prop, {}).get("@value")
            if key in ev:
                exp = re.sub(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d)(?=[Zz+-])", r"\1:00", ev[key])
                want(t == exp, "%s: %s %s, want %s" % (r, key, t, exp))
            else:
                want(t is None, r + ": no " + key + " without its zone")
                if key + "_local" in ev:
                    want(ev[key + "_local"] in said, r + ": the " + key + " as written, described")
        if ev.get("time_unknown"):
            want("time not known" in said, r + ": 'time not known'")
        loc = deref(a.get("uco-action:location"))
        pl = places[ev["place"]]
        want(loc is not None and loc.get("@type") == "uco-location:Location" and
             loc.get("uco-core:description") == pl.get("description"), r + ": place")
        facets = {f["@type"]: f for f in (loc or {}).get("uco-core:hasFacet", [])}
        addr = facets.get("uco-location:SimpleAddressFacet", {})
        want(addr.get("uco-location:street") == pl.get("address") and
             addr.get("uco-location:postalCode") == pl.get("postcode"), r + ": address")
        ll = facets.get("uco-location:LatLongCoordinatesFacet")
        if "latitude" in pl:
            want(ll is not None and
                 float(ll["uco-location:latitude"]["@value"]) == pl["latitude"] and
                 float(ll["uco-location:longitude"]["@value"]) == pl["longitude"],
                 r + ": coordinates")
        else:
            want(ll is None, r + ": no coordinates where none were given")
        src = x.get("source", {})
        inst = [ids[i["@id"]] for i in a.get("uco-action:instrument", [])]
        dev = [i for i in inst if i["@type"] == "uco-observable:Device"]
        if any(k in src for k in ("make", "model", "serial")):
            f = dev[0]["uco-core:hasFacet"][0] if dev else {}
            make = ids.get(f.get("uco-observable:manufacturer", {}).get("@id"), {})
            want(make.get("uco-core:name") == src.get("make") and
                 f.get("uco-observable:model") == src.get("model") and
                 f.get("uco-observable:serialNumber") == src.get("serial"), r + ": device")
        tools = [i["uco-core:name"] for i in inst if i["@type"] == "uco-tool:Tool"]
        want(tools == ([src["system"]] if "system" in src else []), r + ": source system")
        if "owner" in src:
            owned = [n for n in g if n["@type"] == "uco-core:Relationship" and
                     n.get("uco-core:kindOfRelationship") == "Owned_By" and
                     n["uco-core:source"][0]["@id"] in {i["@id"] for i in inst}]
            want(len(owned) == 1 and
                 ids[owned[0]["uco-core:target"]["@id"]]["uco-core:name"] == src["owner"],
                 r + ": owner")
        if x.get("handling_notes"):
            want(x["handling_notes"] in said, r + ": handling notes")
    # custody events that name a person or place of the schedule: the same
    # nodes as the schedule's events use
    node_of = {}
    for a in acts:
        for v in a.get("uco-action:result", []):
            node_of.setdefault(v["@id"], a)
    pnode, lnode = {}, {}
    for x in rec.get("exhibits", []):
        a = node_of.get(prs.get(x["reference"], {}).get("@id"))
        ev = events[x["event"]]
        if a and "uco-action:performer" in a:
            pnode[ev["performer"]] = a["uco-action:performer"]["@id"]
        if a and "uco-action:location" in a:
            lnode[ev["place"]] = a["uco-action:location"][0]["@id"]
    for line in open(custody_path, encoding="utf-8") if custody_path else []:
        e = json.loads(line)
        if "person" not in e and "place" not in e:
            continue
        a = [n for n in acts if n.get("uco-core:name") == e["action"] and
             n.get("uco-action:startTime", {}).get("@value") == e["time"]]
        want(len(a) == 1, "custody %s: one action" % e["seq"])
        if len(a) != 1:
            continue
        if "person" in e:
            want(a[0].get("uco-action:performer", {}).get("@id") == pnode.get(e["person"]),
                 "custody %s: performer is the node of %s" % (e["seq"], e["person"]))
        if "place" in e:
            want([v["@id"] for v in a[0].get("uco-action:location", [])] == [lnode.get(e["place"])],
                 "custody %s: location is the node of %s" % (e["seq"], e["place"]))
    roles = {n["uco-core:name"] for n in g if n["@type"] == "uco-role:Role"}
    want(roles == {e["performer_role"] for e in events.values() if "performer_role" in e},
         "the roles")
    print("\n".join(bad) if bad else "all schedule facts found")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

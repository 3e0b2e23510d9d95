# index.html shows the exhibit schedule of the record (docs/views.md,
# "index.html"; docs/exhibit-schedule.md, "How it is carried in the record"):
# - the example schedule (docs/examples/exhibit-schedule.csv) packed: one
#   row per exhibit with its reference, description, event (action,
#   performer name + identifier + organisation, role, time as recorded with
#   its zone state, end time), place (description, address, postcode,
#   coordinates), source, references, handling notes, extra fields and its
#   files linked to their rows, every line checked against evidence.json;
#   each item's exhibit cell links to its exhibit's row with the
#   description and the event's action and time;
# - a hostile schedule (markup, quotes and & in every kind of cell, an
#   extra column): every value shown as text, escaped, nothing acts;
# - a bundle without a schedule has no exhibit table and a layout-2 page;
#   a schedule bundle packed before the table existed (fixture, layout 2)
#   still verifies, and custody add rewrites it in layout 3; a changed fact
#   in the table is a view-mismatch;
# - headless Chromium renders the page: the screenshot is not blank, and
#   the table makes the page taller than the same files packed without a
#   schedule. The screenshot's path is printed (kept with EV_KEEP_TMP=1, and
#   copied to $EV_REPORT_SHOTS when set).
. "$(dirname "$0")/lib.sh"

cd "$T" || die "no scratch folder"

# --- the example schedule and its ten files ---------------------------------------------
mkdir -p w/JS1 w/JS2 || die "mkdir"
cp "$EV_SOURCE_DIR/docs/examples/exhibit-schedule.csv" w/schedule.csv || die "no example schedule"
for f in JS1/IMG_0001.jpg JS1/IMG_0002.jpg JS1/IMG_0003.jpg JS1/IMG_0004.jpg JS2/cctv-cam1.mp4 \
    JS2/cctv-cam2.mp4 JS2/cctv-export-log.txt AB1-call.wav AB1-notes.txt AB1-photo.jpg; do
    printf '%s\n' "$f" >"w/$f"
done
expect_exit 0 bash -c "cd w && '$EVIDENCE' pack -q -o ../sched.zip --case 23/1 --officer 'Jo Smith' \
    --org 'Example Police' --exhibits schedule.csv" || die "pack with the example schedule failed"
# the same files without a schedule
expect_exit 0 bash -c "cd w && '$EVIDENCE' pack -q -o ../plain.zip --case 23/1 --officer 'Jo Smith' \
    --org 'Example Police' --exhibit JS/1 JS1 --exhibit JS/2 JS2 \
    --exhibit AB/1 AB1-call.wav AB1-notes.txt AB1-photo.jpg" || die "pack without a schedule failed"

# --- a hostile schedule ------------------------------------------------------------------
mkdir -p h || die "mkdir"
printf 'one\n' >h/H1.txt
printf 'two\n' >h/H2.txt
cat >h/schedule.csv <<'EOF'
reference,description,action,producer_name,producer_identifier,producer_role,producer_organisation,time,end_time,place,address,postcode,latitude,longitude,source_make,source_model,source_serial,source_owner,source_system,crime_reference,urn,dems_id,handling_notes,Bag seal,files
H/1 <b>x</b>,"<script>alert(1)</script> & ""quoted"" 'single'",seized & <i>bagged</i>,O'Brien <img src=x onerror=alert(1)>,PC <1>,Exhibits & <u>officer</u>,"Force ""A"" & <s>B</s>",2026-07-01T10:00+01:00,2026-07-01T10:30:15.250+01:00,Flat 1 <br> & yard,"1 <Road> & ""Lane""",AB1 <2>,-33.8688197,151.2092955,A&B <Make>,M<1>,S&1,Own<er>,Sys &amp; tem,CR&1,U<RN>,D<1>,"line & <hr> ""x""",S<1>&2,H1.txt
H/2,second & last,produced,Ann <Other>,,,,2026-07-01 09:30,,,,,,,,,,,,,,,,,H2.txt
EOF
expect_exit 0 bash -c "cd h && '$EVIDENCE' pack -q -o ../hostile.zip --case 'H<1>' --officer 'Jo Smith' \
    --org 'Example Police' --exhibits schedule.csv" || die "pack with the hostile schedule failed"

# --- the table against the record ---------------------------------------------------------
cat >check.py <<'EOF'
"""check.py BUNDLE.zip: the exhibit table and the items' exhibit cells of
index.html say exactly what evidence.json says. Prints each difference."""
import html.parser, json, sys, zipfile

z = zipfile.ZipFile(sys.argv[1])
name = lambda n: [x for x in z.namelist() if x.count("/") == 1 and x.endswith("/" + n)][0]
rec = json.loads(z.read(name("evidence.json")))
page = z.read(name("index.html")).decode("utf-8")

class P(html.parser.HTMLParser):
    """rows by id: each cell as its text lines (<br> breaks a line) and its links"""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.row, self.cell = {}, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self.row = []
            if a.get("id"):
                self.rows[a["id"]] = self.row
        elif tag in ("td", "th") and self.row is not None:
            self.cell = {"text": "", "links": []}
        elif tag == "br" and self.cell is not None:
            self.cell["text"] += "\n"
        elif tag == "a" and self.cell is not None:
            self.cell["links"].append(a.get("href"))
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
    def handle_data(self, d):
        if self.cell is not None:
            self.cell["text"] += d

p = P()
p.feed(page)
bad = []
def same(what, got, want):
    if got != want:
        bad.append("%s: page %r, record %r" % (what, got, want))

people = {x["id"]: x for x in rec.get("people", [])}
places = {x["id"]: x for x in rec.get("places", [])}
events = {x["id"]: x for x in rec.get("events", [])}
items = rec["items"]

def when(ev, pre, not_known):
    t = ev.get(pre + "time") or ev.get(pre + "time_local")
    if t:
        return "%s (zone %s)" % (t, ev.get(pre + "time_zone", "not recorded"))
    return not_known if ev.get(pre + "time_unknown") else None

for k, ex in enumerate(rec["exhibits"], 1):
    row = p.rows.get("exhibit-%d" % k)
    ref = ex["reference"]
    if not row or len(row) != 8:
        bad.append("no row of 8 cells for exhibit %d (%s)" % (k, ref))
        continue
    cell = [c["text"] for c in row]
    same(ref + " reference", cell[0], ref)
    same(ref + " description", cell[1], ex.get("description", ""))
    ev = events[ex["event"]]
    lines = []
    if "action" in ev: lines.append("action: " + ev["action"])
    pr = people[ev["performer"]]
    by = pr["name"]
    if "identifier" in pr: by += " (%s)" % pr["identifier"]
    if "organisation" in pr: by += ", " + pr["organisation"]
    lines.append("by: " + by)
    if "performer_role" in ev: lines.append("role: " + ev["performer_role"])
    if when(ev, "", "not known"): lines.append("time: " + when(ev, "", "not known"))
    if when(ev, "end_", "not known"): lines.append("until: " + when(ev, "end_", "not known"))
    same(ref + " event", cell[2].split("\n"), lines)
    pl = places.get(ev.get("place"))
    lines = []
    if pl:
        lines = [pl[f] for f in ("description", "address", "postcode") if f in pl]
        if "latitude" in pl:
            # the coordinates as the record's JSON text has them
            lines.append("latitude %r, longitude %r" % (pl["latitude"], pl["longitude"]))
    same(ref + " place", cell[3].split("\n") if cell[3] else [], lines)
    src = ex.get("source", {})
    same(ref + " source", cell[4].split("\n") if cell[4] else [],
         ["%s: %s" % (f, src[f]) for f in ("make", "model", "serial", "owner", "system") if f in src])
    rf = ex.get("references", {})
    same(ref + " references", cell[5].split("\n") if cell[5] else [],
         ["%s: %s" % (l, rf[f]) for f, l in (("crime", "crime"), ("urn", "URN"), ("dems_id", "DEMS id"))
          if f in rf])
    notes = ([ex["handling_notes"]] if "handling_notes" in ex else []) + \
            ["%s: %s" % kv for kv in ex.get("extra", {}).items()]
    same(ref + " notes", cell[6].split("\n") if cell[6] else [], notes)
    mine = [it for it in items if it.get("exhibit") == ref]
    same(ref + " files", cell[7].split("\n"),
         ["%d file%s" % (len(mine), "" if len(mine) == 1 else "s")] + [it["path"] for it in mine])
    same(ref + " file links", row[7]["links"], ["#" + it["id"] for it in mine])
    for it in mine:
        irow = p.rows.get(it["id"])
        if not irow:
            bad.append("no row for item " + it["id"])
            continue
        brief = " ".join(x for x in (ev.get("action"), when(ev, "", "time not known")) if x)
        want = ref + "\n" + "; ".join(x for x in (ex.get("description"), brief) if x)
        same(it["id"] + " exhibit cell", irow[0]["text"], want)
        same(it["id"] + " exhibit link", irow[0]["links"], ["#exhibit-%d" % k])
if p.rows.get("exhibit-%d" % (len(rec["exhibits"]) + 1)):
    bad.append("more exhibit rows than exhibits")
if '<meta name="generator" content="evidence index.html layout 3">' not in page:
    bad.append("the page does not name layout 3")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
ok "example schedule: every exhibit, event, person, place, time, reference and file as the record says" \
    python3 check.py sched.zip
ok "example schedule: the views checker finds nothing wrong" python3 "$TOOLS/views_check.py" html sched.zip
unzip -p sched.zip sched/index.html >sched.html || die "no index.html"
ok "JS/1: the time with its offset, zone stated" \
    grep -qF 'time: <span class="t">2026-03-14T09:05:00Z</span> (zone stated)' sched.html
ok "JS/2: the clock time as written, zone unknown (no zone invented)" \
    grep -qF 'time: <span class="t">2026-03-14T11:20</span> (zone unknown)' sched.html
ok "AB/1: time not known" grep -qF 'time: not known</td>' sched.html
ok "an item names its exhibit, linked to its row" \
    grep -qF '<tr id="item-0005"><td><a href="#exhibit-2">JS/2</a><br><small>CCTV export from the shop opposite; seized <span class="t">2026-03-14T11:20</span> (zone unknown)</small>' sched.html
ok "Jo Smith once, as first spelt (not 'jo smith')" bash -c "! grep -q 'jo smith' sched.html"

ok "hostile schedule: every value as the record says" python3 check.py hostile.zip
ok "hostile schedule: the views checker finds nothing wrong" python3 "$TOOLS/views_check.py" html hostile.zip
unzip -p hostile.zip hostile/index.html >hostile.html || die "no index.html"
ok "hostile: the <script> description is escaped text" \
    grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;' hostile.html
ok "hostile: no markup from the schedule acts" bash -c \
    "! grep -qiE '<(script|img|b|i|u|s|hr)[ >]|<br> &' hostile.html"
ok "hostile: '&amp;' in the record is shown as written (escaped again)" grep -qF 'Sys &amp;amp; tem' hostile.html
ok "hostile: the extra column" grep -qF 'Bag seal: S&lt;1&gt;&amp;2' hostile.html
ok "hostile: a time with an offset and fractions, as written" \
    grep -qF 'until: <span class="t">2026-07-01T10:30:15.250+01:00</span> (zone stated)' hostile.html
ok "hostile: 7 decimals of latitude kept" grep -qF 'latitude -33.8688197, longitude 151.2092955' hostile.html
expect_exit 0 "$EVIDENCE" verify hostile.zip
expect_exit 0 "$EVIDENCE" verify sched.zip

# --- without a schedule: no table, layout 2 -----------------------------------------------
unzip -p plain.zip plain/index.html >plain.html || die "no index.html"
ok "no schedule: no exhibit table" bash -c "! grep -qE 'Exhibits</h2>|exhibit-1|span class=\"t\"' plain.html"
ok "no schedule: the page names layout 2" \
    grep -qF '<meta name="generator" content="evidence index.html layout 2">' plain.html
ok "no schedule: the exhibit cell is the reference alone" grep -qF '<tr id="item-0001"><td>JS/1</td>' plain.html

# --- a schedule bundle packed before the table: still valid; rewritten in layout 3 ----------
FIX="$EV_SOURCE_DIR/tests/cli/fixtures/views-layout2-schedule.zip"
[ -f "$FIX" ] || die "no fixture $FIX"
ok "the fixture's page is layout 2 with no exhibit table" bash -c \
    "unzip -p '$FIX' layout2s/index.html | grep -qF 'layout 2\">' &&
     ! unzip -p '$FIX' layout2s/index.html | grep -q 'Exhibits</h2>'"
expect_exit 0 "$EVIDENCE" verify --json "$FIX"
ok "layout 2 with a schedule: valid, no problem at all" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "valid" and d["problems"] == [], d["problems"]' "$OUT"
mkdir -p old && (cd old && unzip -q "$FIX") || die "unzip"
cp -r old/layout2s cur
expect_exit 0 "$EVIDENCE" custody add cur --action verified --actor 'A Reviewer' --org 'Test Force'
ok "custody add writes layout 3 with the table" bash -c \
    "grep -qF 'layout 3\">' cur/index.html && grep -qF 'Exhibits</h2>' cur/index.html"
expect_exit 0 "$EVIDENCE" verify cur
ok "rewritten: valid, 0 warnings" grep -q "valid (.*0 error(s), 0 warning(s))" "$OUT"
# a changed fact in the table, the tag manifests and seal made to agree
for edit in 's/11:20<\/span> (zone unknown)/11:20<\/span> (zone stated)/' \
    's/layout 3">/layout 2">/'; do
    rm -rf bad && cp -r cur bad
    sed -i "$edit" bad/index.html && python3 "$TOOLS/retag.py" bad || die "edit"
    if cmp -s bad/index.html cur/index.html; then
        fail "the edit $edit changed nothing"
        continue
    fi
    expect_exit 1 "$EVIDENCE" verify --json bad
    ok "edited table ($edit): view-mismatch on index.html" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
assert [(x["code"], x["path"], x["severity"]) for x in p] == [("view-mismatch", "index.html", "error")], p' "$OUT"
done

# --- headless Chromium: the table is rendered ---------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-extensions --disable-background-networking --disable-sync \
        --hide-scrollbars --user-data-dir="$T/chrome-profile" "$@"
}
mkdir -p sbag pbag && (cd sbag && unzip -q ../sched.zip) && (cd pbag && unzip -q ../plain.zip) ||
    die "unzip"
if [ -z "$CHROMIUM" ]; then
    skip_case "chromium is not installed (apt-get install chromium): no screenshots"
elif ! chrome --dump-dom "file://$T/sbag/sched/index.html" >dom.txt 2>chrome.log ||
    ! grep -q 'Evidence bundle 23/1' dom.txt; then
    skip_case "chromium cannot run here: $(tail -n 3 chrome.log | tr '\n' ' ')"
else
    ok "Chromium's DOM has the exhibit rows" bash -c \
        "grep -q 'id=\"exhibit-1\"' dom.txt && grep -q 'id=\"exhibit-3\"' dom.txt"
    for page in sched plain; do
        expect_exit 0 chrome --window-size=1400,2600 --screenshot="$T/$page.png" \
            "file://$T/${page:0:1}bag/$page/index.html"
    done
    read -r sw sh _ sink slast < <(python3 "$TOOLS/pngpixels.py" sched.png ffffff)
    read -r pw ph _ pink plast < <(python3 "$TOOLS/pngpixels.py" plain.png ffffff)
    ok "screenshot: 1400x2600 and not blank ($sink pixels of ink)" \
        test "${sw:-0}" -eq 1400 -a "${sh:-0}" -eq 2600 -a "${sink:-0}" -gt 20000
    ok "screenshot without a schedule: not blank ($pink pixels of ink)" test "${pink:-0}" -gt 20000
    # the exhibit table (three rows of several lines each) makes the page
    # taller: its last line of ink is lower than on the page without it
    ok "the table is rendered: the page ends at row $slast, without a schedule at $plast" \
        test "${slast:-0}" -gt $((${plast:-0} + 300)) -a "${slast:-0}" -lt 2599
    ok "more ink with the table ($sink against $pink)" test "${sink:-0}" -gt $((${pink:-0} + 20000))
    note "screenshot of index.html with the exhibit table: $T/sched.png (kept with EV_KEEP_TMP=1)"
    if [ -n "${EV_REPORT_SHOTS:-}" ]; then
        mkdir -p "$EV_REPORT_SHOTS" && cp sched.png "$EV_REPORT_SHOTS/index-exhibits.png"
    fi
fi

finish

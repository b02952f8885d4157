# shellcheck shell=bash
# The core-pair part of scripts/lab-e2e, sourced by it (its helpers, $LAB, $BIN, $TMP): the
# daemon on a fresh store in the core-pair lab (scripts/lab.d/topology-core-pair.sh, 3 access
# routers behind dist1, 10 lines each):
#   - cut-link core core2: one link-down incident holding both ends' ports, no line;
#   - blackhole dist1 (answers SNMP, forwards nothing): one incident rooted at dist1, kind
#     forwarding-failure, all 30 lines behind it, first announced that way; each line's interval
#     starts at its own first lost round at the latest and ends at its own first good round.

pair_phase() {
	local condition took first bh_at unbh_at status
	"$LAB" down >/dev/null 2>&1
	if ! "$LAB" up --topology core-pair --access 3 --lines 10 >/dev/null; then
		fail "lab up --topology core-pair"
		return
	fi
	CONFIG=$TMP/pair.yaml STORE=$TMP/pair.sqlite
	"$LAB" config --out "$CONFIG" --store "$STORE" >/dev/null
	ip netns exec fwl-noc "$BIN" run --config "$CONFIG" >"$TMP/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 1 80); do
		"$BIN" status --store "$STORE" >/dev/null 2>&1 && break
		sleep 0.25
	done
	sleep 7
	if [[ $(query 'len(incidents)') == 0 ]]; then ok "core-pair: a healthy lab opens no incident"; else fail "core-pair: healthy lab: $(query 'incidents')"; fi

	# ------------------------------------------- one link, seen from both ends ---
	"$LAB" cut-link core core2 >/dev/null
	condition="len(open_()) == 1 and open_()[0]['root']['kind'] == 'link-down' and len(open_()[0]['lines']) == 0"
	if took=$(wait_for 10 "$condition"); then
		ok "cut-link core core2: one link-down incident without lines, ${took} s after the cut"
	else
		fail "cut-link core core2: one link-down incident: $(query 'open_()')"
	fi
	sleep 3
	local link_id ports
	link_id=$(query 'open_()[0]["id"] if open_() else 0')
	ports=$(python3 -c '
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)
print(sorted(r[0] for r in db.execute("SELECT subject_id FROM fault WHERE incident_id = ? AND subject_type = ?", (int(sys.argv[2]), "port"))))' "$STORE" "$link_id")
	if [[ $(query "len(incidents) == 1") == True && $ports == "['core/to-core2', 'core2/to-core']" ]]; then
		ok "cut-link core core2: exactly one incident, holding both ends' ports $ports"
	else
		fail "cut-link core core2: one incident with both ports: $ports; $(query '[(i["id"], i["root"]) for i in incidents]')"
	fi
	"$LAB" restore-link core core2 >/dev/null
	if took=$(wait_for 15 'len(open_()) == 0'); then ok "restore-link core core2: resolved ${took} s after"; else fail "restore-link core core2: resolved: $(query 'open_()')"; fi

	# ------------------------------------------------- grey failure: blackhole ---
	mark_log
	local before
	before=$(query 'len(incidents)')
	bh_at=$(now_ms)
	"$LAB" blackhole dist1 >/dev/null
	condition="len(open_()) == 1 and open_()[0]['root'] == {'type': 'element', 'id': 'dist1', 'kind': 'forwarding-failure'} and len(open_()[0]['lines']) == 30"
	# Nothing traps: the access routers are found at their next poll (10 s), then 3 s.
	if took=$(wait_for 20 "$condition"); then
		ok "blackhole dist1: one forwarding-failure incident rooted at dist1 with all 30 lines, ${took} s after"
	else
		fail "blackhole dist1: one forwarding-failure incident with 30 lines: $(query '[(i["root"], len(i["lines"])) for i in open_()]')"
	fi
	sleep 4
	local bh_id
	bh_id=$(query 'open_()[0]["id"] if open_() else 0')
	if [[ $(query "$condition and len(incidents) == $before + 1") == True ]]; then
		ok "blackhole dist1: no incident per access router"
	else
		fail "blackhole dist1: exactly one new incident: $(query '[(i["id"], i["root"], len(i["lines"])) for i in incidents]')"
	fi
	first=$(outbox "(lambda r: (r['payload']['root']['kind'], r['payload']['lines']) if r else None)(first_open($bh_id))")
	if [[ $first == "('forwarding-failure', 30)" ]]; then
		ok "blackhole dist1: first announced as the forwarding failure with its 30 lines"
	else
		fail "blackhole dist1: first announcement (kind, lines): $first"
	fi
	# Every line's own probe verdict (3 lost rounds of 5 s) is in before forwarding resumes.
	while (($(now_ms) - bh_at < 18000)); do sleep 0.25; done
	unbh_at=$(now_ms)
	"$LAB" unblackhole dist1 >/dev/null
	if took=$(wait_for 25 'len(open_()) == 0'); then ok "unblackhole dist1: resolved ${took} s after"; else fail "unblackhole dist1: resolved: $(query 'open_()')"; fi
	# The lines' own verdicts of their first good rounds (R good rounds of 5 s) come in.
	sleep 11
	incidents_json >"$TMP/incidents.json"
	status=$(tail -n +"$LOG_MARK" "$TMP/daemon.log" | python3 -c '
import json, re, sys
from datetime import datetime
def t(text): return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
incident_id, bh, unbh = int(sys.argv[2]), int(sys.argv[3]) / 1000, int(sys.argv[4]) / 1000
incident = next(i for i in json.load(open(sys.argv[1])) if i["id"] == incident_id)
own_down, own_up = {}, {}
for line in sys.stdin:
    m = re.search(r"line (down|up) .*line\.id=\"?([^\s\"]+)\"? .*line\.since=\"?([^\s\"]+)\"?", line)
    if not m: continue
    since = t(m.group(3))
    if m.group(1) == "down": own_down.setdefault(m.group(2), since)
    elif since >= unbh - 0.5: own_up[m.group(2)] = min(own_up.get(m.group(2), since), since)
problems = []
for l in incident["lines"]:
    lid, start, end = l["id"], t(l["start"]), t(l["end"]) if l["end"] else None
    if not bh - 0.3 <= start <= bh + 5.5: problems.append(f"{lid} starts {start - bh:+.2f} s after the fault")
    if lid in own_down and start > own_down[lid] + 0.05:
        problems.append(f"{lid} starts {start - own_down[lid]:.2f} s after its own first lost round")
    if end is None:
        problems.append(f"{lid} never ends")
        continue
    if not unbh - 0.3 <= end <= unbh + 5.5: problems.append(f"{lid} ends {end - unbh:+.2f} s after the repair")
    if lid in own_up and end > own_up[lid] + 0.05:
        problems.append(f"{lid} ends {end - own_up[lid]:.2f} s after its own first good round")
late_start = max(t(l["start"]) - bh for l in incident["lines"])
late_end = max((t(l["end"]) - unbh for l in incident["lines"] if l["end"]), default=-1)
print(("ok" if not problems else "; ".join(problems[:5])) + f" | {len(own_down)} own verdicts; latest start +{late_start:.2f} s after the fault, latest end +{late_end:.2f} s after the repair")
' "$TMP/incidents.json" "$bh_id" "$bh_at" "$unbh_at" 2>&1)
	if [[ $status == ok* ]]; then
		ok "blackhole dist1: every line's interval from its first evidence to its first good round (${status#ok | })"
	else
		fail "blackhole dist1: line intervals: $status"
	fi
	if [[ $(outbox "$CONSISTENT") == True ]]; then
		ok "core-pair: every announced state is consistent ($(outbox 'len(rows)') outbox rows)"
	else
		fail "core-pair: announced states consistent: $(outbox 'rows')"
	fi

	kill -TERM "$DAEMON_PID"
	for _ in $(seq 1 80); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.25; done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "core-pair: daemon stops within 20 s of SIGTERM"
		kill -KILL "$DAEMON_PID"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

pair_phase

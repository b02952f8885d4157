# Sourced by scripts/lab-e2e: credits from a real outage in the lab.
#   - every contract gets a credit policy (a day's fee per started 24 h of outage);
#   - cut-link agg2 core for a minute: a credit row for each of agg2's lines (outage within 3 s
#     of the cut) and for agg1's (cut earlier), none for the dual-homed agg3 whose uplink was lost.

# credits_config CONFIG: adds the billing section and a policy on every contract.
credits_config() {
	sed -i 's/^    availability_target: \(.*\)$/    availability_target: \1\n    credit_policy: lab-outage-days/' "$1"
	cat >>"$1" <<'YAML'

billing:
  time_zone: Europe/Prague
  locale: cs
credit_policies:
  - id: lab-outage-days
    rules:
      - outage_days: {divisor: "30"}
YAML
}

# credits_csv: this month's feed.
credits_csv() {
	"$BIN" credits --period "$(TZ=Europe/Prague date +%Y-%m)" --format csv --config "$CONFIG" --store "$STORE"
}

# credits_query PYTHON_EXPRESSION over `rows` (the CSV as dicts).
credits_query() {
	credits_csv 2>"$TMP/credits.err" | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(eval(sys.argv[1]))' "$1"
}

credits_checks() {
	local lines=$1 cut_at restore_at truth
	# What the month already holds (earlier phases' outages): the cut's own share is compared.
	local before
	before=$(credits_query "{r['line_id']: int(r['outage_seconds']) for r in rows}")
	[[ $before == \{* ]] || before="{}"
	cut_at=$(now_ms)
	"$LAB" cut-link agg2 core >/dev/null
	if wait_for 10 "any(i['root']['id'] == 'agg2' and len(i['lines']) == $lines for i in open_())" >/dev/null; then
		ok "credits: cut-link agg2 core, one incident with its $lines lines"
	else
		fail "credits: cut-link agg2 core: $(query 'open_()')"
	fi
	while (($(now_ms) - cut_at < 60000)); do sleep 0.25; done
	restore_at=$(now_ms)
	"$LAB" restore-link agg2 core >/dev/null
	truth=$(((restore_at - cut_at) / 1000))
	wait_for 20 'len(open_()) == 0' >/dev/null || fail "credits: restore-link agg2 core: resolved: $(query 'open_()')"

	local behind
	behind=$(credits_query "sorted(r['line_id'] for r in rows if r['line_id'].startswith(('agg1-', 'agg2-')) and int(r['outage_seconds']) > 0 and float(r['credit']) > 0)")
	if [[ $behind == "$(python3 -c "print(sorted([f'agg{k}-l{l:02d}' for k in (1, 2) for l in range(1, $lines + 1)]))")" ]]; then
		ok "credits: a credit row for every line behind agg1 and agg2 ($((2 * lines)) rows)"
	else
		fail "credits: a credit row for every line behind agg1 and agg2: $behind $(cat "$TMP/credits.err")"
	fi
	local off
	# agg2-l07 was cut on its own by the line-down phase and is still flagged flapping: its
	# verdicts after the restore add time of their own.
	off=$(credits_query "max(abs(int(r['outage_seconds']) - $before.get(r['line_id'], 0) - $truth) for r in rows if r['line_id'].startswith('agg2-') and r['line_id'] != 'agg2-l07')")
	if [[ $off =~ ^[0-9]+$ ]] && ((off <= 3)); then
		ok "credits: agg2's lines credited for the minute's outage (${truth} s, worst ${off} s off)"
	else
		fail "credits: agg2's lines' outage within 3 s of ${truth} s: $off"
	fi
	if [[ $(credits_query "[r['line_id'] for r in rows if r['line_id'].startswith('agg3-')]") == "[]" ]]; then
		ok "credits: no row for the dual-homed site agg3"
	else
		fail "credits: rows for the dual-homed site: $(credits_query "[r for r in rows if r['line_id'].startswith('agg3-')]")"
	fi
	if [[ $(credits_query "all(r['statement'].startswith('Výpadek služby ') and r['statement'].endswith(' Kč') for r in rows if float(r['credit']) > 0)") == True ]]; then
		ok "credits: every credit carries its Czech bill line"
	else
		fail "credits: bill lines: $(credits_query "[r['statement'] for r in rows][:3]")"
	fi
	# After a minute without service the lines' probe windows hold losses: they are judged degraded
	# until enough clean rounds pass. The next checks start from a quiet lab.
	wait_for 90 'len(open_()) == 0' >/dev/null || fail "credits: the lab quiet again within 90 s: $(query '[(i["root"], len(i["lines"])) for i in open_()]')"
}

# shellcheck shell=bash
# The `core-pair` topology of scripts/lab (`scripts/lab up --topology core-pair`), sourced by it:
# a redundant pair of core routers with a link between them, a distribution router dual-homed
# to both, and the access routers behind the distribution router.
#
#   noc ── core ══ core2          core: NOC-attached, SNMPv3 only (as in the default lab)
#            │       │            core2: reached over core-core2, or through dist1 when that
#            └ dist1 ┘                   link is cut
#              │ │ │              dist1: upstreams core (metric 100) and core2 (metric 200);
#           agg1 … aggN                  `blackhole dist1` cuts off every access router
#
# Addresses: loopbacks core 198.18.0.1, core2 198.18.0.2, dist1 198.18.0.5, aggK
# 198.18.0.(10+K); links core-core2 198.18.3.0/30, core-dist1 .4/30, core2-dist1 .8/30,
# dist1-aggK 198.18.3.(4K+8)/30; lines as in the default lab (aggK-lLL, 198.19.K.0/24), all
# routed (no L2 access LAN). Every name and function keeps its meaning; only the shape differs.

TOPOLOGY_ROUTERS_NOTE="core, core2, dist1, agg1..agg$ACCESS"

routers() {
	local k
	printf '%s\n' core core2 dist1
	for ((k = 1; k <= ACCESS; k++)); do echo "agg$k"; done
}

# Router-router links as "A B" (A is the upstream end).
links() {
	local k
	printf '%s\n' "noc core" "core core2" "core dist1" "core2 dist1"
	for ((k = 1; k <= ACCESS; k++)); do echo "dist1 agg$k"; done
}

link_addr() {
	local a=$1 b=$2 side=$3 base
	case "$a $b" in
	"noc core")
		[[ $side == a ]] && echo "$NOC_ADDR/24" || echo "$CORE_NOC_ADDR/24"
		return
		;;
	"core core2") base=0 ;;
	"core dist1") base=4 ;;
	"core2 dist1") base=8 ;;
	*) base=$((4 * ${b#agg} + 8)) ;;
	esac
	[[ $side == a ]] && echo "198.18.3.$((base + 1))/30" || echo "198.18.3.$((base + 2))/30"
}

router_addr() {
	case $1 in
	core) echo 198.18.0.1 ;;
	core2) echo 198.18.0.2 ;;
	dist1) echo 198.18.0.5 ;;
	agg*) echo "198.18.0.$((10 + ${1#agg}))" ;;
	esac
}

is_router() {
	local r=$1
	[[ $r == core || $r == core2 || $r == dist1 ]] && return 0
	[[ $r =~ ^agg([0-9]+)$ ]] && ((10#${BASH_REMATCH[1]} >= 1 && 10#${BASH_REMATCH[1]} <= ACCESS)) &&
		[[ $r == "agg$((10#${BASH_REMATCH[1]}))" ]]
}

need_router() { is_router "$1" || die "unknown router '$1' ($TOPOLOGY_ROUTERS_NOTE)"; }

# No L2 access LAN in this topology: every line is routed.
is_lan_line() { false; }

# via A B SIDE: the address (without length) of end SIDE of link A-B.
via() {
	local address
	address=$(link_addr "$1" "$2" "$3")
	echo "${address%/*}"
}

# Static routes, metric 100 the primary path and 200 the backup; with
# ignore_routes_with_linkdown a route over a link without carrier is skipped.
add_routes() {
	local k r
	add noc route add 198.18.0.0/15 via "$CORE_NOC_ADDR"
	# core: core2 directly, or through dist1; dist1 and the access side through dist1.
	add core route add "$(router_addr core2)/32" via "$(via core core2 b)" metric 100
	add core route add "$(router_addr core2)/32" via "$(via core dist1 b)" metric 200
	add core route add "$(router_addr dist1)/32" via "$(via core dist1 b)" metric 100
	add core route add "$(router_addr dist1)/32" via "$(via core core2 b)" metric 200
	# core2: everything towards the NOC through core, or through dist1.
	add core2 route add 198.18.0.0/15 via "$(via core core2 a)" metric 100
	add core2 route add 198.18.0.0/15 via "$(via core2 dist1 b)" metric 200
	add core2 route add "$(router_addr dist1)/32" via "$(via core2 dist1 b)" metric 100
	# dist1: up through core, else core2; core2's loopback directly.
	add dist1 route add 198.18.0.0/15 via "$(via core dist1 a)" metric 100
	add dist1 route add 198.18.0.0/15 via "$(via core2 dist1 a)" metric 200
	add dist1 route add "$(router_addr core2)/32" via "$(via core2 dist1 a)" metric 100
	for ((k = 1; k <= ACCESS; k++)); do
		r=agg$k
		for prefix in "$(router_addr "$r")/32" "198.19.$k.0/24"; do
			# core: through dist1, or through core2 when core-dist1 is cut.
			add core route add "$prefix" via "$(via core dist1 b)" metric 100
			add core route add "$prefix" via "$(via core core2 b)" metric 200
			add core2 route add "$prefix" via "$(via core2 dist1 b)" metric 100
			add dist1 route add "$prefix" via "$(via dist1 "$r" b)"
		done
		add "$r" route add 198.18.0.0/15 via "$(via dist1 "$r" a)"
	done
}

# The `elements` section of the Forewarn configuration.
config_elements() {
	local k r
	cat <<EOF
  - id: core
    name: Lab core router 1
    address: $(router_addr core)
    kind: core
    snmp_profile: lab-v3
    poll_interval: 10s
  - id: core2
    name: Lab core router 2 (redundant pair, link core-core2)
    address: $(router_addr core2)
    kind: core
    upstream: [{element: core, port: to-core, peer_port: to-core2}]
    snmp_profile: lab-v2c
    poll_interval: 10s
  - id: dist1
    name: Lab distribution router
    address: $(router_addr dist1)
    kind: aggregation
    upstream: [{element: core, port: to-core, peer_port: to-dist1}, {element: core2, port: to-core2, peer_port: to-dist1}]
    snmp_profile: lab-v2c
    poll_interval: 10s
EOF
	for ((k = 1; k <= ACCESS; k++)); do
		r=agg$k
		cat <<EOF
  - id: $r
    name: Lab access router $k (behind dist1)
    address: $(router_addr "$r")
    kind: access
    upstream: [{element: dist1, port: to-dist1, peer_port: to-$r}]
    snmp_profile: lab-v2c
    poll_interval: 10s
EOF
	done
}

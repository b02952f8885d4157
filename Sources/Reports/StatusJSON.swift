import Foundation
import ForewarnModel
import Persistence

/// `forewarn status --json` and `GET /api/v1/status`: a stable contract (docs/status-json.md).
/// Keys are only ever added; a value not known is `null`, never absent.
extension StatusReport {
    public static let schema = "forewarn.status.v1"

    public var json: String {
        // Every value is a string, number, boolean, null, array or dictionary of those.
        let data = try! JSONSerialization.data(withJSONObject: jsonObject,
                                               options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    public var jsonObject: [String: Any] {
        func instant(_ date: Date?) -> Any { date.map { RFC3339.format($0) as Any } ?? NSNull() }
        func money(_ totals: [String: Int64]) -> [[String: Any]] {
            totals.keys.sorted().map { currency in
                ["currency": currency, "minor_units": totals[currency]!,
                 "amount": Money(minorUnits: totals[currency]!, currency: currency).decimalText]
            }
        }
        var object: [String: Any] = [
            "schema": Self.schema,
            "generated_at": RFC3339.format(now),
            "store": store,
            "alive": anyAlive,
            "daemons": daemons.map { daemon -> [String: Any] in
                let beat = daemon.heartbeat
                return [
                    "instance": beat.instance, "pid": Int(beat.pid), "hostname": beat.hostname, "version": beat.version,
                    "state": beat.state.rawValue, "alive": daemon.alive, "stale": daemon.stale,
                    "config": beat.configPath, "config_loaded_at": instant(beat.configLoadedAt),
                    "started_at": RFC3339.format(beat.startedAt), "uptime_seconds": daemon.uptimeSeconds,
                    "heartbeat_at": RFC3339.format(beat.beatAt), "heartbeat_age_seconds": daemon.ageSeconds,
                    "stale_after_seconds": daemon.staleAfterSeconds,
                    "inventory": ["elements": beat.elements, "lines": beat.lines, "customers": beat.customers,
                                  "contracts": beat.contracts],
                    "collection": beat.collection.map(Self.collectionObject) ?? NSNull(),
                    "cluster": daemon.member.map { member -> Any in
                        ["role": member.role.rawValue, "elements": member.elements, "lines": member.lines,
                         "leaving": member.leaving,
                         "beat_age_seconds": Self.tenths(Double(member.age.components.seconds)
                                                         + Double(member.age.components.attoseconds) / 1e18)]
                    } ?? NSNull(),
                ]
            },
            "correlator": correlator.map { $0 as Any } ?? NSNull(),
            "incidents": [
                "open": incidents.count,
                "planned": incidents.filter(\.incident.planned).count,
                "by_severity": Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0.rawValue, openBySeverity[$0] ?? 0) }),
                "list": incidents.map { open -> [String: Any] in
                    let incident = open.incident
                    return [
                        "id": incident.id.rawValue, "severity": incident.severity.rawValue,
                        "root": ["type": incident.root.subject.kind, "id": incident.root.subject.identifier,
                                 "kind": incident.root.kind.rawValue],
                        "lines_out": open.linesOut, "lines_in_scope": open.linesInScope,
                        "customers_out": open.customersOut, "started_at": RFC3339.format(incident.startedAt),
                        "detected_at": RFC3339.format(incident.detectedAt), "age_seconds": open.ageSeconds,
                        "origin": open.origin, "first_call_at": instant(incident.firstCallAt),
                        "planned": incident.planned, "flapping": incident.flapping, "manual": incident.isManual,
                        "acknowledged": incident.acknowledgedAt.map { at -> Any in
                            ["at": RFC3339.format(at), "by": open.acknowledgedBy.map { $0 as Any } ?? NSNull()]
                        } ?? NSNull(),
                        "ticket": open.ticket.map { ticket -> Any in
                            ["id": ticket.ticketID, "hook": ticket.hook.rawValue,
                             "state": ticket.state.map { $0 as Any } ?? NSNull()]
                        } ?? NSNull(),
                        "delivery": open.delivery.rawValue,
                    ]
                },
            ] as [String: Any],
            "tickets": backlog.map { entry -> [String: Any] in
                ["hook": entry.hook.rawValue, "pending": entry.pending, "dead": entry.dead,
                 "oldest_pending_seconds": entry.oldestPending.map { Self.tenths(now.timeIntervalSince($0)) as Any } ?? NSNull()]
            },
            "outbox": ["pending": outboxPending, "dead": outboxDead],
            "credits_month_to_date": credits.map { month -> Any in
                ["month": month.month, "closed": month.closed, "credits": money(month.totals),
                 "as_of": instant(accountedAt)]
            } ?? NSNull(),
            "notes": notes,
        ]
        object["kpis_quarter_to_date"] = kpis.map { quarter -> Any in
            var kpis = quarter.jsonObject
            kpis["as_of"] = RFC3339.format(accountedAt ?? now)
            return kpis
        } ?? NSNull()
        return object
    }

    static func collectionObject(_ health: CollectionHealth) -> [String: Any] {
        [
            "elements": ["reachable": health.elementsReachable, "unreachable": health.elementsUnreachable,
                         "not_polled": health.elementsNotPolled],
            "lines": ["up": health.linesUp, "down": health.linesDown, "degraded": health.linesDegraded,
                      "unknown": health.linesUnknown, "unprobed": health.linesUnprobed],
            "polls_per_second": health.pollsPerSecond, "probes_per_second": health.probesPerSecond,
            "traps_per_second": health.trapsPerSecond,
            "last_trap_at": health.lastTrapAt.map { RFC3339.format($0) as Any } ?? NSNull(),
            "snmp_timeouts": health.snmpTimeouts,
        ]
    }
}

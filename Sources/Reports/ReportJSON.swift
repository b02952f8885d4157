import Foundation
import ForewarnModel

/// `forewarn status --period P --format json`: a stable contract (docs/reports.md). Keys are
/// only ever added; a value not known is `null`, never absent; percentages are decimal strings
/// (four decimals, truncated) beside the exact counts they come from; durations are integer
/// milliseconds, outages integer seconds, money integer minor units beside a decimal string.
extension OperationsReport {
    public static let schema = "forewarn.report.v1"

    public var json: String {
        let object = jsonObject
        // Every value is a string, number, boolean, null, array or dictionary of those.
        let data = try! JSONSerialization.data(withJSONObject: object,
                                               options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    var jsonObject: [String: Any] {
        func percent(_ share: Share) -> Any { share.percentText(decimals: 4) ?? NSNull() }
        func optional(_ value: Int64?) -> Any { value.map { $0 as Any } ?? NSNull() }
        func rate(_ share: Share, _ comparison: String, _ target: Percentage, _ status: TargetStatus) -> [String: Any] {
            ["percent": percent(share), "count": share.numerator, "of": share.denominator, "status": status.rawValue,
             "target": ["comparison": comparison, "percent": target.description]]
        }
        func credits(_ totals: [String: Int64]) -> [[String: Any]] {
            totals.keys.sorted().map { currency in
                ["currency": currency, "minor_units": totals[currency]!,
                 "amount": Money(minorUnits: totals[currency]!, currency: currency).decimalText]
            }
        }
        func availability(_ row: Availability, named: Bool) -> [String: Any] {
            var object: [String: Any] = ["id": row.id, "lines": row.lines, "lines_hit": row.linesHit,
                                         "outage_seconds": row.outageSeconds, "availability_percent": percent(row.availability)]
            if named { object["name"] = row.name }
            return object
        }
        var fixed = rate(kpis.fixedWithinDay, ">=", targets.fixedWithinDay, kpis.fixedWithinDayStatus)
        fixed["pending"] = kpis.fixedPending
        let kpiObject: [String: Any] = [
            "incidents": kpis.incidents,
            "incidents_by_severity": Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0.rawValue, kpis.bySeverity[$0] ?? 0) }),
            "proactive_rate": rate(kpis.proactive, ">", targets.proactiveRate, kpis.proactiveStatus),
            "lines_hit": rate(kpis.linesHit, "<", targets.linesHit, kpis.linesHitStatus),
            "fixed_within_a_day": fixed,
            "detection_lead_time": kpis.leadTime.map { lead -> Any in
                ["incidents": lead.incidents, "median_ms": lead.median, "p90_ms": lead.p90]
            } ?? NSNull(),
            "time_to_detect": ["incidents": kpis.incidents, "mean_ms": optional(kpis.meanTimeToDetect)],
            "time_to_restore": ["restored": kpis.restored, "still_open": kpis.stillOpen,
                                "mean_ms": optional(kpis.meanTimeToRestore)],
            "availability": ["percent": percent(kpis.availability), "lines": kpis.linesHit.denominator,
                             "available_line_seconds": kpis.availability.numerator,
                             "monitored_line_seconds": kpis.availability.denominator,
                             "outage_line_seconds": kpis.outageLineSeconds],
            "credits": credits(kpis.credits),
        ]
        return [
            "schema": Self.schema,
            "period": ["name": period.description, "kind": period.kind.rawValue, "first_day": period.first.description,
                       "last_day": period.last.description, "time_zone": zone, "start": RFC3339.format(start),
                       "end": RFC3339.format(end)],
            "as_of": RFC3339.format(asOf),
            "kpis": kpiObject,
            "incidents_per_week": weeks.map { week -> [String: Any] in
                var object: [String: Any] = ["week": week.name, "monday": week.monday]
                for severity in Severity.allCases { object[severity.rawValue] = week.bySeverity[severity] ?? 0 }
                return object
            },
            "detection_lead_times": [
                "buckets": leadTimes.map { bucket -> [String: Any] in
                    ["label": bucket.label, "from_ms": optional(bucket.from), "to_ms": optional(bucket.to),
                     "incidents": bucket.incidents]
                },
                "not_called": notCalled,
            ] as [String: Any],
            "elements": elements.map { availability($0, named: true) },
            "availability_bands": bands.map { band -> [String: Any] in
                ["label": band.label, "from_percent": band.from.map { $0.description as Any } ?? NSNull(), "elements": band.elements]
            },
            "worst_elements": worstElements.map { availability($0, named: true) },
            "worst_customers": worstCustomers.map { availability($0, named: false) },
            "credits_per_month": months.map { month -> [String: Any] in
                ["month": month.month, "state": month.closed ? "closed" : "open", "credits": credits(month.totals)]
            },
        ]
    }
}

import Foundation
import ForewarnModel

extension StatusReport {
    /// The quarter to date as the status shows it: each rate beside its target, from the
    /// operations report's `KPIs`, or read back from a daemon's status document (the daemon keeps
    /// them current, so a `forewarn status` beside it need not compute them again).
    public struct QuarterKPIs: Sendable, Hashable {
        public struct Rate: Sendable, Hashable {
            public var share: Share
            public var status: TargetStatus
            /// `>`, `<` or `>=`.
            public var comparison: String
            public var target: Percentage
        }

        public struct LeadTime: Sendable, Hashable {
            public var incidents: Int
            public var median: Int64
            public var p90: Int64
        }

        public var period: String
        public var incidents: Int
        public var proactive: Rate
        public var linesHit: Rate
        public var fixedWithinDay: Rate
        /// Called about less than 24 h ago and still open.
        public var fixedPending: Int
        public var leadTime: LeadTime?
        public var availability: Share

        public init(period: ReportPeriod, kpis: KPIs, targets: ReportTargets) {
            self.period = period.description
            incidents = kpis.incidents
            proactive = Rate(share: kpis.proactive, status: kpis.proactiveStatus, comparison: ">", target: targets.proactiveRate)
            linesHit = Rate(share: kpis.linesHit, status: kpis.linesHitStatus, comparison: "<", target: targets.linesHit)
            fixedWithinDay = Rate(share: kpis.fixedWithinDay, status: kpis.fixedWithinDayStatus, comparison: ">=",
                                  target: targets.fixedWithinDay)
            fixedPending = kpis.fixedPending
            leadTime = kpis.leadTime.map { LeadTime(incidents: $0.incidents, median: $0.median, p90: $0.p90) }
            availability = kpis.availability
        }

        /// `kpis_quarter_to_date` of a status document; nil when it is not one.
        public init?(json object: [String: Any]) {
            func rate(_ key: String) -> Rate? {
                guard let rate = object[key] as? [String: Any], let count = (rate["count"] as? NSNumber)?.int64Value,
                      let of = (rate["of"] as? NSNumber)?.int64Value,
                      let status = (rate["status"] as? String).flatMap(TargetStatus.init(rawValue:)),
                      let target = rate["target"] as? [String: Any], let comparison = target["comparison"] as? String,
                      let percent = (target["percent"] as? String).flatMap({ Percentage(decimal: $0) }) else { return nil }
                return Rate(share: Share(count, of: of), status: status, comparison: comparison, target: percent)
            }
            guard let period = object["period"] as? String, let incidents = (object["incidents"] as? NSNumber)?.intValue,
                  let proactive = rate("proactive_rate"), let linesHit = rate("lines_hit"),
                  let fixed = rate("fixed_within_a_day"),
                  let availability = object["availability"] as? [String: Any],
                  let available = (availability["available_line_seconds"] as? NSNumber)?.int64Value,
                  let monitored = (availability["monitored_line_seconds"] as? NSNumber)?.int64Value else { return nil }
            (self.period, self.incidents, self.proactive, self.linesHit, self.fixedWithinDay) =
                (period, incidents, proactive, linesHit, fixed)
            fixedPending = ((object["fixed_within_a_day"] as? [String: Any])?["pending"] as? NSNumber)?.intValue ?? 0
            if let lead = object["detection_lead_time"] as? [String: Any], let count = (lead["incidents"] as? NSNumber)?.intValue,
               let median = (lead["median_ms"] as? NSNumber)?.int64Value, let p90 = (lead["p90_ms"] as? NSNumber)?.int64Value {
                leadTime = LeadTime(incidents: count, median: median, p90: p90)
            }
            self.availability = Share(available, of: monitored)
        }

        var jsonObject: [String: Any] {
            func rate(_ rate: Rate) -> [String: Any] {
                ["percent": rate.share.percentText(decimals: 4) ?? NSNull(), "count": rate.share.numerator,
                 "of": rate.share.denominator, "status": rate.status.rawValue,
                 "target": ["comparison": rate.comparison, "percent": rate.target.description]]
            }
            var fixed = rate(fixedWithinDay)
            fixed["pending"] = fixedPending
            return [
                "period": period,
                "incidents": incidents,
                "proactive_rate": rate(proactive),
                "lines_hit": rate(linesHit),
                "fixed_within_a_day": fixed,
                "detection_lead_time": leadTime.map { lead -> Any in
                    ["incidents": lead.incidents, "median_ms": lead.median, "p90_ms": lead.p90]
                } ?? NSNull(),
                "availability_percent": availability.percentText(decimals: 4) ?? NSNull(),
                "availability": ["available_line_seconds": availability.numerator,
                                 "monitored_line_seconds": availability.denominator],
            ]
        }
    }
}

extension MonthCredits {
    /// `credits_month_to_date` of a status document; nil when it is not one.
    public init?(json object: [String: Any]) {
        guard let month = object["month"] as? String, let closed = object["closed"] as? Bool,
              let credits = object["credits"] as? [[String: Any]] else { return nil }
        var totals: [String: Int64] = [:]
        for credit in credits {
            guard let currency = credit["currency"] as? String,
                  let minor = (credit["minor_units"] as? NSNumber)?.int64Value else { return nil }
            totals[currency] = minor
        }
        self.init(month: month, closed: closed, totals: totals)
    }
}

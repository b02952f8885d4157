import ForewarnModel

extension ConfigReader {
    static let reportsKeys = ["targets"]
    static let reportTargetKeys = ["proactive_rate", "lines_hit", "fixed_within_day"]

    /// `reports:`: the targets the operations report judges the KPIs against (docs/reports.md).
    mutating func readReports(_ node: Located) -> ReportTargets {
        var targets = ReportTargets()
        guard let fields = Fields(node, what: "reports", allowed: Self.reportsKeys, sink: &sink),
              let targetsNode = fields.value("targets"),
              let targetFields = Fields(targetsNode, what: "reports.targets", allowed: Self.reportTargetKeys, sink: &sink)
        else { return targets }
        if let value = percent(targetFields, "proactive_rate") { targets.proactiveRate = value }
        if let value = percent(targetFields, "lines_hit") { targets.linesHit = value }
        if let value = percent(targetFields, "fixed_within_day") { targets.fixedWithinDay = value }
        return targets
    }
}

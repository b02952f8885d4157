/// The operator's public promise, as the operations report judges it (`reports.targets`):
/// more than 60 % of outages handled before the customer notices, fewer than 3 % of lines hit
/// per quarter, at least 76 % of reported faults fixed within a day.
public struct ReportTargets: Sendable, Hashable {
    /// The proactive rate must be strictly above this.
    public var proactiveRate: Percentage
    /// The share of lines hit in a quarter must be strictly below this.
    public var linesHit: Percentage
    /// The share of customer-reported incidents fixed within a day must be at least this.
    public var fixedWithinDay: Percentage

    public init(proactiveRate: Percentage = Percentage(millionths: 60 * Percentage.scale),
                linesHit: Percentage = Percentage(millionths: 3 * Percentage.scale),
                fixedWithinDay: Percentage = Percentage(millionths: 76 * Percentage.scale)) {
        self.proactiveRate = proactiveRate
        self.linesHit = linesHit
        self.fixedWithinDay = fixedWithinDay
    }
}

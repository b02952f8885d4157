import ForewarnConfig
import ForewarnModel
import Foundation
import Testing

/// `reports.targets`: the operator's promise the operations report judges against.
@Suite struct ReportConfigTests {
    static let cases: [(file: String, message: String)] = [
        ("bad-report-target.yaml", "bad-report-target.yaml:4:16: 'lines_hit' in reports.targets must be a percentage from 0 to 100 such as 10 or 0.5, not '3 percent'"),
        ("bad-report-target-key.yaml", "bad-report-target-key.yaml:3:5: unknown key 'proactive' in reports.targets (allowed: proactive_rate, lines_hit, fixed_within_day)"),
    ]

    @Test(arguments: cases)
    func rejectedWithExactMessage(file: String, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: Testdata.path(file)) }
        #expect(error?.description.replacingOccurrences(of: Testdata.folder + "/", with: "") == message)
    }

    @Test func targetsLoadAndDefaultToThePromise() throws {
        let configured = try ConfigLoader.load(path: Testdata.path("good-reports.yaml")).reportTargets
        #expect(configured == ReportTargets(proactiveRate: Percentage(decimal: "65")!, linesHit: Percentage(decimal: "2.5")!,
                                            fixedWithinDay: Percentage(decimal: "80")!))
        let defaults = try ConfigLoader.parse(yaml: "elements: []\n", file: "inline.yaml", baseDirectory: "/").reportTargets
        #expect(defaults.proactiveRate == Percentage(decimal: "60"))
        #expect(defaults.linesHit == Percentage(decimal: "3"))
        #expect(defaults.fixedWithinDay == Percentage(decimal: "76"))
    }
}

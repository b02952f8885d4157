import ForewarnModel
import Persistence

/// Lines monitored, hit and down over the period, in total and per element and customer.
/// Monitored: every line of the configuration, and every line hit in the period that the
/// configuration no longer lists (it was monitored then); such a line counts for its stored
/// customer and for no element.
struct LineTotals {
    struct Tally: Sendable, Hashable {
        var lines = 0
        var hit = 0
        var outageSeconds: Int64 = 0
    }

    var monitored = 0
    var hit = 0
    var outageSeconds: Int64 = 0
    /// The part of the period that has passed, seconds.
    var elapsedSeconds: Int64
    var elements: [ElementID: Tally] = [:]
    var customers: [CustomerID: Tally] = [:]

    var monitoredSeconds: Int64 { Int64(monitored) * elapsedSeconds }

    init(_ inputs: ReportInputs, outages: LineOutages) {
        let (start, end) = inputs.period.bounds(in: inputs.zone)
        let startSeconds = LineOutages.seconds(start.unixMilliseconds)
        elapsedSeconds = min(LineOutages.seconds(end.unixMilliseconds),
                             max(startSeconds, LineOutages.seconds(inputs.now.unixMilliseconds))) - startSeconds
        var configured: [LineID: (customer: CustomerID, element: ElementID)] = [:]
        configured.reserveCapacity(inputs.inventory.lines.count)
        for line in inputs.inventory.lines where configured[line.id] == nil {
            configured[line.id] = (line.customer, line.element)
            elements[line.element, default: Tally()].lines += 1
            customers[line.customer, default: Tally()].lines += 1
        }
        monitored = configured.count
        for (part, table) in inputs.lines.enumerated() {
            add(table, hit: outages.hit[part], outageSeconds: outages.outageSeconds[part], configured: configured)
        }
    }

    private mutating func add(_ table: LineOutageTable, hit lineHit: [Bool], outageSeconds lineOutage: [Int64],
                              configured: [LineID: (customer: CustomerID, element: ElementID)]) {
        for index in table.lines.indices where lineHit[index] {
            let seconds = lineOutage[index]
            hit += 1
            outageSeconds += seconds
            if let line = configured[table.lines[index]] {
                elements[line.element]!.hit += 1
                elements[line.element]!.outageSeconds += seconds
                customers[line.customer]!.hit += 1
                customers[line.customer]!.outageSeconds += seconds
            } else {
                monitored += 1
                customers[table.customers[index], default: Tally()].lines += 1
                customers[table.customers[index]]!.hit += 1
                customers[table.customers[index]]!.outageSeconds += seconds
            }
        }
    }
}

import ForewarnModel

/// Ids seen so far and where each was defined, for duplicate and reference checks.
struct InventoryIndex {
    var elements: [ElementID: SourceLocation] = [:]
    var customers: [CustomerID: SourceLocation] = [:]
    var contracts: [ContractID: SourceLocation] = [:]
    var lines: [LineID: SourceLocation] = [:]

    private static func add<ID: Hashable & CustomStringConvertible>(
        _ id: ID, kind: String, at location: SourceLocation, to table: inout [ID: SourceLocation],
        sink: inout DiagnosticSink
    ) -> Bool {
        if let first = table[id] {
            let firstPlace = first.file == location.file
                ? "\(first.line ?? 0):\(first.column ?? 0)" : first.description
            sink.report(location, "duplicate \(kind) id '\(id)' (first defined at \(firstPlace))")
            return false
        }
        table[id] = location
        return true
    }

    mutating func addElement(_ id: ElementID, at location: SourceLocation, sink: inout DiagnosticSink) -> Bool {
        Self.add(id, kind: "element", at: location, to: &elements, sink: &sink)
    }

    mutating func addCustomer(_ id: CustomerID, at location: SourceLocation, sink: inout DiagnosticSink) -> Bool {
        Self.add(id, kind: "customer", at: location, to: &customers, sink: &sink)
    }

    mutating func addContract(_ id: ContractID, at location: SourceLocation, sink: inout DiagnosticSink) -> Bool {
        Self.add(id, kind: "contract", at: location, to: &contracts, sink: &sink)
    }

    mutating func addLine(_ id: LineID, at location: SourceLocation, sink: inout DiagnosticSink) -> Bool {
        Self.add(id, kind: "line", at: location, to: &lines, sink: &sink)
    }
}

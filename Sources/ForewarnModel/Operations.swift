import Foundation

/// Planned work: incidents on what it covers are marked planned (no ticket, no credit).
public struct MaintenanceWindow: Sendable, Hashable, Identifiable {
    public var id: MaintenanceID
    public var start: Date
    public var end: Date
    public var elements: [ElementID]
    public var lines: [LineID]
    public var reason: String

    public init(id: MaintenanceID, start: Date, end: Date, elements: [ElementID], lines: [LineID], reason: String) {
        self.id = id
        self.start = start
        self.end = end
        self.elements = elements
        self.lines = lines
        self.reason = reason
    }

    public func covers(_ instant: Date) -> Bool { instant >= start && instant < end }
}

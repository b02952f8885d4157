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

/// Where incident changes go so a ticketing system sees them (delivery comes with ticketing).
public struct Hook: Sendable, Hashable, Identifiable {
    public enum Event: String, Sendable, Hashable, CaseIterable {
        case open, update, resolve
    }

    public enum Target: Sendable, Hashable {
        case webhook(url: String)
        case command(arguments: [String])
    }

    public var id: HookID
    public var target: Target
    public var events: [Event]

    public init(id: HookID, target: Target, events: [Event]) {
        self.id = id
        self.target = target
        self.events = events
    }
}

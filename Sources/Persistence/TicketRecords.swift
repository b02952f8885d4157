import Foundation
import ForewarnModel

/// An outbox entry as the ticketing stage decides it: written in the same transaction as the
/// incident change it announces.
public struct OutboxEntry: Sendable, Hashable {
    public var incident: IncidentID
    public var hook: HookID
    public var event: Hook.Event
    /// What the hook's templates render (JSON); never holds a secret.
    public var payload: String

    public init(incident: IncidentID, hook: HookID, event: Hook.Event, payload: String) {
        (self.incident, self.hook, self.event, self.payload) = (incident, hook, event, payload)
    }
}

/// An outbox entry as stored, with its delivery state.
public struct OutboxItem: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Not delivered yet, not dead: waiting, claimed or backing off.
        case pending
        case delivered
        /// Given up on (a permanent failure, or too old): waits for `outbox retry` or `drop`.
        case dead
    }

    public var id: Int64
    public var entry: OutboxEntry
    public var state: State
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var failedAt: Date?
    public var lastError: String?

    public init(id: Int64, entry: OutboxEntry, state: State, createdAt: Date, attempts: Int, nextAttemptAt: Date,
                deliveredAt: Date? = nil, failedAt: Date? = nil, lastError: String? = nil) {
        (self.id, self.entry, self.state, self.createdAt, self.attempts) = (id, entry, state, createdAt, attempts)
        (self.nextAttemptAt, self.deliveredAt, self.failedAt) = (nextAttemptAt, deliveredAt, failedAt)
        self.lastError = lastError
    }
}

/// What a delivery learned of the ticket: its id in the ticketing system and its state.
public struct TicketUpdate: Sendable, Hashable {
    public var ticketID: String?
    public var state: String?

    public init(ticketID: String?, state: String?) {
        self.ticketID = ticketID
        self.state = state
    }
}

/// A ticket an incident has in one ticketing system (hook). The ticket table is the one owner
/// of ticket state.
public struct Ticket: Sendable, Hashable {
    public var incident: IncidentID
    public var hook: HookID
    public var ticketID: String
    public var state: String?
    public var openedAt: Date
    public var updatedAt: Date

    public init(incident: IncidentID, hook: HookID, ticketID: String, state: String?, openedAt: Date,
                updatedAt: Date) {
        (self.incident, self.hook, self.ticketID, self.state) = (incident, hook, ticketID, state)
        (self.openedAt, self.updatedAt) = (openedAt, updatedAt)
    }
}

/// One row of the credit ledger: a line's credit for a billing period, or a later adjustment.
public struct LedgerEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case credit, adjustment
    }

    /// The billing month, `2026-11`.
    public var period: String
    public var line: LineID
    public var customer: CustomerID
    public var contract: ContractID
    public var kind: Kind
    public var amount: Money
    public var outageMilliseconds: Int64
    public var reason: String
    public var createdAt: Date
    /// For an adjustment: the closed period it corrects (`2026-10`).
    public var adjusts: String?
    /// The incidents whose outage the entry credits or corrects.
    public var incidents: [IncidentID]

    public init(period: String, line: LineID, customer: CustomerID, contract: ContractID, kind: Kind, amount: Money,
                outageMilliseconds: Int64, reason: String, createdAt: Date, adjusts: String? = nil,
                incidents: [IncidentID] = []) {
        (self.period, self.line, self.customer, self.contract) = (period, line, customer, contract)
        (self.kind, self.amount, self.outageMilliseconds, self.reason) = (kind, amount, outageMilliseconds, reason)
        (self.createdAt, self.adjusts, self.incidents) = (createdAt, adjusts, incidents)
    }
}

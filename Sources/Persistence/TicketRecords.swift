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
    /// Not sent before this (a hook's `open_after`); nil: at once.
    public var notBefore: Date?

    public init(incident: IncidentID, hook: HookID, event: Hook.Event, payload: String, notBefore: Date? = nil) {
        (self.incident, self.hook, self.event, self.payload, self.notBefore) = (incident, hook, event, payload, notBefore)
    }
}

/// One write of delivery (`TicketOutboxStore.recordOutbox`).
public enum OutboxWrite: Sendable, Hashable {
    /// The request is about to be sent: until an outcome is recorded, whether it arrived is
    /// uncertain (a crash now leaves the entry `uncertain`, so a create is looked up first).
    case attempt(id: Int64, at: Date)
    /// Done with these entries (sent, coalesced into a later one, skipped or dropped);
    /// `ticket` (the ticketing system's id and state) is written back for their incident and
    /// hook, `timeline` added to the incident's timeline.
    case done(ids: [Int64], at: Date, outcome: OutboxItem.Outcome, note: String?, ticket: TicketUpdate?,
              timeline: TimelineEntry?)
    /// Failed: retried from `retryAt`, or dead-lettered when `retryAt` is nil. `uncertain`: the
    /// request may have arrived (sent, no answer).
    case failed(id: Int64, at: Date, error: String, retryAt: Date?, uncertain: Bool, timeline: TimelineEntry?)
}

/// What delivering the head of one incident and hook's queue needs to know.
public struct OutboxQueue: Sendable, Hashable {
    /// The undelivered entries, oldest first.
    public var entries: [OutboxItem]
    /// The ticket delivery learned of, if any.
    public var ticket: Ticket?

    public init(entries: [OutboxItem], ticket: Ticket?) {
        (self.entries, self.ticket) = (entries, ticket)
    }
}

/// An outbox entry as stored, with its delivery state.
public struct OutboxItem: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Not done yet, not dead: waiting, claimed or backing off.
        case pending
        /// Done: see `outcome`.
        case delivered
        /// Given up on (a permanent failure, or too old): waits for `outbox retry` or `drop`.
        case dead
    }

    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// The ticketing system took it.
        case sent
        /// A later update of the same incident and hook was sent in its place.
        case coalesced
        /// Not sent, by rule (resolved within `open_after`, no ticket to update).
        case skipped
        /// Given up by an operator.
        case dropped
    }

    public var id: Int64
    public var entry: OutboxEntry
    public var state: State
    public var outcome: Outcome?
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var failedAt: Date?
    public var lastError: String?
    /// The last attempt may have reached the ticketing system without its answer reaching us.
    public var uncertain: Bool

    public init(id: Int64, entry: OutboxEntry, state: State, outcome: Outcome? = nil, createdAt: Date, attempts: Int,
                nextAttemptAt: Date, deliveredAt: Date? = nil, failedAt: Date? = nil, lastError: String? = nil,
                uncertain: Bool = false) {
        (self.id, self.entry, self.state, self.outcome, self.createdAt) = (id, entry, state, outcome, createdAt)
        (self.attempts, self.nextAttemptAt, self.deliveredAt, self.failedAt) = (attempts, nextAttemptAt, deliveredAt, failedAt)
        (self.lastError, self.uncertain) = (lastError, uncertain)
    }
}

/// One hook's delivery backlog.
public struct OutboxBacklog: Sendable, Hashable {
    public var hook: HookID
    public var pending: Int
    public var oldestPending: Date?
    public var dead: Int

    public init(hook: HookID, pending: Int, oldestPending: Date?, dead: Int) {
        (self.hook, self.pending, self.oldestPending, self.dead) = (hook, pending, oldestPending, dead)
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

import Foundation
import ForewarnModel
import Logging
import Metrics
import Mustache
import Persistence
import Synchronization

/// How the outbox is delivered.
public struct DeliverySettings: Sendable {
    /// Deliveries in flight at once, across incidents (one at a time per incident and hook).
    public var concurrency: Int
    /// How often the outbox is looked at when nothing woke the deliverer sooner.
    public var pollInterval: Duration
    /// How long a claim holds an entry: longer than any request with its lookup.
    public var lease: Duration
    public var retry: RetryPolicy

    public init(concurrency: Int = 32, pollInterval: Duration = .seconds(1), lease: Duration = .seconds(120),
                retry: RetryPolicy = RetryPolicy()) {
        (self.concurrency, self.pollInterval, self.lease, self.retry) = (concurrency, pollInterval, lease, retry)
    }
}

/// Delivers the ticket outbox: strictly in order per incident and hook (the store hands out only
/// the head of each queue), in parallel across incidents up to `concurrency`; retries with
/// backoff and `Retry-After` until delivered or the hook's `max_age`; dead-letters permanent
/// failures at once; coalesces updates waiting behind each other (never a resolve); looks a
/// ticket up before re-sending a create whose first attempt got no answer; writes the ticket
/// back and every delivery and failure to the incident's timeline.
///
/// Time comes from the injected clock (sleeping) and `wallClock` (what is written), so tests
/// drive it in virtual time; the HTTP client and the program runner are behind protocols.
public final class TicketDeliverer<C: Clock>: Sendable where C.Duration == Duration {
    /// Makes a hook's HTTP client; the second argument is the delivery bound.
    public typealias HTTPFactory = @Sendable (Webhook, Int) throws -> any HTTPSending

    let store: any TicketOutboxStore & IncidentStore
    let settings: DeliverySettings
    let clock: C
    let wallClock: @Sendable () -> Date
    let random: @Sendable () -> Double
    let makeHTTP: HTTPFactory
    let commands: any CommandRunning
    let logger: Logger
    private let writer: OutboxWriter
    private let hooks: Mutex<[HookID: CompiledHook]>
    private let clients = Mutex<[HookID: (spec: Webhook, client: any HTTPSending)]>([:])
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    public init(store: any TicketOutboxStore & IncidentStore, hooks: [HookID: CompiledHook],
                settings: DeliverySettings = DeliverySettings(), clock: C,
                wallClock: @escaping @Sendable () -> Date = { Date() },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                makeHTTP: @escaping HTTPFactory = {
                    try WebhookClient(caFile: $0.caFile, connectTimeout: $0.connectTimeout, connections: $1)
                },
                commands: any CommandRunning = SubprocessRunner(), logger: Logger) {
        self.store = store
        writer = OutboxWriter(store: store)
        self.hooks = Mutex(hooks)
        self.settings = settings
        self.clock = clock
        self.wallClock = wallClock
        self.random = random
        self.makeHTTP = makeHTTP
        self.commands = commands
        self.logger = logger
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// New entries were written: look at the outbox now rather than at the next poll.
    public func wake() { wakeup.yield() }

    /// A reloaded configuration's hooks; entries of a hook no longer configured are dead-lettered.
    public func update(hooks: [HookID: CompiledHook]) {
        self.hooks.withLock { $0 = hooks }
        clients.withLock { $0 = [:] }
        wake()
    }

    /// Delivers until the task is cancelled; what is in flight then is abandoned (its claim
    /// expires, an unanswered create is looked up before it is sent again).
    public func run() async {
        do { try await store.releaseOutboxClaims() } catch {
            logger.error("cannot release outbox claims", metadata: ["error": "\(error)"])
        }
        var wakeIterator = wakeups.makeAsyncIterator()
        await withTaskGroup(of: Void.self) { group in
            var inflight = 0
            var lastBacklog = clock.now.advanced(by: .seconds(-3600))
            // A store that cannot be read is logged when it starts failing, once a minute while
            // it does and when it reads again, not at every poll.
            var claimFailure: (text: String, loggedAt: C.Instant, failures: Int)?
            while !Task.isCancelled {
                if clock.now >= lastBacklog.advanced(by: .seconds(5)) {
                    lastBacklog = clock.now
                    await publishBacklog()
                }
                var claimed: [OutboxItem] = []
                // Refilled in batches (when half the bound is free), not one claim per delivery.
                if inflight == 0 || inflight <= settings.concurrency / 2 {
                    do {
                        claimed = try await store.claimOutbox(limit: settings.concurrency - inflight, now: wallClock(),
                                                              lease: settings.lease)
                        if let failure = claimFailure {
                            logger.notice("ticket outbox read again", metadata: ["attempts.failed": "\(failure.failures)"])
                            claimFailure = nil
                        }
                    } catch {
                        let text = "\(error)"
                        if var failure = claimFailure, failure.text == text,
                           failure.loggedAt.duration(to: clock.now) < .seconds(60) {
                            failure.failures += 1
                            claimFailure = failure
                        } else {
                            logger.error("cannot read the ticket outbox", metadata: [
                                "error": "\(text)", "attempts.failed": "\((claimFailure?.failures ?? 0) + 1)",
                            ])
                            claimFailure = (text, clock.now, (claimFailure?.failures ?? 0) + 1)
                        }
                    }
                }
                for item in claimed {
                    inflight += 1
                    group.addTask { await self.deliver(item) }
                }
                if inflight > settings.concurrency / 2 || (claimed.isEmpty && inflight > 0) {
                    if await group.next() != nil { inflight -= 1 }
                    continue
                }
                if claimed.isEmpty {
                    await waitForWork(&wakeIterator)
                }
            }
            group.cancelAll()
        }
        await shutdown()
    }

    /// Closes the hooks' HTTP connections.
    public func shutdown() async {
        let open = clients.withLock { current in
            let taken = current
            current = [:]
            return taken
        }
        for (_, entry) in open { await entry.client.shutdown() }
    }

    /// Sleeps until woken or the poll interval passes.
    private func waitForWork(_ iterator: inout AsyncStream<Void>.Iterator) async {
        let poll = settings.pollInterval
        let clock = self.clock
        let sleeper = Task {
            try? await clock.sleep(for: poll)
            self.wake()
        }
        _ = await iterator.next()
        sleeper.cancel()
    }

    /// One round for tests and benchmarks: claims what is due and delivers it; returns how many.
    public func deliverDue() async -> Int {
        let claimed = (try? await store.claimOutbox(limit: settings.concurrency, now: wallClock(), lease: settings.lease)) ?? []
        await withTaskGroup(of: Void.self) { group in
            for item in claimed { group.addTask { await self.deliver(item) } }
        }
        return claimed.count
    }

    // MARK: one entry

    func deliver(_ item: OutboxItem) async {
        let started = clock.now
        let hookID = item.entry.hook
        guard let compiled = hooks.withLock({ $0[hookID] }) else {
            await fail(item, hook: nil, "hook '\(hookID)' is no longer configured", retry: false, uncertain: false)
            return
        }
        let hook = compiled.hook
        let now = wallClock()
        if now > item.createdAt.addingTimeInterval(hook.maxAge.inSeconds) {
            await fail(item, hook: hook, "not delivered within max_age \(DurationText.format(hook.maxAge))"
                       + (item.lastError.map { " (last error: \($0))" } ?? ""), retry: false, uncertain: false)
            return
        }
        do {
            let queue = try await store.outboxQueue(incident: item.entry.incident, hook: hookID)
            try await deliver(item, queue: queue.entries.isEmpty ? [item] : queue.entries, ticket: queue.ticket,
                              compiled: compiled)
        } catch {
            logger.error("ticket delivery could not use the store", metadata: [
                "incident.id": "\(item.entry.incident.rawValue)", "hook.id": "\(hookID)", "error": "\(error)",
            ])
        }
        Timer(label: "forewarn_ticket_delivery_duration_seconds", dimensions: [("hook", hookID.rawValue)])
            .recordNanoseconds(Int64((started.duration(to: clock.now)).inSeconds * 1e9))
    }

    private func deliver(_ item: OutboxItem, queue: [OutboxItem], ticket: Ticket?, compiled: CompiledHook) async throws {
        let hook = compiled.hook
        let needsTicket = compiled.extractsTicketID
        switch item.entry.event {
        case .open:
            if hook.openAfter > .zero, let resolve = queue.first(where: { $0.entry.event == .resolve }),
               Self.resolvedWithin(open: item, resolve: resolve, openAfter: hook.openAfter) {
                try await finish(queue.map(\.id), item: item, hook: hook, outcome: .skipped,
                                 note: "resolved within open_after \(DurationText.format(hook.openAfter)): no ticket",
                                 ticket: nil)
                return
            }
            if item.uncertain {
                do {
                    if let found = try await lookUp(item, compiled: compiled) {
                        try await finish([item.id], item: item, hook: hook, outcome: .sent,
                                         note: "ticket \(found.ticketID ?? "?") found by lookup after an unanswered create",
                                         ticket: found)
                        return
                    }
                } catch let failure as LookupFailed {
                    await fail(item, hook: hook, failure.reason, retry: true, uncertain: true, after: failure.after)
                    return
                }
            }
            try await send(item, document: item, ticket: ticket, compiled: compiled, coalesced: [])
        case .update, .resolve:
            if needsTicket && ticket == nil {
                try await finish([item.id], item: item, hook: hook, outcome: .skipped,
                                 note: "no ticket to \(item.entry.event.rawValue) (its open was not delivered)", ticket: nil)
                return
            }
            guard item.entry.event == .update else {
                try await send(item, document: item, ticket: ticket, compiled: compiled, coalesced: [])
                return
            }
            let updates = Array(queue.prefix { $0.entry.event == .update })
            let resolveWaiting = queue.contains { $0.entry.event == .resolve }
            if !resolveWaiting, hook.updateEvery > .zero, let last = ticket?.updatedAt {
                let due = last.addingTimeInterval(hook.updateEvery.inSeconds)
                if wallClock() < due {
                    _ = try await store.scheduleOutbox([item.id], at: due)
                    return
                }
            }
            // The head is sent with the latest state; the updates behind it are coalesced into it.
            let latest = updates.last ?? item
            try await send(item, document: latest, ticket: ticket, compiled: compiled,
                           coalesced: updates.dropFirst().map(\.id))
        }
    }

    /// An open whose incident resolved before `open_after` passed.
    static func resolvedWithin(open: OutboxItem, resolve: OutboxItem, openAfter: Duration) -> Bool {
        guard let document = try? JSONSerialization.jsonObject(with: Data(resolve.entry.payload.utf8)) as? [String: Any],
              let incident = document["incident"] as? [String: Any],
              let detected = (incident["detected_at"] as? String).flatMap(RFC3339.parse),
              let resolved = (incident["resolved_at"] as? String).flatMap(RFC3339.parse) else { return false }
        return resolved < detected.addingTimeInterval(openAfter.inSeconds)
    }

    /// Runs the hook's lookup; the ticket it finds, nil when none was found. A lookup that
    /// fails is a retryable failure of the create: never create without knowing.
    private func lookUp(_ item: OutboxItem, compiled: CompiledHook) async throws -> TicketUpdate? {
        guard case .webhook(let headers, let requests, let spec) = compiled.target, let lookup = requests[.lookup] else {
            return nil
        }
        let document = EventDocument(item: item, hook: compiled.hook, ticket: nil)
        let outcome: DeliveryOutcome
        switch Self.render(lookup, headers: headers, document: document) {
        case .failure(let problem): outcome = .permanent(problem.text)
        case .success(let rendered):
            outcome = AnswerReading.outcome(of: await client(for: compiled.hook.id, spec).send(rendered, timeout: spec.timeout),
                                            request: lookup.spec)
        }
        switch outcome {
        case .delivered(let update, _):
            return update?.ticketID == nil ? nil : update
        case .retry(let reason, let after, _):
            throw LookupFailed(reason: "lookup before re-sending the create: \(reason)", after: after)
        case .permanent(let reason):
            throw LookupFailed(reason: "lookup before re-sending the create: \(reason)", after: nil)
        }
    }

    struct LookupFailed: Error {
        var reason: String
        var after: Duration?
    }

    private func send(_ item: OutboxItem, document source: OutboxItem, ticket: Ticket?, compiled: CompiledHook,
                      coalesced: [Int64]) async throws {
        let hook = compiled.hook
        let document = EventDocument(item: source, hook: hook, ticket: ticket)
        let outcome: DeliveryOutcome
        switch compiled.target {
        case .webhook(let headers, let requests, let spec):
            guard let request = requests[Webhook.Request(rawValue: item.entry.event.rawValue)!] else {
                try await finish([item.id] + coalesced, item: item, hook: hook, outcome: .skipped,
                                 note: "the hook has no \(item.entry.event.rawValue) request", ticket: nil)
                return
            }
            switch Self.render(request, headers: headers, document: document) {
            case .failure(let problem): outcome = .permanent(problem.text)
            case .success(let rendered):
                try await writer.write(.attempt(id: item.id, at: wallClock()))
                outcome = AnswerReading.outcome(of: await client(for: hook.id, spec).send(rendered, timeout: spec.timeout),
                                                request: request.spec)
            }
        case .command(let arguments, let spec):
            try await writer.write(.attempt(id: item.id, at: wallClock()))
            outcome = await commands.run(arguments.map(document.render), input: document.json,
                                         environment: document.environment, timeout: spec.timeout).outcome
        }
        switch outcome {
        case .delivered(let update, let note):
            var written = update
            if item.entry.event == .resolve && written?.state == nil {
                written = TicketUpdate(ticketID: written?.ticketID, state: "resolved")
            }
            // The updates coalesced into this one are done with it, in the same transaction.
            let alongside: [OutboxWrite] = coalesced.isEmpty ? [] : [.done(
                ids: coalesced, at: wallClock(), outcome: .coalesced, note: "sent with entry \(item.id)", ticket: nil,
                timeline: nil)]
            try await finish([item.id], item: item, hook: hook, outcome: .sent, note: note,
                             ticket: written ?? TicketUpdate(ticketID: nil, state: nil), alongside: alongside)
        case .retry(let reason, let after, let uncertain):
            await fail(item, hook: hook, reason, retry: true, uncertain: uncertain, after: after)
        case .permanent(let reason):
            await fail(item, hook: hook, reason, retry: false, uncertain: false)
        }
    }

    /// The rendered request, or why it cannot be rendered (a permanent failure).
    static func render(_ request: CompiledHook.Request, headers: [(name: String, value: MustacheTemplate)],
                       document: EventDocument) -> Result<RenderedRequest, RenderProblem> {
        var lines: [RenderedRequest.HeaderLine] = []
        for (name, template) in headers + request.headers {
            let value = document.render(template)
            guard !value.contains("\r"), !value.contains("\n") else {
                return .failure(RenderProblem(text: "header \(name) renders a line break"))
            }
            lines.removeAll { $0.name.lowercased() == name.lowercased() }
            lines.append(RenderedRequest.HeaderLine(name: name, value: value))
        }
        if !lines.contains(where: { $0.name.lowercased() == "idempotency-key" }) {
            lines.append(RenderedRequest.HeaderLine(name: "Idempotency-Key", value: document.object["idempotency_key"] as? String ?? ""))
        }
        let url = document.render(request.url)
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url) != nil else {
            return .failure(RenderProblem(text: "the \(request.spec.method) url renders as '\(url)', not an http(s) URL"))
        }
        return .success(RenderedRequest(method: request.spec.method, url: url, headers: lines,
                                        body: request.body.map(document.render)))
    }

    private func client(for hook: HookID, _ spec: Webhook) -> any HTTPSending {
        if let existing = clients.withLock({ $0[hook] }), existing.spec == spec { return existing.client }
        do {
            let client = try makeHTTP(spec, settings.concurrency)
            clients.withLock { $0[hook] = (spec, client) }
            return client
        } catch {
            return Unsendable(reason: "\(error)")
        }
    }

    // MARK: outcomes

    private func finish(_ ids: [Int64], item: OutboxItem, hook: Hook, outcome: OutboxItem.Outcome, note: String?,
                        ticket: TicketUpdate?, alongside: [OutboxWrite] = []) async throws {
        let at = wallClock()
        var text: String
        switch (outcome, item.entry.event) {
        case (.sent, .open): text = "hook \(hook.id): ticket \(ticket?.ticketID ?? "(no id)") opened"
        case (.sent, .update): text = "hook \(hook.id): update sent" + (ticket?.ticketID.map { " to ticket \($0)" } ?? "")
        case (.sent, .resolve): text = "hook \(hook.id): resolve sent"
        default: text = "hook \(hook.id): \(item.entry.event.rawValue) \(outcome.rawValue)"
        }
        if let note { text += " (\(note))" }
        try await writer.write(alongside + [.done(ids: ids, at: at, outcome: outcome, note: note, ticket: ticket,
                                                  timeline: TimelineEntry(at: at, kind: "ticket", detail: text))])
        Counter(label: "forewarn_ticket_deliveries_total", dimensions: [("hook", hook.id.rawValue), ("result", outcome.rawValue)])
            .increment(by: ids.count)
        logger.debug("ticket delivery", metadata: [
            "incident.id": "\(item.entry.incident.rawValue)", "hook.id": "\(hook.id)", "event": "\(item.entry.event.rawValue)",
            "outcome": "\(outcome.rawValue)", "ticket.id": "\(ticket?.ticketID ?? "")",
        ])
    }

    private func fail(_ item: OutboxItem, hook: Hook?, _ reason: String, retry: Bool, uncertain: Bool,
                      after: Duration? = nil) async {
        let now = wallClock()
        var retryAt: Date?
        if retry, let hook {
            let delay = settings.retry.delay(afterAttempts: item.attempts, retryAfter: after, random: random())
            let at = now.addingTimeInterval(delay.inSeconds)
            if at <= item.createdAt.addingTimeInterval(hook.maxAge.inSeconds) { retryAt = at }
        }
        let hookName = hook?.id.rawValue ?? item.entry.hook.rawValue
        let metadata: Logger.Metadata = [
            "incident.id": "\(item.entry.incident.rawValue)", "hook.id": "\(hookName)",
            "event": "\(item.entry.event.rawValue)", "error": "\(reason)", "attempts": "\(item.attempts + 1)",
        ]
        // A dead letter and the first failure of an entry go to the timeline; retries only to the log.
        var timeline: TimelineEntry?
        if retryAt == nil {
            timeline = TimelineEntry(at: now, kind: "ticket",
                                     detail: "hook \(hookName): \(item.entry.event.rawValue) dead-lettered: \(reason)")
        } else if item.attempts == 0 {
            timeline = TimelineEntry(at: now, kind: "ticket",
                                     detail: "hook \(hookName): \(item.entry.event.rawValue) failed, retrying: \(reason)")
        }
        do {
            try await writer.write(.failed(id: item.id, at: now, error: reason, retryAt: retryAt, uncertain: uncertain,
                                           timeline: timeline))
        } catch {
            logger.error("cannot record a ticket delivery failure", metadata: ["error": "\(error)"])
            return
        }
        Counter(label: "forewarn_ticket_deliveries_total",
                dimensions: [("hook", hookName), ("result", retryAt == nil ? "dead" : "retry")]).increment()
        if retryAt == nil {
            logger.error("ticket delivery given up (dead letter)", metadata: metadata)
        } else if item.attempts == 0 {
            logger.warning("ticket delivery failed, retrying", metadata: metadata)
        } else {
            logger.debug("ticket delivery failed again", metadata: metadata)
        }
    }

    private func publishBacklog() async {
        guard let backlog = try? await store.outboxBacklog() else { return }
        let now = wallClock()
        for hook in hooks.withLock({ Array($0.keys) }) {
            let entry = backlog.first { $0.hook == hook }
            Gauge(label: "forewarn_ticket_outbox_pending", dimensions: [("hook", hook.rawValue)]).record(entry?.pending ?? 0)
            Gauge(label: "forewarn_ticket_outbox_dead", dimensions: [("hook", hook.rawValue)]).record(entry?.dead ?? 0)
            Gauge(label: "forewarn_ticket_outbox_oldest_pending_seconds", dimensions: [("hook", hook.rawValue)])
                .record(entry?.oldestPending.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        }
    }
}

/// Why a request cannot be rendered: a permanent failure.
struct RenderProblem: Error {
    var text: String
}

/// A hook whose HTTP client could not be made (an unreadable CA file): every attempt says why.
struct Unsendable: HTTPSending {
    var reason: String
    func send(_ request: RenderedRequest, timeout: Duration) async -> HTTPAnswer { .notSent(reason) }
    func shutdown() async {}
}

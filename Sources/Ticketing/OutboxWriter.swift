import Persistence

/// Group commit for delivery's writes: while one transaction is being written, the attempts and
/// outcomes of the other deliveries in flight gather, and go together in the next one. Each
/// caller returns once its own write is durable (or with the store's error), as if it had
/// written alone; a transaction (and its fsync) is shared by as many deliveries as finished
/// meanwhile, so the store's commit rate no longer bounds the delivery rate.
actor OutboxWriter {
    private let store: any TicketOutboxStore
    private var waiting: [(writes: [OutboxWrite], done: CheckedContinuation<Result<Void, StoreError>, Never>)] = []
    private var writing = false

    init(store: any TicketOutboxStore) {
        self.store = store
    }

    /// Writes these together (in one transaction, in order).
    func write(_ writes: OutboxWrite...) async throws(StoreError) {
        try await write(writes)
    }

    func write(_ writes: [OutboxWrite]) async throws(StoreError) {
        let result = await withCheckedContinuation { continuation in
            waiting.append((writes, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
        try result.get()
    }

    /// Writes what has gathered, in arrival order, until nothing waits.
    private func drain() async {
        while !waiting.isEmpty {
            let batch = waiting
            waiting = []
            let result: Result<Void, StoreError>
            do {
                try await store.recordOutbox(batch.flatMap(\.writes))
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for entry in batch { entry.done.resume(returning: result) }
        }
        writing = false
    }
}

/// The table of echoes in flight, indexed by (identifier offset, sequence): which batch and request
/// each belongs to, when it was sent, and the generation its payload carries. Synchronous and
/// socket-free, so matching (duplicates, strays, late replies to reused slots) is tested directly.
struct EchoSlots {
    enum State: UInt8 { case free, inFlight, finished }

    enum Match: Equatable {
        /// The first answer to an echo in flight.
        case answer(batch: Int32, request: Int32, sendRealtime: Int64, sendMonotonic: Int64)
        /// Another answer to an echo already answered, while its batch is still open.
        case duplicate(batch: Int32, request: Int32)
        /// Not an answer to any echo of ours in flight (another program, a reused slot, a late reply).
        case stray
    }

    /// Identifiers (blocks of 65,536 slots) in use now; grows up to `maximumIdentifiers` when every
    /// slot is in flight, so a small round costs 2.7 MB of table rather than 11.
    private(set) var identifierCount: Int
    let maximumIdentifiers: Int
    var capacity: Int { identifierCount << 16 }

    private var state: [State]
    private var generation: [UInt32]
    private var batch: [Int32]
    private var batchSerial: [UInt32]
    private var request: [Int32]
    private var sendRealtime: [Int64]
    private var sendMonotonic: [Int64]
    /// Freed slots go to the back, so a slot is reused as late as possible.
    private var free: Ring<UInt32>
    private var nextGeneration: UInt32

    init(maximumIdentifiers: Int, firstGeneration: UInt32 = UInt32.random(in: 1...UInt32.max)) {
        self.maximumIdentifiers = max(1, maximumIdentifiers)
        identifierCount = 0
        state = []
        generation = []
        batch = []
        batchSerial = []
        request = []
        sendRealtime = []
        sendMonotonic = []
        free = Ring(capacity: 1 << 16)
        nextGeneration = firstGeneration
        grow()
    }

    private mutating func grow() {
        let first = capacity
        identifierCount += 1
        let added = 1 << 16
        state += repeatElement(.free, count: added)
        generation += repeatElement(0, count: added)
        batch += repeatElement(-1, count: added)
        batchSerial += repeatElement(0, count: added)
        request += repeatElement(-1, count: added)
        sendRealtime += repeatElement(0, count: added)
        sendMonotonic += repeatElement(0, count: added)
        for slot in first..<capacity { free.append(UInt32(slot)) }
    }

    /// Slots that can be taken now, counting blocks not yet allocated.
    var available: Int { free.count + (maximumIdentifiers - identifierCount) << 16 }
    var inFlight: Int { capacity - free.count }

    /// Takes a free slot for an echo about to be sent; nil when all are in flight.
    mutating func allocate(batch batchID: Int32, serial: UInt32, request requestIndex: Int32,
                           sendRealtime realtime: Int64, sendMonotonic monotonic: Int64) -> (slot: Int, generation: UInt32)? {
        if free.isEmpty && identifierCount < maximumIdentifiers { grow() }
        guard let slot32 = free.popFirst() else { return nil }
        let slot = Int(slot32)
        nextGeneration &+= 1
        if nextGeneration == 0 { nextGeneration = 1 }
        state[slot] = .inFlight
        generation[slot] = nextGeneration
        batch[slot] = batchID
        batchSerial[slot] = serial
        request[slot] = requestIndex
        sendRealtime[slot] = realtime
        sendMonotonic[slot] = monotonic
        return (slot, nextGeneration)
    }

    enum Lookup {
        case inFlight(batch: Int32, serial: UInt32, request: Int32, sendRealtime: Int64, sendMonotonic: Int64)
        case finished(batch: Int32, serial: UInt32, request: Int32)
        case unknown
    }

    /// What the slot a reply names holds, if the reply's generation is the slot's.
    func lookup(slot: Int, generation replyGeneration: UInt32) -> Lookup {
        guard slot >= 0, slot < state.count, generation[slot] == replyGeneration else { return .unknown }
        switch state[slot] {
        case .inFlight:
            return .inFlight(batch: batch[slot], serial: batchSerial[slot], request: request[slot],
                             sendRealtime: sendRealtime[slot], sendMonotonic: sendMonotonic[slot])
        case .finished:
            return .finished(batch: batch[slot], serial: batchSerial[slot], request: request[slot])
        case .free:
            return .unknown
        }
    }

    /// Marks an echo in flight answered.
    mutating func answer(slot: Int) {
        if state[slot] == .inFlight { finish(slot) }
    }

    /// Looks up a reply and takes it as the answer when it is one. `isOpen` says whether a batch
    /// (id, serial) is still collecting answers; `addressMatches` whether the reply came from the
    /// address that request probed.
    mutating func match(slot: Int, generation replyGeneration: UInt32, isOpen: (Int32, UInt32) -> Bool,
                        addressMatches: (Int32, Int32) -> Bool) -> Match {
        switch lookup(slot: slot, generation: replyGeneration) {
        case .inFlight(let batch, _, let request, let realtime, let monotonic):
            guard addressMatches(batch, request) else { return .stray }
            finish(slot)
            return .answer(batch: batch, request: request, sendRealtime: realtime, sendMonotonic: monotonic)
        case .finished(let batch, let serial, let request):
            guard isOpen(batch, serial), addressMatches(batch, request) else { return .stray }
            return .duplicate(batch: batch, request: request)
        case .unknown:
            return .stray
        }
    }

    /// Ends an echo whose time is up; nil when it was answered meanwhile (or the slot was reused).
    mutating func expire(slot: Int, generation expected: UInt32) -> (batch: Int32, request: Int32)? {
        guard state[slot] == .inFlight, generation[slot] == expected else { return nil }
        finish(slot)
        return (batch[slot], request[slot])
    }

    func isInFlight(slot: Int, generation expected: UInt32) -> Bool {
        state[slot] == .inFlight && generation[slot] == expected
    }

    private mutating func finish(_ slot: Int) {
        state[slot] = .finished
        free.append(UInt32(slot))
    }

    /// Every echo still in flight, for shutdown.
    func allInFlight() -> [(batch: Int32, request: Int32)] {
        state.indices.filter { state[$0] == .inFlight }.map { (batch[$0], request[$0]) }
    }
}

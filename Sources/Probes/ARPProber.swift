#if canImport(Glibc)
import Glibc
#endif
internal import CPcap
import Foundation
import ForewarnModel

/// `probe: arp` for lines on an L2 access segment the NOC host is attached to: a broadcast
/// who-has injected through libpcap, the reply caught by a BPF filter on the same handle. One
/// prober (one pcap handle, one thread) per interface. Round-trip times come from the capture's
/// kernel timestamps.
public final class ARPProber: Prober {
    public let kind = "arp"
    public let interface: String
    let engine: ARPEngine

    public init(interface: String, rate: Int, capture: PacketCapture? = nil) throws(ProbeError) {
        self.interface = interface
        engine = try ARPEngine(interface: interface, rate: rate, capture: capture)
    }

    /// The interface's hardware address and the IPv4 address requests are sent from (as read when
    /// the prober started; the engine reads them again for every batch).
    public var source: (mac: String, address: String) {
        (ARPFrame.macText(engine.mac), IPAddressText.v4(engine.senderAddress))
    }

    public func probe(_ requests: [ProbeRequest]) async -> [ProbeOutcome] {
        await engine.mailbox.submit(requests)
    }

    public func shutdown() { engine.mailbox.shutdown() }

    deinit { engine.mailbox.shutdown() }
}

final class ARPEngine: Sendable {
    /// ARP replies addressed to anyone: hosts answer RFC 5227 probes by broadcast, and a gratuitous
    /// reply after a CPE restart is welcome evidence too.
    static let filter = "arp and arp[6:2] = 2"

    let mailbox: EngineMailbox
    let handle: PcapHandle
    let mac: [UInt8]
    let senderAddress: UInt32
    let rate: Int
    let capture: PacketCapture?

    init(interface: String, rate: Int, capture: PacketCapture?) throws(ProbeError) {
        (mac, senderAddress) = try Self.addresses(of: interface)
        handle = try PcapHandle.open(interface: interface, filter: Self.filter)
        do {
            mailbox = try EngineMailbox(engine: "ARP on \(interface)")
        } catch {
            handle.close()
            throw error
        }
        self.rate = rate
        self.capture = capture
        let thread = Thread { [self] in
            var loop = ARPEngineLoop(engine: self)
            loop.run()
        }
        thread.name = "forewarn-arp-\(interface)"
        thread.start()
    }

    /// The interface's MAC address, and its IPv4 address (0.0.0.0 when it has none: requests are
    /// then RFC 5227 probes, which hosts answer all the same).
    static func addresses(of interface: String) throws(ProbeError) -> (mac: [UInt8], ipv4: UInt32) {
        var hardware = [UInt8](repeating: 0, count: 6)
        guard fw_interface_mac(interface, &hardware) == 0 else {
            throw ProbeError.interface(name: interface, problem: "cannot read its hardware address: \(ProbeError.errnoText())")
        }
        guard hardware != [0, 0, 0, 0, 0, 0] else {
            throw ProbeError.interface(name: interface, problem: "has no Ethernet hardware address (loopback or tunnel?)")
        }
        var address: UInt32 = 0
        return (hardware, fw_interface_ipv4(interface, &address) == 0 ? UInt32(bigEndian: address) : 0)
    }
}

struct ARPEngineLoop {
    struct Pending {
        var batch: Int32
        var serial: UInt32
        var request: Int32
        var sentRealtime: Int64
        var deadline: Int64
        var token: UInt64
    }

    let engine: ARPEngine
    var book = BatchBook()
    var pacer: Pacer<MonotonicInstant>
    /// Requests awaiting a reply, by target address; a reply answers all of them.
    var pending: [UInt32: [Pending]] = [:]
    var timeouts: [Int64: Ring<(address: UInt32, token: UInt64, deadline: Int64)>] = [:]
    var nextToken: UInt64 = 0
    /// The interface's addresses, read again for every batch: a bridge takes the lowest MAC of its
    /// ports, so adding or removing a port can change it, and replies to a stale one never reach us.
    var mac: [UInt8]
    var senderAddress: UInt32

    init(engine: ARPEngine) {
        self.engine = engine
        pacer = Pacer(rate: engine.rate)
        mac = engine.mac
        senderAddress = engine.senderAddress
    }

    mutating func run() {
        let mailbox = engine.mailbox
        var descriptors = [pollfd(fd: mailbox.wake, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: engine.handle.selectableDescriptor, events: Int16(POLLIN), revents: 0)]
        while true {
            let (submissions, stopping) = mailbox.drain()
            if stopping {
                BatchBook.refuseAll(submissions)
                book.finishAll()
                engine.handle.close()
                mailbox.closeWake()
                return
            }
            var now = MonotonicInstant.now.nanoseconds
            if !submissions.isEmpty, let current = try? ARPEngine.addresses(of: engine.handle.interface) {
                (mac, senderAddress) = current
            }
            for submission in submissions {
                book.accept(submission, now: now) { request in
                    request.address.isIPv6 ? "ARP needs an IPv4 target" : nil
                }
            }
            book.releaseWaves(now: now)
            send(now: now)
            if descriptors[1].revents & Int16(POLLIN) != 0 { receive() }
            now = MonotonicInstant.now.nanoseconds
            expire(now: now)
            book.deliverFinished()
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            _ = poll(&descriptors, 2, pollTimeout(now: now))
            if descriptors[0].revents & Int16(POLLIN) != 0 { mailbox.acknowledgeWake() }
        }
    }

    mutating func send(now: Int64) {
        var allowed = pacer.take(book.sendQueue.count, now: MonotonicInstant(nanoseconds: now))
        while allowed > 0, let entry = book.sendQueue.popFirst() {
            allowed -= 1
            guard let batch = book.batch(entry.batch), case .v4(let target) = batch.requests[Int(entry.request)].address else { continue }
            let frame = ARPFrame.request(from: mac, sender: senderAddress, target: target)
            let sentRealtime = realtimeNanoseconds()
            if let problem = engine.handle.inject(frame) {
                book.fail(entry.batch, request: entry.request, reason: "pcap_inject on \(engine.handle.interface): \(problem)")
                continue
            }
            batch.outcomes[Int(entry.request)].sent += 1
            frame.withUnsafeBytes { engine.capture?.writeFrame($0, realtimeNanoseconds: sentRealtime) }
            nextToken += 1
            let timeout = batch.requests[Int(entry.request)].timeout.nanosecondsClamped
            let deadline = MonotonicInstant.now.nanoseconds + timeout
            pending[target, default: []].append(Pending(batch: entry.batch, serial: batch.serial, request: entry.request,
                                                        sentRealtime: sentRealtime, deadline: deadline, token: nextToken))
            timeouts[timeout, default: Ring(capacity: 256)].append((target, nextToken, deadline))
        }
    }

    mutating func receive() {
        var replies: [(ARPFrame.Reply, Int64)] = []
        let capture = engine.capture
        engine.handle.dispatch { frame, stamp in
            capture?.writeFrame(frame, realtimeNanoseconds: stamp)
            if case .reply(let reply) = ARPFrame.parse(frame) { replies.append((reply, stamp)) }
        }
        for (reply, stamp) in replies {
            guard let waiting = pending.removeValue(forKey: reply.senderIP) else { continue }
            for probe in waiting {
                guard let batch = book.batch(probe.batch), batch.serial == probe.serial else { continue }
                batch.outcomes[Int(probe.request)].addAnswer(rttNanoseconds: stamp - probe.sentRealtime)
                book.resolve(probe.batch)
            }
        }
    }

    mutating func expire(now: Int64) {
        for key in timeouts.keys {
            while let head = timeouts[key]!.first, head.deadline <= now {
                timeouts[key]!.popFirst()
                guard var waiting = pending[head.address], let position = waiting.firstIndex(where: { $0.token == head.token }) else {
                    continue  // answered already
                }
                let probe = waiting.remove(at: position)
                pending[head.address] = waiting.isEmpty ? nil : waiting
                if book.batch(probe.batch)?.serial == probe.serial { book.resolve(probe.batch) }
            }
        }
    }

    func pollTimeout(now: Int64) -> Int32 {
        var next = book.nextWaveRelease ?? .max
        if !book.sendQueue.isEmpty {
            var pacer = self.pacer
            next = min(next, pacer.nextAllowed(now: MonotonicInstant(nanoseconds: now)).nanoseconds)
        }
        for queue in timeouts.values { if let head = queue.first { next = min(next, head.deadline) } }
        // pcap's selectable descriptor may hold frames already read into its buffer: look again soon.
        let wait = ICMPEngineLoop.milliseconds(until: next, from: now)
        return wait < 0 ? 50 : min(wait, 50)
    }
}

import ForewarnModel
import Foundation

/// A port of an element, by dense element index.
struct PortKey: Hashable, Sendable {
    var element: Int32
    var port: PortReference
}

/// The inventory as the correlator walks it: dense indices, children per element, lines per
/// element and port, and which ports carry which uplink. Built once per configuration.
public struct Topology: Sendable {
    let elementIDs: [ElementID]
    let elementIndex: [ElementID: Int32]
    let upstreams: [[Int32]]
    let children: [[Int32]]
    /// Distance from the nearest element without upstream; parents settle before children.
    let depth: [Int32]

    let lineIDs: [LineID]
    let lineIndex: [LineID: Int32]
    let lineCustomer: [CustomerID]
    let lineElement: [Int32]
    let linePort: [PortReference?]
    let lineService: [ServiceKind]
    let linesByElement: [[Int32]]
    let linesByPort: [PortKey: [Int32]]

    /// This element's port facing an upstream → that upstream.
    let uplinkPorts: [PortKey: Int32]
    /// An upstream's port facing a child → that child.
    let peerPorts: [PortKey: Int32]
    /// Per child and upstream, the ports of the link between them.
    let links: [Int32: [Int32: Uplink]]

    /// The one walk down the topology: `start` and the elements below it, parents first (breadth
    /// first), each visited once. `visit` returns a value for an element it takes, nil for one
    /// it refuses; the walk does not go below a refused element.
    func walkDown<Value>(from start: Int32, _ visit: (Int32) -> Value?) -> [(element: Int32, value: Value)] {
        var result: [(element: Int32, value: Value)] = []
        var seen: Set<Int32> = [start]
        var queue: [Int32] = [start]
        var head = 0
        while head < queue.count {
            let element = queue[head]
            head += 1
            guard let value = visit(element) else { continue }
            result.append((element, value))
            for child in children[Int(element)] where seen.insert(child).inserted { queue.append(child) }
        }
        return result
    }

    public init(elements: [Element], lines: [Line]) {
        var elementIndex: [ElementID: Int32] = [:]
        elementIndex.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() where elementIndex[element.id] == nil {
            elementIndex[element.id] = Int32(position)
        }
        self.elementIndex = elementIndex
        elementIDs = elements.map(\.id)
        var upstreams = [[Int32]](repeating: [], count: elements.count)
        var children = [[Int32]](repeating: [], count: elements.count)
        var uplinkPorts: [PortKey: Int32] = [:]
        var peerPorts: [PortKey: Int32] = [:]
        var links: [Int32: [Int32: Uplink]] = [:]
        for (position, element) in elements.enumerated() {
            let child = Int32(position)
            for upstream in element.upstream {
                guard let parent = elementIndex[upstream], parent != child else { continue }
                upstreams[position].append(parent)
                children[Int(parent)].append(child)
                if let uplink = element.uplinks[upstream] {
                    links[child, default: [:]][parent] = uplink
                    if let port = uplink.port { uplinkPorts[PortKey(element: child, port: port)] = parent }
                    if let port = uplink.peerPort { peerPorts[PortKey(element: parent, port: port)] = child }
                }
            }
        }
        self.upstreams = upstreams
        self.children = children
        self.uplinkPorts = uplinkPorts
        self.peerPorts = peerPorts
        self.links = links
        depth = Self.depths(upstreams: upstreams)

        var lineIndex: [LineID: Int32] = [:]
        lineIndex.reserveCapacity(lines.count)
        var lineIDs: [LineID] = []
        var lineCustomer: [CustomerID] = []
        var lineElement: [Int32] = []
        var linePort: [PortReference?] = []
        var lineService: [ServiceKind] = []
        var linesByElement = [[Int32]](repeating: [], count: elements.count)
        var linesByPort: [PortKey: [Int32]] = [:]
        for line in lines {
            guard lineIndex[line.id] == nil, let element = elementIndex[line.element] else { continue }
            let index = Int32(lineIDs.count)
            lineIndex[line.id] = index
            lineIDs.append(line.id)
            lineCustomer.append(line.customer)
            lineElement.append(element)
            linePort.append(line.port)
            lineService.append(line.service)
            linesByElement[Int(element)].append(index)
            if let port = line.port { linesByPort[PortKey(element: element, port: port), default: []].append(index) }
        }
        self.lineIndex = lineIndex
        self.lineIDs = lineIDs
        self.lineCustomer = lineCustomer
        self.lineElement = lineElement
        self.linePort = linePort
        self.lineService = lineService
        self.linesByElement = linesByElement
        self.linesByPort = linesByPort
    }

    /// Every line an incident rooted at `element` takes when that element alone fails: its own
    /// and those of every element below it left without a way up (a dual-homed element whose
    /// other upstream is not below `element` keeps its lines), sorted. nil for an unknown element.
    public func linesCutOff(by element: ElementID) -> [LineID]? {
        guard let start = elementIndex[element] else { return nil }
        // Upstreams before the elements below them: by depth (the longest path from the top).
        let below = walkDown(from: start) { $0 }.map(\.element).sorted { depth[Int($0)] < depth[Int($1)] }
        var cut: Set<Int32> = [start]
        for candidate in below where candidate != start && upstreams[Int(candidate)].allSatisfy(cut.contains) {
            cut.insert(candidate)
        }
        return cut.flatMap { linesByElement[Int($0)] }.map { lineIDs[Int($0)] }.sorted()
    }

    public func contains(_ line: LineID) -> Bool { lineIndex[line] != nil }

    public var elementCount: Int { elementIDs.count }
    public var lineCount: Int { lineIDs.count }

    /// Longest upstream path length; the configuration guarantees there is no cycle, and an
    /// element caught in one anyway gets depth 0 rather than hanging the daemon.
    private static func depths(upstreams: [[Int32]]) -> [Int32] {
        var depth = [Int32](repeating: -1, count: upstreams.count)
        var onPath = [Bool](repeating: false, count: upstreams.count)
        func visit(_ element: Int) -> Int32 {
            if depth[element] >= 0 { return depth[element] }
            if onPath[element] { return 0 }
            onPath[element] = true
            var deepest: Int32 = -1
            for parent in upstreams[element] { deepest = max(deepest, visit(Int(parent))) }
            onPath[element] = false
            depth[element] = deepest + 1
            return deepest + 1
        }
        for element in upstreams.indices { _ = visit(element) }
        return depth
    }

    func subject(of key: FaultKey) -> Subject {
        switch key {
        case .element(let element): return .element(elementIDs[Int(element)])
        case .port(let port): return .port(elementIDs[Int(port.element)], port.port)
        case .line(let line): return .line(lineIDs[Int(line)])
        }
    }

    func faultKey(of subject: Subject) -> FaultKey? {
        switch subject {
        case .element(let id): return elementIndex[id].map { .element($0) }
        case .port(let id, let port): return elementIndex[id].map { .port(PortKey(element: $0, port: port)) }
        case .line(let id): return lineIndex[id].map { .line($0) }
        }
    }

    func interval(_ line: Int32, start: Double, end: Double? = nil) -> LineInterval {
        LineInterval(line: lineIDs[Int(line)], customer: lineCustomer[Int(line)], start: Date(timeIntervalSince1970: start),
                     end: end.map { Date(timeIntervalSince1970: $0) })
    }
}

/// A failed (or failing) thing the correlator tracks.
enum FaultKey: Hashable, Sendable {
    case element(Int32)
    case port(PortKey)
    case line(Int32)

    /// Elements settle before ports, ports before lines, parents before children: the order
    /// that lets a root exist before its symptoms look for it.
    func rank(in topology: Topology) -> (Int, Int32) {
        switch self {
        case .element(let element): return (0, topology.depth[Int(element)])
        case .port(let port): return (1, topology.depth[Int(port.element)])
        case .line: return (2, 0)
        }
    }

    func sortName(in topology: Topology) -> String { topology.subject(of: self).identifier }
}

/// How faults are grouped into incidents: one open incident per key (port groups also within
/// the hold-down window).
enum GroupKey: Hashable, Sendable {
    /// Everything cut off by the failure of this element (the root).
    case element(Int32)
    /// Port faults on this reachable element (one port, or a line card).
    case ports(Int32)
    /// The link from an element to one of its upstreams (both ends' ports), while the element
    /// is not cut off.
    case link(child: Int32, upstream: Int32)
    /// Elements behind this upstream that stopped answering together while it answers.
    case forwarding(Int32)
    /// One line on its own: a line fault or a customer's call.
    case line(Int32)

    /// The element the group hangs off, for finding what a new root absorbs.
    func anchor(in topology: Topology) -> Int32 {
        switch self {
        case .element(let element), .ports(let element), .forwarding(let element): return element
        case .link(let child, _): return child
        case .line(let line): return topology.lineElement[Int(line)]
        }
    }

    /// Stable text for the store (`element:agg1`, `ports:agg1`, `link:acc2>agg1`, `forwarding:agg1`,
    /// `line:L1`).
    func text(in topology: Topology) -> String {
        switch self {
        case .element(let element): return "element:\(topology.elementIDs[Int(element)])"
        case .ports(let element): return "ports:\(topology.elementIDs[Int(element)])"
        case .forwarding(let element): return "forwarding:\(topology.elementIDs[Int(element)])"
        case .link(let child, let upstream):
            return "link:\(topology.elementIDs[Int(child)])>\(topology.elementIDs[Int(upstream)])"
        case .line(let line): return "line:\(topology.lineIDs[Int(line)])"
        }
    }

    init?(text: String, in topology: Topology) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "element":
            guard let element = topology.elementIndex[ElementID(rest)] else { return nil }
            self = .element(element)
        case "ports":
            guard let element = topology.elementIndex[ElementID(rest)] else { return nil }
            self = .ports(element)
        case "forwarding":
            guard let element = topology.elementIndex[ElementID(rest)] else { return nil }
            self = .forwarding(element)
        case "link":
            let parts = rest.split(separator: ">", maxSplits: 1).map(String.init)
            guard parts.count == 2, let child = topology.elementIndex[ElementID(parts[0])],
                  let upstream = topology.elementIndex[ElementID(parts[1])] else { return nil }
            self = .link(child: child, upstream: upstream)
        case "line":
            guard let line = topology.lineIndex[LineID(rest)] else { return nil }
            self = .line(line)
        default:
            return nil
        }
    }
}

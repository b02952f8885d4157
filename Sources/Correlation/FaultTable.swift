/// Faults by subject: dense arrays for elements and lines (200,000 lines are looked up on
/// every observation of a burst), a dictionary for the few ports.
struct FaultTable: Sendable {
    private var elements: [Fault?]
    private var lines: [Fault?]
    private var ports: [PortKey: Fault] = [:]
    private(set) var count = 0

    init(elements: Int, lines: Int) {
        self.elements = [Fault?](repeating: nil, count: elements)
        self.lines = [Fault?](repeating: nil, count: lines)
    }

    subscript(key: FaultKey) -> Fault? {
        get {
            switch key {
            case .element(let index): return elements[Int(index)]
            case .line(let index): return index >= 0 && Int(index) < lines.count ? lines[Int(index)] : nil
            case .port(let port): return ports[port]
            }
        }
        set {
            let had: Bool
            switch key {
            case .element(let index):
                had = elements[Int(index)] != nil
                elements[Int(index)] = newValue
            case .line(let index):
                had = lines[Int(index)] != nil
                lines[Int(index)] = newValue
            case .port(let port):
                if let newValue {
                    had = ports.updateValue(newValue, forKey: port) != nil
                } else {
                    had = ports.removeValue(forKey: port) != nil
                }
            }
            count += (newValue != nil ? 1 : 0) - (had ? 1 : 0)
        }
    }

    mutating func removeValue(forKey key: FaultKey) { self[key] = nil }

    var values: [Fault] { elements.compactMap { $0 } + ports.values + lines.compactMap { $0 } }
}

import ForewarnModel

/// Which live instance polls which element: rendezvous (highest random weight) hashing over the
/// instances, so that every instance computes the same owner from the same member list, and a
/// member joining or leaving moves only its own share (about 1/n of the elements).
public struct Partition: Sendable, Hashable {
    /// The members, sorted (the order does not change any owner).
    public let members: [String]

    public init(members: some Collection<String>) {
        self.members = Array(Set(members)).sorted()
    }

    /// The member that owns `element`; nil when there is none.
    public func owner(of element: ElementID) -> String? {
        var best: (score: UInt64, member: String)?
        for member in members {
            let score = StableHash.score(member: member, key: element.rawValue)
            // Ties (astronomically rare) go to the smaller name, the same everywhere.
            if best == nil || score > best!.score { best = (score, member) }
        }
        return best?.member
    }

    /// Elements per member (every member present, with 0 when it owns none).
    public func shares(of elements: some Sequence<ElementID>) -> [String: Int] {
        var shares = Dictionary(uniqueKeysWithValues: members.map { ($0, 0) })
        for element in elements { if let owner = owner(of: element) { shares[owner, default: 0] += 1 } }
        return shares
    }
}

/// A 64-bit hash that is the same in every process, on every machine and in every release:
/// Swift's `Hasher` is seeded per process, so instances would disagree on owners.
public enum StableHash {
    /// FNV-1a over the bytes, then a 64-bit finaliser (splitmix64) to spread close inputs.
    public static func of(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 30
        hash &*= 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash &*= 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }

    /// The weight of `member` for `key` (a 0 byte keeps "ab"+"c" apart from "a"+"bc").
    public static func score(member: String, key: String) -> UInt64 {
        of(Array(member.utf8) + [0] + Array(key.utf8))
    }
}

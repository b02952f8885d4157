import Foundation

/// A PostgreSQL store's URL as the configuration reads it (checked for shape here; the store
/// itself resolves and connects): `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS]`.
struct StoreURL {
    static let tlsModes = ["disable", "prefer", "require", "verify-full"]

    static func isPostgres(_ text: String) -> Bool { text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") }

    private var components: URLComponents
    var password: String? { components.password }

    init?(_ text: String) {
        guard let components = URLComponents(string: text), let user = components.user, !user.isEmpty,
              components.path.count > 1, (components.host.map { !$0.isEmpty } ?? false)
                || (components.queryItems ?? []).contains(where: { $0.name == "host" })
        else { return nil }
        self.components = components
    }

    /// The URL with `options` added to (or replacing) its own.
    func adding(_ options: [(String, String)]) -> String {
        var copy = components
        var items = (components.queryItems ?? []).filter { item in !options.contains { $0.0 == item.name } }
        items += options.map { URLQueryItem(name: $0.0, value: $0.1) }
        copy.queryItems = items.isEmpty ? nil : items
        return copy.string ?? components.string ?? ""
    }
}

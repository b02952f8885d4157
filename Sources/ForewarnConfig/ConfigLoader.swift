import Foundation
import ForewarnModel
import Yams

/// Reads a configuration file (and the CSV and secret files it names) and checks it whole.
public enum ConfigLoader {
    /// Loads and validates `path`. Relative paths inside the file are relative to its folder.
    public static func load(path: String) throws(ConfigError) -> Configuration {
        let text: String
        do {
            text = try InputFile.text(path)
        } catch {
            throw ConfigError(diagnostics: [ConfigDiagnostic(SourceLocation(file: path), "cannot read: \(error.reason)")])
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(yaml: text, file: path, baseDirectory: folder.isEmpty ? "." : folder)
    }

    /// Validates YAML text as if it were the file `file` in `baseDirectory`.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws(ConfigError) -> Configuration {
        var reader = ConfigReader(file: file, baseDirectory: baseDirectory)
        if let exceeded = YAMLBudget.check(yaml) {
            throw ConfigError(diagnostics: [ConfigDiagnostic(SourceLocation(file: file, line: exceeded.line, column: exceeded.column),
                                                             exceeded.message)])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(diagnostics: [reader.syntaxDiagnostic(error)])
        }
        guard let root else {
            throw ConfigError(diagnostics: [ConfigDiagnostic(SourceLocation(file: file), "the file is empty")])
        }
        let configuration = reader.read(Located(node: root, file: file))
        if let error = reader.sink.error() { throw error }
        return configuration
    }
}

/// One pass over a configuration: reads each section, then checks every cross-reference.
struct ConfigReader {
    let file: String
    let baseDirectory: String
    var sink = DiagnosticSink()

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    static let topLevelKeys = ["daemon", "snmp_profiles", "elements", "lines", "lines_csv", "customers",
                               "customers_csv", "contracts", "maintenance", "hooks", "probing", "probe_profiles",
                               "correlation", "snmp", "ticketing", "billing", "credit_policies", "contracts_csv",
                               "reports", "cluster"]

    func syntaxDiagnostic(_ error: any Error) -> ConfigDiagnostic {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                 .composer(_, let problem, let mark, _):
                return ConfigDiagnostic(SourceLocation(file: file, line: mark.line, column: mark.column),
                                        "YAML syntax: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
                return ConfigDiagnostic(SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                                        "the mapping here repeats key \(keys)")
            case .reader(let problem, _, _, _):
                return ConfigDiagnostic(SourceLocation(file: file), "YAML syntax: \(problem)")
            default:
                break
            }
        }
        return ConfigDiagnostic(SourceLocation(file: file), "YAML syntax: \(error)")
    }

    func resolve(_ relative: String) -> String {
        relative.hasPrefix("/") ? relative : baseDirectory + "/" + relative
    }

    mutating func read(_ root: Located) -> Configuration {
        var configuration = Configuration(source: file, daemon: DaemonSettings())
        guard let top = Fields(root, what: "the configuration", allowed: Self.topLevelKeys, sink: &sink) else {
            return configuration
        }
        if let daemon = top.value("daemon") { configuration.daemon = readDaemon(daemon) }
        configuration.profiles = readProfiles(top.list("snmp_profiles", sink: &sink))
        if let probing = top.value("probing") { configuration.probing = readProbing(probing) }
        configuration.probeProfiles = readProbeProfiles(top.list("probe_profiles", sink: &sink))
        let probeContext = LineProbeContext(profiles: configuration.probeProfiles,
                                            defaultInterface: configuration.probing.arpInterface)
        if let snmp = top.value("snmp") { configuration.snmp = readSNMP(snmp, profiles: configuration.profiles) }
        var index = InventoryIndex()
        configuration.customers = readCustomers(top, index: &index)
        if let billing = top.value("billing") { configuration.billing = readBilling(billing) }
        let policies = readCreditPolicies(top.list("credit_policies", sink: &sink))
        configuration.creditPolicies = policies.valid
        configuration.contracts = readContracts(top.list("contracts", sink: &sink), index: &index,
                                                billing: configuration.billing, policies: policies)
        if let csvPath = top.string("contracts_csv", sink: &sink) {
            configuration.contracts += ContractCSV.read(path: resolve(csvPath), shownAs: resolve(csvPath),
                                                        referencedAt: top.value("contracts_csv")!.location, index: &index,
                                                        billing: configuration.billing,
                                                        policies: policies, sink: &sink)
        }
        configuration.elements = readElements(top.list("elements", sink: &sink), profiles: configuration.profiles,
                                              index: &index, snmp: &configuration.snmp)
        checkTopology(configuration.elements, index: index)
        configuration.lines = top.list("lines", sink: &sink).compactMap { item in
            guard let fields = Fields(item, what: "a line", kind: "line", allowed: LineFields.keys, sink: &sink) else { return nil }
            return LineFields(yaml: fields, sink: &sink).validate(index: &index, probes: probeContext, sink: &sink)
        }
        if let csvPath = top.string("lines_csv", sink: &sink) {
            configuration.lines += LineCSV.read(path: resolve(csvPath), shownAs: resolve(csvPath),
                                                referencedAt: top.value("lines_csv")!.location,
                                                index: &index, probes: probeContext, sink: &sink)
        }
        configuration.maintenance = readMaintenance(top.list("maintenance", sink: &sink), index: index)
        configuration.hooks = readHooks(top.list("hooks", sink: &sink))
        if let correlation = top.value("correlation") { configuration.correlation = readCorrelation(correlation) }
        if let reports = top.value("reports") { configuration.reportTargets = readReports(reports) }
        if let ticketing = top.value("ticketing"),
           let fields = Fields(ticketing, what: "ticketing", allowed: ["concurrency", "poll_interval"], sink: &sink) {
            if let concurrency = fields.integer("concurrency", in: 1...1_024, sink: &sink) {
                configuration.ticketing.concurrency = Int(concurrency)
            }
            configuration.ticketing.pollInterval = fields.duration("poll_interval", default: .seconds(1),
                                                                   in: ConfigLimits.ticketingPollInterval, sink: &sink)
        }
        if let cluster = top.value("cluster"),
           let fields = Fields(cluster, what: "cluster", allowed: ["takeover_after", "agreement", "refresh"], sink: &sink) {
            var settings = ClusterTiming()
            settings.takeoverAfter = fields.duration("takeover_after", default: settings.takeoverAfter,
                                                     in: ConfigLimits.clusterTakeover, sink: &sink)
            settings.agreement = fields.duration("agreement", default: settings.agreement, in: ConfigLimits.clusterAgreement,
                                                 sink: &sink)
            settings.refresh = fields.duration("refresh", default: settings.refresh, in: ConfigLimits.clusterRefresh,
                                               sink: &sink)
            if settings.takeoverAfter < settings.agreement + settings.refresh * 5 {
                sink.report(fields.keyLocation("takeover_after"),
                            "cluster: takeover_after must be at least agreement + 5 × refresh "
                            + "(\(settings.agreement + settings.refresh * 5)), so that a live instance is never taken for dead")
            }
            configuration.cluster = settings
        }
        return configuration
    }

    // MARK: daemon

    mutating func readDaemon(_ node: Located) -> DaemonSettings {
        var settings = DaemonSettings()
        guard let fields = Fields(node, what: "daemon", allowed: ["store", "store_password_file", "store_tls",
                                                                  "store_ca_file", "trap_listen", "http_listen", "http_token",
                                                                  "http_token_file", "log_level", "heartbeat_interval",
                                                                  "public_url", "max_future_skew"],
                                  sink: &sink) else {
            return settings
        }
        if let store = fields.string("store", sink: &sink) {
            settings.storePath = StoreURL.isPostgres(store) ? store : resolve(store)
        }
        readStoreOptions(fields, into: &settings)
        for key in ["trap_listen", "http_listen"] {
            guard let text = fields.string(key, sink: &sink) else { continue }
            guard let endpoint = SocketEndpoint(text) else {
                sink.report(fields.value(key)!.location,
                            "'\(key)' in daemon must be ADDRESS:PORT (e.g. 0.0.0.0:162 or [::]:162), not '\(text)'")
                continue
            }
            if key == "trap_listen" { settings.trapListen = endpoint } else { settings.httpListen = endpoint }
        }
        if let level = fields.string("log_level", sink: &sink) {
            if DaemonSettings.logLevels.contains(level) {
                settings.logLevel = level
            } else {
                sink.report(fields.value("log_level")!.location,
                            "'log_level' in daemon must be one of \(DaemonSettings.logLevels.joined(separator: ", ")), not '\(level)'")
            }
        }
        settings.httpToken = secret(fields, inline: "http_token", file: "http_token_file", required: false)
        if let token = settings.httpToken, token.utf8.count < 16 {
            sink.report(fields.keyLocation(fields.has("http_token") ? "http_token" : "http_token_file"),
                        "daemon: the HTTP bearer token must be at least 16 characters")
        }
        if let url = fields.string("public_url", sink: &sink) {
            if url.hasPrefix("http://") || url.hasPrefix("https://") {
                settings.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                sink.report(fields.value("public_url")!.location,
                            "'public_url' in daemon must start with http:// or https://, not '\(url)'")
            }
        }
        settings.heartbeatInterval = fields.duration("heartbeat_interval", default: .seconds(5),
                                                     in: ConfigLimits.heartbeatInterval, sink: &sink)
        settings.maxFutureSkew = fields.duration("max_future_skew", default: .seconds(300),
                                                 in: ConfigLimits.maxFutureSkew, sink: &sink)
        return settings
    }

    /// A PostgreSQL store's password file and TLS settings, carried in its URL's options (the
    /// form `--store` takes them in); a SQLite store has none.
    mutating func readStoreOptions(_ fields: Fields, into settings: inout DaemonSettings) {
        let keys = ["store_password_file", "store_tls", "store_ca_file"]
        guard StoreURL.isPostgres(settings.storePath) else {
            for key in keys where fields.has(key) {
                sink.report(fields.keyLocation(key), "daemon: '\(key)' is for a PostgreSQL store (store: postgresql://…)")
            }
            return
        }
        guard let url = StoreURL(settings.storePath) else {
            sink.report(fields.value("store")!.location,
                        "'store' in daemon must be postgresql://USER@HOST[:PORT]/DATABASE or a SQLite file's path")
            return
        }
        var options: [(String, String)] = []
        if let file = fields.string("store_password_file", sink: &sink) {
            let path = resolve(file)
            if url.password != nil {
                sink.report(fields.keyLocation("store_password_file"), "daemon: a password in 'store' and 'store_password_file': keep one")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                sink.report(fields.value("store_password_file")!.location, "daemon: cannot read store_password_file '\(file)'")
            }
            options.append(("password_file", path))
        }
        let tls = fields.string("store_tls", sink: &sink)
        if let mode = tls {
            if StoreURL.tlsModes.contains(mode) {
                options.append(("sslmode", mode))
            } else {
                sink.report(fields.value("store_tls")!.location,
                            "'store_tls' in daemon must be one of \(StoreURL.tlsModes.joined(separator: ", ")), not '\(mode)'")
            }
        }
        if let file = fields.string("store_ca_file", sink: &sink) {
            let path = resolve(file)
            if tls != "verify-full" {
                sink.report(fields.keyLocation("store_ca_file"), "daemon: 'store_ca_file' needs store_tls: verify-full")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                sink.report(fields.value("store_ca_file")!.location, "daemon: cannot read store_ca_file '\(file)'")
            }
            options.append(("sslrootcert", path))
        }
        settings.storePath = url.adding(options)
    }

    // MARK: correlation

    mutating func readCorrelation(_ node: Located) -> CorrelationSettings {
        var settings = CorrelationSettings()
        guard let fields = Fields(node, what: "correlation", allowed: ["hold_down", "flap_threshold", "flap_window",
                                                                       "flap_quiet", "confirmation_wait", "announce_max",
                                                                       "forwarding_window"], sink: &sink) else {
            return settings
        }
        settings.holdDown = fields.duration("hold_down", default: settings.holdDown, in: ConfigLimits.holdDown,
                                            sink: &sink)
        if let threshold = fields.integer("flap_threshold", in: 1...1000, sink: &sink) {
            settings.flapThreshold = Int(threshold)
        }
        settings.flapWindow = fields.duration("flap_window", default: settings.flapWindow, in: ConfigLimits.flapWindow,
                                              sink: &sink)
        settings.flapQuiet = fields.duration("flap_quiet", default: settings.flapQuiet, in: ConfigLimits.flapQuiet,
                                             sink: &sink)
        settings.confirmationWait = fields.duration("confirmation_wait", default: settings.confirmationWait,
                                                    in: ConfigLimits.confirmationWait, sink: &sink)
        settings.announceMax = fields.duration("announce_max", default: settings.announceMax,
                                               in: ConfigLimits.announceMax, sink: &sink)
        settings.forwardingWindow = fields.duration("forwarding_window", default: settings.forwardingWindow,
                                                    in: ConfigLimits.forwardingWindow, sink: &sink)
        return settings
    }

    // MARK: SNMP profiles

    mutating func readProfiles(_ items: [Located]) -> [ProfileID: SNMPProfile] {
        var profiles: [ProfileID: SNMPProfile] = [:]
        var seen: [ProfileID: SourceLocation] = [:]
        let keys = ["id", "version", "community", "community_file", "user", "security_level", "auth_protocol",
                    "auth_key", "auth_key_file", "priv_protocol", "priv_key", "priv_key_file", "timeout", "retries"]
        for item in items {
            guard let fields = Fields(item, what: "an SNMP profile", kind: "SNMP profile", allowed: keys, sink: &sink),
                  let idText = fields.string("id", required: true, sink: &sink) else { continue }
            let id = ProfileID(idText)
            let what = "SNMP profile '\(idText)'"
            if let first = seen[id] {
                sink.report(fields.value("id")!.location, "duplicate SNMP profile id '\(idText)' (first at \(first.line ?? 0):\(first.column ?? 0))")
                continue
            }
            seen[id] = fields.value("id")!.location
            guard let version = fields.choice("version", SNMPProfile.Version.self, sink: &sink) else {
                if !fields.has("version") { sink.report(item.location, "\(what) is missing required key 'version'") }
                continue
            }
            let timeout = fields.duration("timeout", default: .seconds(2), in: ConfigLimits.snmpTimeout, sink: &sink)
            let retries = Int(fields.integer("retries", in: 0...10, sink: &sink) ?? 1)
            let credentials: SNMPProfile.Credentials?
            if version == .v3 {
                for key in ["community", "community_file"] where fields.has(key) {
                    sink.report(fields.keyLocation(key), "\(what) is SNMPv3: '\(key)' does not apply (use 'user')")
                }
                credentials = readUser(fields)
            } else {
                for key in ["user", "security_level", "auth_protocol", "auth_key", "auth_key_file", "priv_protocol",
                            "priv_key", "priv_key_file"] where fields.has(key) {
                    sink.report(fields.keyLocation(key), "\(what) is SNMPv\(version.rawValue): '\(key)' applies to version 3 only")
                }
                credentials = secret(fields, inline: "community", file: "community_file", required: true)
                    .map { .community($0) }
            }
            guard let credentials else { continue }
            profiles[id] = SNMPProfile(id: id, version: version, credentials: credentials, timeout: timeout,
                                       retries: retries)
        }
        return profiles
    }

    mutating func readUser(_ fields: Fields) -> SNMPProfile.Credentials? {
        guard let user = fields.string("user", required: true, sink: &sink) else { return nil }
        let level = fields.choice("security_level", SNMPProfile.SecurityLevel.self, default: .authPriv, sink: &sink)
        guard let level else { return nil }
        var auth: SNMPProfile.AuthProtocol?
        var authKey: String?
        var privacy: SNMPProfile.PrivacyProtocol?
        var privacyKey: String?
        if level != .noAuthNoPriv {
            auth = fields.choice("auth_protocol", SNMPProfile.AuthProtocol.self, default: .sha, sink: &sink)
            authKey = secret(fields, inline: "auth_key", file: "auth_key_file", required: true)
            if let key = authKey, key.utf8.count < 8 {
                sink.report(fields.keyLocation(fields.has("auth_key") ? "auth_key" : "auth_key_file"),
                            "\(fields.what): the authentication passphrase must be at least 8 characters (RFC 3414)")
            }
        }
        if level == .authPriv {
            privacy = fields.choice("priv_protocol", SNMPProfile.PrivacyProtocol.self, default: .aes128, sink: &sink)
            privacyKey = secret(fields, inline: "priv_key", file: "priv_key_file", required: true)
            if let key = privacyKey, key.utf8.count < 8 {
                sink.report(fields.keyLocation(fields.has("priv_key") ? "priv_key" : "priv_key_file"),
                            "\(fields.what): the privacy passphrase must be at least 8 characters (RFC 3414)")
            }
        } else {
            for key in ["priv_protocol", "priv_key", "priv_key_file"] where fields.has(key) {
                sink.report(fields.keyLocation(key), "\(fields.what) has security_level \(level.rawValue): '\(key)' needs authPriv")
            }
        }
        guard (level == .noAuthNoPriv || authKey != nil), (level != .authPriv || privacyKey != nil) else { return nil }
        return .user(name: user, level: level, auth: auth, authKey: authKey, privacy: privacy, privacyKey: privacyKey)
    }

    /// A secret given inline or in a file of its own, so the main file can be world-readable.
    mutating func secret(_ fields: Fields, inline: String, file: String, required: Bool) -> String? {
        if fields.has(inline) && fields.has(file) {
            sink.report(fields.keyLocation(file), "\(fields.what) has both '\(inline)' and '\(file)': keep one")
            return nil
        }
        if let value = fields.string(inline, sink: &sink) { return value }
        if let path = fields.string(file, sink: &sink) {
            do {
                let text = try InputFile.text(resolve(path))
                let value = text.trimmingCharacters(in: .newlines)
                if value.isEmpty { sink.report(fields.value(file)!.location, "\(fields.what): '\(file)' '\(path)' is empty") }
                return value.isEmpty ? nil : value
            } catch {
                sink.report(fields.value(file)!.location,
                            "\(fields.what): cannot read \(file) '\(path)': \(error.reason)")
                return nil
            }
        }
        if required { sink.report(fields.owner.location, "\(fields.what) needs '\(inline)' or '\(file)'") }
        return nil
    }

    // MARK: customers and contracts

    mutating func readCustomers(_ top: Fields, index: inout InventoryIndex) -> [Customer] {
        var customers: [Customer] = []
        for item in top.list("customers", sink: &sink) {
            guard let fields = Fields(item, what: "a customer", kind: "customer", allowed: ["id", "name"], sink: &sink),
                  let id = fields.string("id", required: true, sink: &sink) else { continue }
            let customer = Customer(id: CustomerID(id), name: fields.string("name", sink: &sink) ?? id)
            if index.addCustomer(customer.id, at: fields.value("id")!.location, sink: &sink) { customers.append(customer) }
        }
        if let path = top.string("customers_csv", sink: &sink) {
            customers += CustomerCSV.read(path: resolve(path), shownAs: resolve(path),
                                          referencedAt: top.value("customers_csv")!.location, index: &index, sink: &sink)
        }
        return customers
    }

    mutating func readContracts(_ items: [Located], index: inout InventoryIndex, billing: BillingSettings,
                                policies: CreditPolicyTable) -> [Contract] {
        items.compactMap { item in
            guard let fields = Fields(item, what: "a contract", kind: "contract", allowed: Self.contractColumns, sink: &sink),
                  let id = fields.string("id", required: true, sink: &sink) else { return nil }
            let fee = fields.integer("monthly_fee", in: 0...1_000_000_000_000, sink: &sink)
            if fee == nil && !fields.has("monthly_fee") {
                sink.report(item.location, "contract '\(id)' is missing required key 'monthly_fee' (minor units, e.g. 49900)")
            }
            let currency = fields.string("currency", required: true, sink: &sink)
            if let currency, !Money.isValidCurrency(currency) {
                sink.report(fields.value("currency")!.location,
                            "'currency' in contract '\(id)' must be an ISO 4217 code such as CZK or EUR, not '\(currency)'")
            }
            var target: Percentage?
            if let text = fields.string("availability_target", required: true, sink: &sink) {
                target = Percentage(decimal: text.hasSuffix("%") ? String(text.dropLast()) : text)
                if target == nil {
                    sink.report(fields.value("availability_target")!.location,
                                "'availability_target' in contract '\(id)' must be a percentage from 0 to 100 such as 99.9, not '\(text)'")
                }
            }
            var billingValues: [String: (text: String, at: SourceLocation)] = [:]
            for key in ["credit_policy", "time_zone", "locale"] {
                if let text = fields.string(key, sink: &sink) { billingValues[key] = (text, fields.value(key)!.location) }
            }
            let billingKeys = Self.contractBilling(id: id, values: billingValues, currency: currency, billing: billing,
                                                   policies: policies, sink: &sink)
            guard index.addContract(ContractID(id), at: fields.value("id")!.location, sink: &sink),
                  let fee, let currency, Money.isValidCurrency(currency), let target, billingKeys.valid else { return nil }
            return Contract(id: ContractID(id), name: fields.string("name", sink: &sink) ?? id,
                            monthlyFee: Money(minorUnits: fee, currency: currency), availabilityTarget: target,
                            creditPolicy: billingKeys.policy, timeZone: billingKeys.timeZone, locale: billingKeys.locale)
        }
    }
}

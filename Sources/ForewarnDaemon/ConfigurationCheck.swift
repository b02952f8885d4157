import ForewarnConfig
import ForewarnModel
import Ticketing

/// Loads a configuration as `check-config`, `run` and a reload all do: the file and what it
/// names, then the hooks' templates. What this accepts, the daemon runs.
public enum ConfigurationCheck {
    public static func load(path: String) throws(ConfigError) -> Configuration {
        let configuration = try ConfigLoader.load(path: path)
        let problems = HookTemplates.compile(configuration.hooks).problems
        guard problems.isEmpty else {
            throw ConfigError(diagnostics: problems.map {
                ConfigDiagnostic(SourceLocation(file: $0.location), $0.message)
            })
        }
        return configuration
    }
}

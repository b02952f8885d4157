import ForewarnConfig
import Probes

extension ProbeRun.Inventory {
    /// What `forewarn probe` needs of a configuration: each line with its profile and ARP interface.
    public init(_ configuration: Configuration) {
        self.init(lines: configuration.lines.map { line in
            ProbeRun.ConfiguredLine(line: line, profile: configuration.probeProfile(for: line),
                                    arpInterface: configuration.arpInterface(for: line))
        }, arpInterface: configuration.probing.arpInterface)
    }
}

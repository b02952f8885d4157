import Probes
import SNMP
import Testing

/// The C libraries at the edges are linked and callable.
@Suite struct EdgeLibraryTests {
    @Test func netSNMPIsLinked() {
        let version = NetSNMPLibrary.version
        #expect(version.split(separator: ".").count >= 2, "net-snmp version '\(version)'")
        #expect(version.first?.isNumber == true)
    }

    @Test func libpcapIsLinked() {
        #expect(PcapLibrary.version.hasPrefix("libpcap version "), "'\(PcapLibrary.version)'")
    }
}

import ForewarnConfig
import Foundation
import Testing

/// CSV inventories with bytes that are no text: invalid UTF-8 or NUL in an id (or any field)
/// are refused at FILE:LINE:COLUMN with the column's name, instead of being decoded into
/// replacement characters (two ids becoming one, or an id no ticket or bill can show).
@Suite struct CSVEncodingTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-csv-\(UUID())").path

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
    }

    func messages() throws -> [String] {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: folder + "/forewarn.yaml") }
        return error?.diagnostics.map { $0.description.replacingOccurrences(of: folder + "/", with: "") } ?? []
    }

    @Test func invalidUTF8AndNULInIdsAreRefusedNamingFileLineAndColumn() throws {
        try write("forewarn.yaml", Array("""
            elements:
              - {id: acc1, address: 192.0.2.1, kind: access}
            customers_csv: customers.csv
            lines_csv: lines.csv
            contracts_csv: contracts.csv

            """.utf8))
        // Latin-1 "Kovář" (0xF8 is no UTF-8 lead byte), then an id with a NUL in the middle.
        try write("customers.csv", Array("id,name\nC1,ok\n".utf8) + Array("C2,Kov".utf8) + [0xE1, 0xF8] + Array("\n".utf8)
                  + Array("C\u{0}3,nul\n".utf8))
        // A truncated sequence (0xC3 without its continuation) in a quoted line id.
        try write("lines.csv", Array("id,customer,element,probe\nL1,C1,acc1,none\n\"L".utf8) + [0xC3] + Array("2\",C1,acc1,none\n".utf8))
        // An overlong encoding of '/' (0xC0 0xAF) in a contract id.
        try write("contracts.csv", Array("id,monthly_fee,currency,availability_target\nK".utf8) + [0xC0, 0xAF]
                  + Array("1,49900,CZK,99.9\n".utf8))
        #expect(try messages() == [
            "customers.csv:3:4: 'name' is not valid UTF-8 (byte 0xE1 at byte 4 of the value; save the file as UTF-8)",
            "customers.csv:4:1: 'id' contains a NUL byte (byte 2 of the value)",
            "contracts.csv:2:1: 'id' is not valid UTF-8 (byte 0xC0 at byte 2 of the value; save the file as UTF-8)",
            "lines.csv:3:1: 'id' is not valid UTF-8 (byte 0xC3 at byte 2 of the value; save the file as UTF-8)",
        ])
    }

    @Test func aHeaderThatIsNoTextIsRefused() throws {
        try write("forewarn.yaml", Array("customers_csv: customers.csv\n".utf8))
        try write("customers.csv", Array("id,na".utf8) + [0xFF] + Array("me\nC1,x\n".utf8))
        #expect(try messages() == [
            "customers.csv:1:4: the header's column name is not valid UTF-8 (byte 0xFF at byte 3 of the value; save the file as UTF-8)",
        ])
    }

    @Test func validUTF8IsAcceptedWhateverItsLength() throws {
        try write("forewarn.yaml", Array("customers_csv: customers.csv\n".utf8))
        try write("customers.csv", Array("id,name\nC1,Kovář Šťěpán\nC2,東京 🛰\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configuration = try ConfigLoader.load(path: folder + "/forewarn.yaml")
        #expect(configuration.customers.map(\.name) == ["Kovář Šťěpán", "東京 🛰"])
    }
}

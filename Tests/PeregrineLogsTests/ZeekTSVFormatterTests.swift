// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Testing

@Suite struct ZeekTSVFormatterTests {
    @Test(arguments: [
        (Int64(1_300_475_167_096_535_000), "1300475167.096535"),
        (0, "0.000000"),
        (1_000, "0.000001"),
        (1_500, "0.000002"),  // %.6f of the double 1.5e-6 (just above the half-way point)
        (999_999_999, "1.000000"),
        (-1_000_000, "-0.001000"),
        (1_215_620_010_005_432_000, "1215620010.005432"),
    ])
    func timeHasSixDecimals(nanoseconds: Int64, expected: String) {
        #expect(tsv(singleColumn(.time)) { $0.time(Timestamp(nanoseconds: nanoseconds)) } == expected)
    }

    @Test(arguments: [
        (Int64(64_000_000_000), "64.000000"),
        (0, "0.000000"),
        (123_000, "0.000123"),
        (3_600_500_000_000, "3600.500000"),
    ])
    func intervalHasSixDecimals(nanoseconds: Int64, expected: String) {
        #expect(tsv(singleColumn(.interval)) { $0.interval(Interval(nanoseconds: nanoseconds)) } == expected)
    }

    @Test(arguments: [
        (0.0, "0.0"),
        (3.14, "3.14"),
        (500.0, "500.0"),
        (1.1234567, "1.123457"),
        (-2.5, "-2.5"),
        (0.5, "0.5"),
        (100.25, "100.25"),
        (1e10, "10000000000.0"),
        (Double.infinity, "inf"),
        (-Double.infinity, "-inf"),
        (Double.nan, "nan"),
    ])
    func doubleDropsTrailingZeros(value: Double, expected: String) {
        #expect(tsv(singleColumn(.double)) { $0.double(value) } == expected)
    }

    @Test(arguments: [(UInt64(0), "0"), (42, "42"), (UInt64.max, "18446744073709551615")])
    func countIsDecimal(value: UInt64, expected: String) {
        #expect(tsv(singleColumn(.count)) { $0.count(value) } == expected)
    }

    @Test(arguments: [(Int64(0), "0"), (-7, "-7"), (Int64.min, "-9223372036854775808")])
    func intIsSignedDecimal(value: Int64, expected: String) {
        #expect(tsv(singleColumn(.int)) { $0.int(value) } == expected)
    }

    @Test func portIsTheNumberOnly() {
        #expect(tsv(singleColumn(.port)) { $0.port(80) } == "80")
        #expect(tsv(singleColumn(.port)) { $0.port(65535) } == "65535")
    }

    @Test func boolIsTOrF() {
        #expect(tsv(singleColumn(.bool)) { $0.bool(true) } == "T")
        #expect(tsv(singleColumn(.bool)) { $0.bool(false) } == "F")
    }

    @Test(arguments: [
        "10.0.0.1", "0.0.0.0", "255.255.255.255", "fe80::c801:eff:fe88:8", "2001:4f8:4:7:2e0:81ff:fe52:ffff",
        "::", "::1", "1::", "2001:db8::1:0:0:1", "2001:db8:0:1:1:1:1:1", "2001:0:0:1::1",
    ])
    func addrMatchesZeek(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(tsv(singleColumn(.addr)) { $0.addr(address) } == text)
        #expect(tsv(singleColumn(.addr)) { $0.addr(address) } == address.description)
    }

    @Test(arguments: ["10.0.0.0/24", "192.168.0.0/16", "fe80::/10", "0.0.0.0/0", "2001:db8::/32"])
    func subnetIsPrefixSlashLength(text: String) throws {
        let subnet = try #require(IPSubnet(text))
        #expect(tsv(singleColumn(.subnet)) { $0.subnet(subnet) } == text)
    }

    @Test func enumIsItsIdentifier() {
        #expect(tsv(singleColumn(.enum)) { $0.enumValue("Tunnel::VXLAN") } == "Tunnel::VXLAN")
    }

    @Test func uidHasPrefixAndBase62() {
        let uid = ConnectionUID(word0: 61, word1: 62)
        #expect(tsv(singleColumn(.string)) { $0.uid(uid, prefix: "C") } == "CZ01")
        #expect(tsv(singleColumn(.string)) { $0.uid(uid, prefix: "F") } == "FZ01")
    }

    @Test func unsetIsDash() {
        #expect(tsv(singleColumn(.count)) { $0.unset() } == "-")
        #expect(tsv(singleColumn(.set(.string))) { $0.unset() } == "-")
    }

    @Test func columnsAreTabSeparated() {
        let schema = LogSchema(id: 0, path: "t", columns: [
            LogColumn("a", .count), LogColumn("b", .string), LogColumn("c", .bool), LogColumn("d", .interval),
        ])
        let line = tsv(schema) {
            $0.count(1)
            $0.string("x")
            $0.unset()
            $0.interval(.seconds(2))
        }
        #expect(line == "1\tx\t-\t2.000000")
    }

    // MARK: Containers

    @Test func emptyContainersAreEmptyMarker() {
        #expect(tsv(singleColumn(.set(.string))) { $0.beginSet(count: 0) } == "(empty)")
        #expect(tsv(singleColumn(.vector(.string))) { $0.beginVector(count: 0) } == "(empty)")
    }

    @Test func setElementsJoinWithCommaAndEscapeIt() {
        // zeek-logs.md §1: {"AA", ",", ",,", "CC"} renders its commas as \x2c.
        let line = tsv(singleColumn(.set(.string))) {
            $0.beginSet(count: 4)
            $0.string("AA")
            $0.string(",")
            $0.string(",,")
            $0.string("CC")
        }
        #expect(line == "AA,\\x2c,\\x2c\\x2c,CC")
    }

    @Test func containerElementsUseTheMarkers() {
        let line = tsv(singleColumn(.vector(.string))) {
            $0.beginVector(count: 4)
            $0.string("")
            $0.string("-")
            $0.unset()
            $0.string("(empty)")
        }
        #expect(line == "(empty),\\x2d,-,\\x28empty)")
    }

    @Test func vectorOfIntervalsAndAddrs() {
        #expect(tsv(singleColumn(.vector(.interval))) {
            $0.beginVector(count: 2)
            $0.interval(.seconds(30))
            $0.interval(.milliseconds(1500))
        } == "30.000000,1.500000")
        #expect(tsv(singleColumn(.vector(.addr))) {
            $0.beginVector(count: 2)
            $0.addr(IPAddress(ipv4: 0x0A00_0001))
            $0.addr(.zero)
        } == "10.0.0.1,::")
    }
}

// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import PeregrineCore

@Suite struct IPAddressTests {
    @Test(arguments: [
        "10.0.0.1", "255.255.255.255", "0.0.0.0", "fe80::c801:eff:fe88:8", "2001:4f8:4:7:2e0:81ff:fe52:ffff",
        "::", "::1", "ff02::1:3", "2001:0:4137:9e50:8000:f12a:b9c8:2815", "fc00:0:2:100::1:1", "1::",
        "2001:db8:0:1:1:1:1:1",
    ])
    func roundTrip(text: String) throws {
        let a = try #require(IPAddress(text))
        #expect(a.description == text)
    }

    @Test func compressesTheLongestZeroRun() throws {
        #expect(try #require(IPAddress("2001:db8:0:0:1:0:0:0")).description == "2001:db8:0:0:1::")
        #expect(try #require(IPAddress("2001:0:0:1:0:0:0:1")).description == "2001:0:0:1::1")
        #expect(IPAddress("1.2.3") == nil)
        #expect(IPAddress("1.2.3.256") == nil)
        #expect(IPAddress("1:2:3:4:5:6:7:8:9") == nil)
    }

    @Test func ordersByBytes() throws {
        #expect(try #require(IPAddress("10.0.0.1")) < #require(IPAddress("10.0.0.2")))
        #expect(try #require(IPAddress("9.255.255.255")) < #require(IPAddress("10.0.0.0")))
    }

    @Test func subnetContainment() throws {
        let net = try #require(IPSubnet("10.0.0.0/8"))
        #expect(net.contains(try #require(IPAddress("10.200.1.1"))))
        #expect(!net.contains(try #require(IPAddress("11.0.0.1"))))
        let v6 = try #require(IPSubnet("fe80::/10"))
        #expect(v6.contains(try #require(IPAddress("fe80::1"))))
        #expect(v6.description == "fe80::/10")
        #expect(net.description == "10.0.0.0/8")
    }
}

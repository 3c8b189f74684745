// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineSessions
import Testing

@Suite struct FlowKeyTests {
    @Test func bothDirectionsGiveTheSameKey() throws {
        let a = try #require(IPAddress("10.0.0.1")), b = try #require(IPAddress("10.0.0.2"))
        let k1 = FlowKey(source: a, sourcePort: 1234, destination: b, destinationPort: 80, transportProtocol: 6)
        let k2 = FlowKey(source: b, sourcePort: 80, destination: a, destinationPort: 1234, transportProtocol: 6)
        #expect(k1 == k2)
        let k3 = FlowKey(source: a, sourcePort: 1234, destination: b, destinationPort: 80, transportProtocol: 17)
        #expect(k1 != k3)
    }
}

// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrinePolicy
import Testing

@Suite struct CommunityIDTests {
    // Zeek's baseline scripts.policy.protocols.conn.community-id-logging (http/get.pcap):
    // 141.142.228.5:59856 -> 192.150.187.43:80/tcp has `1:yvyB8h+3dnggTZW0UEITWCst97w=`.
    @Test func matchesZeeksBaselineValueInBothDirections() throws {
        let client = try #require(IPAddress("141.142.228.5")), server = try #require(IPAddress("192.150.187.43"))
        let forward = CommunityID.v1(
            seed: 0, originator: client, originatorPort: 59856, responder: server, responderPort: 80,
            transportProtocol: 6, oneWayICMP: false)
        let flipped = CommunityID.v1(
            seed: 0, originator: server, originatorPort: 80, responder: client, responderPort: 59856,
            transportProtocol: 6, oneWayICMP: false)
        #expect(forward == "1:yvyB8h+3dnggTZW0UEITWCst97w=")
        #expect(flipped == forward)
    }

    // The spec's reference tests (community-id-spec, baseline for seed 1 differs from seed 0).
    @Test func seedChangesTheValue() throws {
        let a = try #require(IPAddress("10.0.0.1")), b = try #require(IPAddress("10.0.0.2"))
        let s0 = CommunityID.v1(seed: 0, originator: a, originatorPort: 1, responder: b, responderPort: 2,
                                transportProtocol: 17, oneWayICMP: false)
        let s1 = CommunityID.v1(seed: 1, originator: a, originatorPort: 1, responder: b, responderPort: 2,
                                transportProtocol: 17, oneWayICMP: false)
        #expect(s0 != s1)
        #expect(s0.hasPrefix("1:") && s0.count == 30)
    }
}

// SPDX-License-Identifier: Apache-2.0
import PeregrineEngine
import Testing

@Suite struct EngineErrorTests {
    @Test func describesItself() {
        #expect(EngineError("no such file: x.pcap").description == "no such file: x.pcap")
    }
}

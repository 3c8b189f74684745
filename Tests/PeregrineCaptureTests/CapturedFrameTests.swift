// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import Testing

@Suite struct CapturedFrameTests {
    @Test func frameKeepsWireLengthApartFromCapturedBytes() {
        let bytes: [UInt8] = [1, 2, 3]
        bytes.withUnsafeBytes { raw in
            let f = CapturedFrame(bytes: raw, wireLength: 60, timestamp: Timestamp(nanoseconds: 5), linkType: 1)
            #expect(f.bytes.count == 3 && f.wireLength == 60)
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import PeregrineCore

@Suite struct ConnectionUIDTests {
    @Test func base62LeastSignificantDigitFirst() {
        // word0 = 61 -> "Z"; word1 = 62 -> "01" (least significant digit first).
        #expect(ConnectionUID(word0: 61, word1: 62).string() == "CZ01")
        var bytes: [UInt8] = []
        ConnectionUID(word0: 61, word1: 62).write(prefix: UInt8(ascii: "F"), to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "FZ01")
    }

    @Test func seededGeneratorsRepeatAndLengthsStayInZeeksRange() {
        var a = UIDGenerator(seed: 42), b = UIDGenerator(seed: 42)
        for _ in 0..<1000 {
            let u = a.nextUID()
            #expect(u == b.nextUID())
            let s = u.string()
            #expect(s.count >= 3 && s.count <= 18)
        }
    }
}

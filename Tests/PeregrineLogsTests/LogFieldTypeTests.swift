// SPDX-License-Identifier: Apache-2.0
import PeregrineLogs
import Testing

@Suite struct LogFieldTypeTests {
    @Test func containerTypesSpellLikeZeek() {
        #expect(LogFieldType.set(.string).zeekName == "set[string]")
        #expect(LogFieldType.vector(.interval).zeekName == "vector[interval]")
    }
}

// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `NTPParser` and `NTPAnalyzer`: each input is one UDP payload, parsed
// on its own and then delivered as both directions' first datagram.
import FuzzSupport
import PeregrineAnalyzers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let payload = input.rest()
    let parsed = NTPParser.parse(payload)
    if parsed != nil { fuzzCheck(payload.count >= 1, "a message from no bytes") }
    for isOriginator in [true, false] {
        var state: UInt32 = 0
        _ = NTPAnalyzer.deliver(payload, isOriginator: isOriginator, state: &state)
        _ = NTPAnalyzer.deliver(payload, isOriginator: !isOriginator, state: &state)
    }
    return 0
}

runFuzzer(fuzzNTPParser)

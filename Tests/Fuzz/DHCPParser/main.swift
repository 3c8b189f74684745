// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `DHCPParser` and `DHCPAnalyzer`: each input is one UDP payload, parsed
// on its own and then delivered twice to one connection's analyzer state.
import FuzzSupport
import PeregrineAnalyzers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let payload = input.rest()
    if case .success(let m) = DHCPParser.parse(payload) {
        fuzzCheck(payload.count >= 241, "a message shorter than the header, cookie and End")
        let mac = m.clientHardwareAddress
        fuzzCheck(mac.isEmpty || mac.utf8.count == 17 || mac.utf8.count == 23, "chaddr not six or eight bytes")
    }
    var state: UInt32 = 0
    let first = DHCPAnalyzer.deliver(payload, state: &state)
    let second = DHCPAnalyzer.deliver(payload, state: &state)
    if case .violation = first { fuzzCheck(second == .ignored, "an analyzer that failed kept going") }
    return 0
}

runFuzzer(fuzzDHCPParser)

// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `DNSParser`: one DNS message as the analyzer hands it over (a UDP
// payload, or one length-framed message of a TCP stream).
//
// Input: byte 0 sets the parse options: bit 0 taken as a query, bit 1 NetBIOS (port 137), bit 2
// build the answer summaries. The rest is the message.
import FuzzSupport
import PeregrineAnalyzers
import PeregrineCore
import PeregrineSessions

/// The reusable message the parser decodes into (libFuzzer calls the entry point from one thread).
nonisolated(unsafe) var message = DNSMessage()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let payload = input.rest()
    var weirds = WeirdQueue()
    let outcome = DNSParser.parse(
        payload, isQuery: options & 1 != 0, netBIOS: options & 2 != 0, summarize: options & 4 != 0, into: &message,
        weirds: &weirds)
    if outcome != .tooShort {
        fuzzCheck(message.length == payload.count, "message length differs from the payload's")
    }
    return 0
}

runFuzzer(fuzzDNSParser)

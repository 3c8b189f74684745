// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `TLSConnection` (the SSL/TLS record and handshake parser): both
// directions' stream bytes in any interleaving, and gaps, as the worker's reassembly hands them
// over. Every event's bytes are read in full, so AddressSanitizer sees any view past its buffer.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap instead of data), a 16-bit
// big-endian length and, for data, that many bytes.
import FuzzSupport
import PeregrineAnalyzers

/// Touches every byte an event carries.
struct Sink: TLSEventSink {
    var checksum: UInt8 = 0
    var events = 0

    mutating func tls(_ event: TLSEvent) {
        events += 1
        switch event {
        case .clientHello(_, let sessionID), .serverHello(_, _, let sessionID, _):
            fuzzTouch(sessionID, into: &checksum)
        case .helloExtension(_, _, let data):
            fuzzTouch(data, into: &checksum)
        case .serverName(_, let name, _):
            fuzzTouch(name, into: &checksum)
        case .alpn(_, let first):
            fuzzTouch(first, into: &checksum)
        case .certificate(_, _, let der):
            fuzzTouch(der, into: &checksum)
        case .serverSupportedVersion, .serverKeyShare, .handshakeMessage, .ecdhServerCurve, .changeCipherSpec,
            .alert, .heartbeat, .plaintextData, .established:
            break
        }
    }
}

/// One parser reused by every input, reset first as a pool slot is (libFuzzer calls the entry
/// point from one thread).
nonisolated(unsafe) var connection = TLSConnection()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLSConnection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    connection.reset()
    var sink = Sink()
    while !input.isAtEnd {
        let control = input.byte()
        if control & 2 != 0 {
            _ = input.uint16()
            connection.gap()
        } else {
            _ = connection.deliver(input.record(), isOriginator: control & 1 != 0, sink: &sink)
        }
    }
    return 0
}

runFuzzer(fuzzTLSConnection)

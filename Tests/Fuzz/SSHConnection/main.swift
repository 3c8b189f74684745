// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `SSHConnection` (version exchange, binary packets up to NEWKEYS, and
// the encrypted-size heuristics after it): both directions' stream bytes in any interleaving, and
// gaps. Every event's bytes are read in full, so AddressSanitizer sees any view past its buffer.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap instead of data), a 16-bit
// big-endian length and, for data, that many bytes.
import FuzzSupport
import PeregrineAnalyzers

/// Touches every byte an event carries.
struct Sink: SSHEventSink {
    var checksum: UInt8 = 0

    mutating func ssh(_ event: SSHEvent) {
        switch event {
        case .clientVersion(let bytes), .serverVersion(let bytes), .serverHostKey(let bytes),
            .unknownKexAlgorithm(let bytes):
            fuzzTouch(bytes, into: &checksum)
        case .capabilities(let k):
            for list in [k.kexAlgorithms, k.serverHostKeyAlgorithms, k.encryptionClientToServer,
                         k.encryptionServerToClient, k.macClientToServer, k.macServerToClient,
                         k.compressionClientToServer, k.compressionServerToClient] {
                fuzzTouch(list, into: &checksum)
            }
        case .authAttempted:
            break
        }
    }
}

/// One parser reused by every input, reset first as a pool slot is (libFuzzer calls the entry
/// point from one thread).
nonisolated(unsafe) var connection = SSHConnection()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSHConnection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
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

runFuzzer(fuzzSSHConnection)

// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `FTPParser`: both directions' stream bytes in any interleaving, gaps,
// then the connection's end. Every event's bytes are read in full, so AddressSanitizer sees any
// view past its buffer.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap instead of data), a 16-bit
// big-endian length and, for data, that many bytes. Bit 2 of the last control byte says whether
// the originator closed its side at the end.
import FuzzSupport
import PeregrineAnalyzers
import PeregrineCore

/// Touches every byte an event carries.
struct Sink: FTPEventSink {
    var checksum: UInt8 = 0

    mutating func ftpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer) {
        fuzzTouch(command, into: &checksum)
        fuzzTouch(arg, into: &checksum)
    }

    mutating func ftpReply(code: UInt16, message: UnsafeRawBufferPointer, continued: Bool) {
        fuzzTouch(message, into: &checksum)
    }

    mutating func ftpWeird(_ weird: Weird, addl: [UInt8]) {
        checksum &+= UInt8(truncatingIfNeeded: weird.name.utf8CodeUnitCount + addl.count)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFTPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var parser = FTPParser()
    var sink = Sink()
    var control: UInt8 = 0
    while !input.isAtEnd {
        control = input.byte()
        if control & 2 != 0 {
            _ = input.uint16()
            parser.gap(isOriginator: control & 1 != 0)
        } else {
            _ = parser.feed(input.record(), isOriginator: control & 1 != 0, sink: &sink)
        }
    }
    parser.finish(originatorClosed: control & 4 != 0, sink: &sink)
    return 0
}

runFuzzer(fuzzFTPParser)

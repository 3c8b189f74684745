// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `SMTPParser`: both directions' stream bytes in any interleaving, gaps,
// then the connection's end. Every event's bytes are read in full, so AddressSanitizer sees any
// view past its buffer.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap instead of data), a 16-bit
// big-endian length and, for data, that many bytes.
import FuzzSupport
import PeregrineAnalyzers
import PeregrineCore

/// Touches every byte an event carries.
struct Sink: SMTPEventSink {
    var checksum: UInt8 = 0

    mutating func smtpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer) {
        fuzzTouch(command, into: &checksum)
        fuzzTouch(arg, into: &checksum)
    }

    mutating func smtpReply(code: UInt16, command: StaticString, message: UnsafeRawBufferPointer, continued: Bool) {
        fuzzTouch(message, into: &checksum)
    }

    mutating func smtpBeginEntity() { checksum &+= 1 }

    mutating func smtpHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        fuzzTouch(name, into: &checksum)
        fuzzTouch(value, into: &checksum)
    }

    mutating func smtpStartTLS() { checksum &+= 1 }

    mutating func smtpWeird(_ weird: Weird) {
        checksum &+= UInt8(truncatingIfNeeded: weird.name.utf8CodeUnitCount)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var parser = SMTPParser()
    var sink = Sink()
    while !input.isAtEnd {
        let control = input.byte()
        if control & 2 != 0 {
            _ = input.uint16()
            parser.gap(isOriginator: control & 1 != 0, sink: &sink)
        } else {
            _ = parser.feed(input.record(), isOriginator: control & 1 != 0, sink: &sink)
        }
    }
    parser.finish(sink: &sink)
    return 0
}

runFuzzer(fuzzSMTPParser)

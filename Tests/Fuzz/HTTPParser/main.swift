// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the HTTP analyzer (`HTTPAnalyzer` over two `HTTPParser`s): a stream of
// deliveries and gaps on one connection, then its end, as the worker's reassembly hands them over.
// Every event's bytes are read in full, so AddressSanitizer sees any view past its buffer.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap of `length` bytes instead of
// data), a 16-bit big-endian length and, for data, that many bytes.
import FuzzSupport
import PeregrineAnalyzers
import PeregrineCore

/// Touches every byte an event carries.
struct Sink: HTTPEventSink {
    var checksum: UInt8 = 0

    mutating func touch(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { checksum &+= b }
    }

    mutating func http(_ event: HTTPEvent, isOriginator: Bool) {
        switch event {
        case .request(let method, let uri, let version):
            touch(method)
            touch(uri)
            touch(version)
        case .reply(let version, _, let reason):
            touch(version)
            touch(reason)
        case .header(let name, let value, _):
            touch(name)
            touch(value)
        case .entityData(let bytes, _):
            touch(bytes)
        case .beginEntity, .entitySize, .entityGap, .endEntity, .messageDone, .upgrade:
            break
        }
    }

    mutating func httpWeird(_ weird: Weird) {
        checksum &+= UInt8(truncatingIfNeeded: weird.name.utf8CodeUnitCount)
    }
}

/// One pool slot reused by every input (the analyzer resets it on attach). libFuzzer calls the
/// entry point from one thread.
nonisolated(unsafe) let analyzer = HTTPAnalyzer(capacity: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    guard let slot = analyzer.attach() else { fatalError("the one HTTP slot was not returned") }
    var sink = Sink()
    while !input.isAtEnd {
        let control = input.byte()
        let isOriginator = control & 1 != 0
        if control & 2 != 0 {
            analyzer.gap(slot, length: UInt64(input.uint16()), isOriginator: isOriginator, sink: &sink)
        } else {
            _ = analyzer.deliver(slot, data: input.record(), isOriginator: isOriginator, sink: &sink)
        }
    }
    analyzer.finish(slot, sink: &sink)
    analyzer.detach(slot)
    return 0
}

runFuzzer(fuzzHTTPParser)

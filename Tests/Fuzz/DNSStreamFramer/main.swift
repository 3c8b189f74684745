// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `DNSStreamFramer` (DNS over TCP: 16-bit length prefixes, messages
// split across deliveries into a small shared buffer pool): two connections' directions in any
// interleaving, and gaps. Every message handed out is read in full, so AddressSanitizer sees any
// view past its buffer; with two buffers for two connections the pool runs dry too.
//
// Input: records of a control byte (bit 0: originator; bit 1: a gap instead of data; bit 2: the
// second connection; bit 3: the connection ends and its slot is reset), a 16-bit big-endian length
// and, for data, that many bytes.
import FuzzSupport
import PeregrineAnalyzers

/// Reused by every input; its slots are reset at the start (libFuzzer calls the entry point
/// from one thread).
nonisolated(unsafe) let framer = DNSStreamFramer(capacity: 2, bufferCount: 2)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSStreamFramer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    framer.reset(1)
    framer.reset(2)
    var checksum: UInt8 = 0
    while !input.isAtEnd {
        let control = input.byte()
        let slot: UInt32 = control & 4 != 0 ? 2 : 1
        let isOriginator = control & 1 != 0
        if control & 8 != 0 {
            framer.reset(slot)
        } else if control & 2 != 0 {
            _ = input.uint16()
            framer.gap(slot, isOriginator: isOriginator)
        } else {
            framer.deliver(slot, data: input.record(), isOriginator: isOriginator) { message in
                fuzzCheck(message.count > 0 && message.count <= DNSStreamFramer.bufferSize, "message size out of range")
                fuzzTouch(message, into: &checksum)
            }
        }
    }
    return 0
}

runFuzzer(fuzzDNSStreamFramer)

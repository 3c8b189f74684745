// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for FragmentReassembler: a sequence of IP packets carved from the input is
// decoded with IPDecoder, each fragment is added to one reassembler (small and few slots, so
// eviction, timeouts and capacity drops happen), and every completed datagram is decoded again
// down to the transport layer, as the worker does.
//
// Input: byte 0 sets the slot count (low 3 bits + 1) and the timeout (bits 3-7, in seconds + 1);
// byte 1 the payload bytes per slot ((value + 1) * 512). Then records: a time step byte (below
// 128: that many 10 ms; else (value - 127) seconds), a 16-bit big-endian length and that many
// bytes of raw IPv4 or IPv6 packet.
import FuzzSupport
import PeregrineCore
import PeregrineDecode

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFragments(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let shape = input.byte()
    let slots = Int(shape & 0x07) + 1
    let perSlot = (Int(input.byte()) + 1) * 512
    let reassembler = FragmentReassembler(
        slotCount: slots, byteBudget: slots * perSlot, timeout: .seconds(Int64(shape >> 3) + 1))
    var now = Timestamp(seconds: 1_000_000, nanoseconds: 0)
    var packets = 0
    while !input.isAtEnd && packets < 256 {
        packets += 1
        let step = input.byte()
        now = now.adding(step < 128 ? .milliseconds(Int64(step) * 10) : .seconds(Int64(step) - 127))
        let packet = input.record()
        var ip = IPLayer()
        guard case .ok = IPDecoder.decode(packet, offset: 0, etherType: 0, verifyChecksum: false, into: &ip),
            ip.isFragment
        else { continue }
        let result = reassembler.add(frame: packet, ip: ip, timestamp: now)
        fuzzCheck(reassembler.weirdCount <= FragmentReassembler.maxWeirdsPerAdd, "too many weirds for one fragment")
        for i in 0..<reassembler.weirdCount { _ = reassembler.weird(at: i) }
        fuzzCheck(reassembler.slotsInUse >= 0 && reassembler.slotsInUse <= reassembler.slotCount, "slot count out of range")
        guard case .complete(let datagram) = result else { continue }
        fuzzCheck(
            datagram.count <= FragmentReassembler.maxHeaderBytes + reassembler.slotCapacity,
            "reassembled datagram larger than a slot")
        var whole = IPLayer()
        guard case .ok = IPDecoder.decode(datagram, offset: 0, etherType: 0, verifyChecksum: true, into: &whole) else {
            continue
        }
        if whole.version == 4 { fuzzCheck(!whole.isFragment, "reassembled IPv4 datagram is still a fragment") }
        var t = TransportLayer()
        _ = TransportDecoder.decode(datagram, ip: whole, verifyChecksum: true, into: &t)
    }
    return 0
}

runFuzzer(fuzzFragments)

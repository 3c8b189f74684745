// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineDecode
import Testing

/// Runs `parse` over `bytes` placed after a 3-byte prefix, so offsets other than 0 are exercised.
func withPayload<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer, Int, Int) -> R) -> R {
    let framed: [UInt8] = [0xEE, 0xEE, 0xEE] + bytes
    return framed.withUnsafeBytes { body($0, 3, bytes.count) }
}

/// Parses every prefix of `bytes` shorter than `bytes.count` (the buffer itself is cut too, so a
/// read past the prefix would be out of bounds) and returns the outcomes by prefix length.
func prefixOutcomes(
    _ bytes: [UInt8], _ parse: (UnsafeRawBufferPointer, Int, Int) -> TunnelOutcome
) -> [TunnelOutcome] {
    (0..<bytes.count).map { n in
        Array(bytes.prefix(n)).withUnsafeBytes { parse($0, 0, n) }
    }
}

/// True when the outcome carries `weird` (compared by name and source).
func has(_ outcome: TunnelOutcome, _ weird: Weird) -> Bool {
    guard let w = outcome.weird else { return false }
    return w.nameString == weird.nameString && w.sourceString == weird.sourceString
}

/// A minimal IPv4 header (20 bytes) with the given total length and protocol, followed by zeros.
func ipv4Packet(totalLength: Int = 28, proto: UInt8 = 17) -> [UInt8] {
    var b: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xFF), 0, 1, 0, 0, 64, proto, 0, 0,
                      10, 0, 0, 1, 10, 0, 0, 2]
    b += [UInt8](repeating: 0, count: max(0, totalLength - 20))
    return b
}

/// A minimal IPv6 header with the given payload length and next header, followed by the payload.
func ipv6Packet(payloadLength: Int = 8, next: UInt8 = 17, source: [UInt8]? = nil) -> [UInt8] {
    var b: [UInt8] = [0x60, 0, 0, 0, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF), next, 64]
    b += source ?? ([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
    b += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
    b += [UInt8](repeating: 0, count: payloadLength)
    return b
}

/// Packets of a classic little- or big-endian pcap file with Ethernet link type, read simply for
/// tests. `nil` when the corpus (../shared/corpus/zeek) is absent.
func corpusFrames(_ case: String, _ file: String) -> [[UInt8]]? {
    let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/corpus/zeek/\(`case`)/\(file)")
    guard let data = try? Data(contentsOf: root), data.count >= 24 else { return nil }
    let d = [UInt8](data)
    let little = d[0] == 0xD4
    func u32(_ i: Int) -> Int {
        let v = little
            ? UInt32(d[i]) | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2]) << 16 | UInt32(d[i + 3]) << 24
            : UInt32(d[i + 3]) | UInt32(d[i + 2]) << 8 | UInt32(d[i + 1]) << 16 | UInt32(d[i]) << 24
        return Int(v)
    }
    guard u32(20) == 1 else { return nil }
    var frames: [[UInt8]] = []
    var at = 24
    while at + 16 <= d.count {
        let caplen = u32(at + 8)
        guard at + 16 + caplen <= d.count else { break }
        frames.append(Array(d[(at + 16)..<(at + 16 + caplen)]))
        at += 16 + caplen
    }
    return frames
}

/// The outer IPv4 packet of an Ethernet frame: (protocol, payload offset, payload length,
/// source, destination), skipping fragments and non-IPv4 frames.
func outerIPv4(_ f: [UInt8]) -> (proto: UInt8, offset: Int, length: Int, src: [UInt8], dst: [UInt8])? {
    guard f.count >= 34, f[12] == 0x08, f[13] == 0x00, f[14] >> 4 == 4 else { return nil }
    let ihl = Int(f[14] & 0x0F) * 4
    let total = Int(f[16]) << 8 | Int(f[17])
    let frag = (Int(f[20]) << 8 | Int(f[21])) & 0x3FFF
    guard frag == 0, 14 + total <= f.count else { return nil }
    return (f[23], 14 + ihl, total - ihl, Array(f[26..<30]), Array(f[30..<34]))
}

/// The UDP payload of an unfragmented outer IPv4/UDP frame with one of the ports given.
func outerUDP(_ f: [UInt8], port: UInt16? = nil) -> (offset: Int, length: Int, sport: UInt16, dport: UInt16)? {
    guard let ip = outerIPv4(f), ip.proto == 17, ip.length >= 8 else { return nil }
    let s = UInt16(f[ip.offset]) << 8 | UInt16(f[ip.offset + 1])
    let d = UInt16(f[ip.offset + 2]) << 8 | UInt16(f[ip.offset + 3])
    if let port, s != port && d != port { return nil }
    return (ip.offset + 8, ip.length - 8, s, d)
}

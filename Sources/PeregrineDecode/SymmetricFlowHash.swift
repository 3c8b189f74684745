// SPDX-License-Identifier: Apache-2.0

/// The project's symmetric flow hash: both directions of a flow give the same value
/// (architecture.md, "Symmetric flow affinity").
///
/// This is the Swift copy of `bpf/peregrine_hash.h`, which the eBPF fanout and XDP programs use;
/// the two are kept equal line for line and tested to agree bit for bit on every packet of the
/// corpus traces (`Tests/PeregrineCaptureTests/BPF/`). The header's comment is the definition;
/// in short:
///
/// - Ethernet, then up to two VLAN tags (802.1Q, 802.1ad), then the outermost IPv4 or IPv6 header.
///   Anything else, a truncated header, or a bad IP version/IHL gives the all-zero key.
/// - Key: both addresses (IPv4 as IPv4-mapped IPv6), the protocol, and for TCP, UDP and SCTP
///   packets that are not fragments the two ports. Every fragment, the first included, hashes on
///   addresses and protocol only, so a datagram's fragments stay together (a flow whose packets
///   are only sometimes fragmented can split). IPv6 walks up to
///   ``maxIPv6Extensions`` hop-by-hop, routing, destination-options and fragment headers.
/// - The endpoints are ordered, (address, port) of `a` not above `b`, so the key is symmetric.
/// - Mix: MurmurHash3 x86_32 over the key's ten 32-bit words, length 40, with the seed.
///
/// Allocation-free; reads the frame through bounds-checked unaligned loads.
public enum SymmetricFlowHash {
    /// VLAN tags skipped before the network header (QinQ); a third makes the frame "not IP".
    public static let maxVLANTags = 2
    /// IPv6 extension headers walked (the verifier needs a bound; real traffic has one or two).
    public static let maxIPv6Extensions = 8

    /// The hash of an Ethernet frame (starting at the destination MAC address).
    public static func hash(ethernetFrame frame: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
        var key = Key()
        if frame.count >= 14 {
            key = Key(frame, offset: 14, etherType: UInt32(frame.be16(12)))
        }
        return key.hash(seed: seed)
    }

    /// The flow key: ten words as in `struct peregrine_flow_key` (`bpf/include/peregrine_bpf.h`).
    struct Key {
        var a: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        var b: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        var ports: UInt32 = 0
        var proto: UInt32 = 0

        /// The all-zero key of a frame that is not IP.
        init() {}

        /// Parses from `offset`, where `etherType` says what starts (VLAN tags, then IP).
        init(_ p: UnsafeRawBufferPointer, offset start: Int, etherType start16: UInt32) {
            var offset = start, etherType = start16
            for _ in 0..<SymmetricFlowHash.maxVLANTags {
                guard etherType == 0x8100 || etherType == 0x88A8 else { break }
                guard offset + 4 <= p.count else { return }
                etherType = UInt32(p.be16(offset + 2))
                offset += 4
            }
            let ok: Bool
            switch etherType {
            case 0x0800: ok = parseIPv4(p, offset)
            case 0x86DD: ok = parseIPv6(p, offset)
            default: ok = false
            }
            guard ok else {
                self = Key()
                return
            }
            orderEndpoints()
        }

        private mutating func parseIPv4(_ p: UnsafeRawBufferPointer, _ offset: Int) -> Bool {
            guard offset + 20 <= p.count else { return false }
            let headerLength = Int(p[offset] & 0x0F) * 4
            guard p[offset] >> 4 == 4, headerLength >= 20 else { return false }
            a = (0, 0, 0xFFFF, p.be32(offset + 12))
            b = (0, 0, 0xFFFF, p.be32(offset + 16))
            proto = UInt32(p[offset + 9])
            // MF or a fragment offset: a fragment, the first one too.
            if p.be16(offset + 6) & 0x3FFF == 0 { parsePorts(p, offset + headerLength) }
            return true
        }

        private mutating func parseIPv6(_ p: UnsafeRawBufferPointer, _ start: Int) -> Bool {
            guard start + 40 <= p.count, p[start] >> 4 == 6 else { return false }
            a = (p.be32(start + 8), p.be32(start + 12), p.be32(start + 16), p.be32(start + 20))
            b = (p.be32(start + 24), p.be32(start + 28), p.be32(start + 32), p.be32(start + 36))
            var next = UInt32(p[start + 6])
            var offset = start + 40
            walk: for _ in 0..<SymmetricFlowHash.maxIPv6Extensions {
                switch next {
                case 0, 43, 60:  // hop-by-hop, routing, destination options
                    guard offset + 2 <= p.count else { break walk }
                    next = UInt32(p[offset])
                    offset += (Int(p[offset + 1]) + 1) * 8
                case 44:  // fragment
                    guard offset + 4 <= p.count else { break walk }
                    next = UInt32(p[offset])
                    if p.be16(offset + 2) & 0xFFF9 != 0 {  // offset or M: a fragment, no ports
                        proto = next
                        return true
                    }
                    offset += 8  // an atomic fragment (RFC 6946): walk over it
                default:
                    break walk
                }
            }
            proto = next
            parsePorts(p, offset)
            return true
        }

        private mutating func parsePorts(_ p: UnsafeRawBufferPointer, _ offset: Int) {
            guard proto == 6 || proto == 17 || proto == 132, offset + 4 <= p.count else { return }
            ports = p.be32(offset)
        }

        /// Swaps the endpoints when (b, port b) < (a, port a).
        private mutating func orderEndpoints() {
            let portA = ports >> 16, portB = ports & 0xFFFF
            let swap: Bool
            if a.0 != b.0 {
                swap = b.0 < a.0
            } else if a.1 != b.1 {
                swap = b.1 < a.1
            } else if a.2 != b.2 {
                swap = b.2 < a.2
            } else if a.3 != b.3 {
                swap = b.3 < a.3
            } else {
                swap = portB < portA
            }
            if swap {
                (a, b) = (b, a)
                ports = portB << 16 | portA
            }
        }

        /// MurmurHash3 x86_32 over the ten words.
        func hash(seed: UInt32) -> UInt32 {
            var h = seed
            func mix(_ word: UInt32) {
                var k = word &* 0xCC9E_2D51
                k = (k << 15 | k >> 17) &* 0x1B87_3593
                h ^= k
                h = (h << 13 | h >> 19) &* 5 &+ 0xE654_6B64
            }
            mix(a.0); mix(a.1); mix(a.2); mix(a.3)
            mix(b.0); mix(b.1); mix(b.2); mix(b.3)
            mix(ports); mix(proto)
            h ^= 40
            h ^= h >> 16
            h = h &* 0x85EB_CA6B
            h ^= h >> 13
            h = h &* 0xC2B2_AE35
            h ^= h >> 16
            return h
        }
    }
}

extension UnsafeRawBufferPointer {
    /// The big-endian 16-bit value at `offset`; the caller checked the bounds.
    fileprivate func be16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The big-endian 32-bit value at `offset`; the caller checked the bounds.
    fileprivate func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

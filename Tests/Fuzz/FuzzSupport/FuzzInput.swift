// SPDX-License-Identifier: Apache-2.0

/// Reads a fuzzer's input as a sequence of fields: single bytes, big-endian integers and
/// length-prefixed records. Reads past the end yield zeros and short records, so every input,
/// however short, is a valid (if small) test case.
public struct FuzzInput {
    /// The whole input.
    public let bytes: UnsafeRawBufferPointer
    /// Where the next read starts.
    public private(set) var position = 0

    /// Wraps libFuzzer's `(data, size)` pair.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = size > 0 && data != nil ? UnsafeRawBufferPointer(start: UnsafeRawPointer(data), count: size) : UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// True when every byte has been read.
    public var isAtEnd: Bool { position >= bytes.count }

    /// The next byte, 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next two bytes as a big-endian number.
    public mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// The next `count` bytes, or all that are left when fewer remain.
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(max(count, 0), bytes.count - position)
        defer { position += n }
        return n == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    /// Everything not read yet.
    public mutating func rest() -> UnsafeRawBufferPointer { take(bytes.count - position) }

    /// A record: a 16-bit big-endian length, then that many bytes (fewer at the end of the input).
    public mutating func record() -> UnsafeRawBufferPointer { take(Int(uint16())) }
}

/// Stops the fuzzer with `message` when an invariant of a decoder's contract is broken, so
/// libFuzzer saves the input (a plain `precondition` would vanish with `-Ounchecked`).
@inline(never)
public func fuzzCheck(_ condition: Bool, _ message: StaticString, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("fuzz invariant broken: \(message)", file: file, line: line) }
}

// SPDX-License-Identifier: Apache-2.0

/// Splits one direction of a reassembled stream into lines, as Zeek's `ContentLine_Analyzer`
/// and `NVT_Analyzer` do for the line-based protocols (FTP, SMTP): a line ends at LF, a CR
/// right before the LF is dropped, and a line that outgrows ``maxLineLength`` is delivered in
/// pieces of that length.
///
/// A line that arrives whole inside one delivery is handed out in place (no copy); only the
/// tail of a delivery that has no LF yet is kept, in a buffer whose capacity is kept for reuse.
public struct LineSplitter: Sendable {
    /// Longest line kept before it is cut: 16 KiB. Zeek's `ContentLine_Analyzer` grows its
    /// buffer without bound for FTP and SMTP; Peregrine bounds it so a peer cannot make a
    /// worker hold an endless line.
    public static let maxLineLength = 16_384

    var partial: [UInt8] = []
    /// Lines cut because they outgrew ``maxLineLength``.
    public private(set) var oversizedLines: UInt64 = 0

    public init() {}

    /// True while bytes of an unfinished line are held (Zeek's `HasPartialLine`).
    public var hasPartialLine: Bool { !partial.isEmpty }

    /// Splits `data`, calling `line` for each complete line (without its CR LF or LF).
    public mutating func feed(_ data: UnsafeRawBufferPointer, line: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        let n = data.count
        var i = 0
        while i < n {
            if data[i] == 0x0A {
                if partial.isEmpty {
                    var end = i
                    if end > start && data[end - 1] == 0x0D { end -= 1 }
                    line(UnsafeRawBufferPointer(rebasing: data[start..<end]))
                } else {
                    partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<i]))
                    if partial.last == 0x0D { partial.removeLast() }
                    partial.withUnsafeBytes { line($0) }
                    partial.removeAll(keepingCapacity: true)
                }
                start = i + 1
            } else if partial.count + (i - start) >= Self.maxLineLength {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<i]))
                oversizedLines &+= 1
                partial.withUnsafeBytes { line($0) }
                partial.removeAll(keepingCapacity: true)
                start = i
            }
            i += 1
        }
        if start < n { partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<n])) }
    }

    /// Forgets a held partial line (after a content gap, whose bytes cannot be joined to it).
    public mutating func reset() {
        partial.removeAll(keepingCapacity: true)
    }

    /// Releases the buffer's memory (the connection is gone).
    public mutating func release() {
        partial = []
    }
}

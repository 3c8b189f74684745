// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One captured frame, borrowed from its source until the batch callback returns.
///
/// The bytes are not copied (style.md §4.1): whatever must outlive the callback (reassembly, for
/// instance) is copied explicitly by its owner.
@frozen
public struct CapturedFrame {
    /// The captured bytes (`caplen` of them).
    public var bytes: UnsafeRawBufferPointer
    /// The frame's length on the wire (≥ `bytes.count`).
    public var wireLength: Int
    /// Capture time.
    public var timestamp: Timestamp
    /// The link-layer type number (LINKTYPE_*) of this frame's interface.
    public var linkType: UInt32

    @inlinable
    public init(bytes: UnsafeRawBufferPointer, wireLength: Int, timestamp: Timestamp, linkType: UInt32) {
        self.bytes = bytes
        self.wireLength = wireLength
        self.timestamp = timestamp
        self.linkType = linkType
    }
}

// SPDX-License-Identifier: Apache-2.0
// The read loop alone: PcapFileSource over a trace, touching each frame's length and timestamp.
// Usage: AllocBench TRACE [each|batch]   (forEachFrame, or readBatch(max: 64))
import PeregrineCapture
import Glibc
let path = CommandLine.arguments[1]
let mode = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "each"
let source = try PcapFileSource(path: path)
var sum: UInt64 = 0
var t0 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t0)
if mode == "each" {
    try source.forEachFrame { frame in sum &+= UInt64(frame.bytes.count) &+ UInt64(frame.timestamp.nanoseconds & 1) }
} else {
    while try source.readBatch(max: 64, { frame in sum &+= UInt64(frame.bytes.count) }) > 0 {}
}
var t1 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t1)
let secs = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) / 1e9
print("packets \(source.summary.packets) bytes \(sum) seconds \(secs) ns/packet \(secs * 1e9 / Double(max(source.summary.packets, 1)))")

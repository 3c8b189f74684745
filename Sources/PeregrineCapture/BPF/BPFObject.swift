// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import Glibc

/// One of the `bpf/` objects, opened, configured and loaded into the kernel with libbpf.
///
/// Its programs and maps live as long as the object (and as long as anything the kernel attached
/// them to, such as a fanout group); `deinit` closes every descriptor.
///
/// ```swift
/// let object = try BPFObject(path: dir + "/" + BPFObject.fanoutFileName, configuration: config)
/// let descriptor = try object.programDescriptor(named: BPFObject.fanoutProgramName)
/// ```
public final class BPFObject {
    /// `bpf/peregrine_fanout.bpf.c`'s object and its `SEC("socket")` program.
    public static let fanoutFileName = "peregrine_fanout.bpf.o"
    public static let fanoutProgramName = "peregrine_fanout"
    /// `bpf/peregrine_xdp.bpf.c`'s object and its `SEC("xdp")` program.
    public static let xdpFileName = "peregrine_xdp.bpf.o"
    public static let xdpProgramName = "peregrine_xdp"

    /// The object file loaded.
    public let path: String
    private let object: OpaquePointer

    /// Opens the object at `path`, writes `configuration` into its `.rodata.config` section and
    /// loads it.
    ///
    /// The corresponding C calls are `bpf_object__open_file`, `bpf_map__set_initial_value` and
    /// `bpf_object__load`.
    /// - Throws: `BPFError.objectMissing` when no file is at `path`, `.openFailed`,
    ///   `.configurationRejected`, or `.loadFailed` with libbpf's reason and the verifier's last lines.
    public init(path: String, configuration: peregrine_config) throws(BPFError) {
        guard access(path, R_OK) == 0 else { throw .objectMissing(path: path) }
        var message = [CChar](repeating: 0, count: 1024)
        guard let object = CPeregrineBPF_open(path, &message, message.count) else {
            throw .openFailed(path: path, errno: errno, reason: Self.text(message))
        }
        var configuration = configuration
        if CPeregrineBPF_setConfig(object, &configuration) != 0 {
            let code = errno
            CPeregrineBPF_close(object)
            throw .configurationRejected(path: path, errno: code)
        }
        if CPeregrineBPF_load(object, &message, message.count) != 0 {
            let code = errno
            CPeregrineBPF_close(object)
            throw .loadFailed(path: path, errno: code, reason: Self.text(message))
        }
        self.path = path
        self.object = object
    }

    deinit {
        CPeregrineBPF_close(object)
    }

    /// The NUL-terminated message the C shim wrote into `buffer`.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The descriptor of the loaded program `name` (its C function's name), valid while `self` lives.
    /// The corresponding C call is `bpf_program__fd`.
    public func programDescriptor(named name: String) throws(BPFError) -> CInt {
        let descriptor = CPeregrineBPF_programDescriptor(object, name)
        guard descriptor >= 0 else { throw .missing(path: path, name: name) }
        return descriptor
    }

    /// The descriptor of the map `name`, valid while `self` lives. The corresponding C call is
    /// `bpf_map__fd`.
    public func mapDescriptor(named name: String) throws(BPFError) -> CInt {
        let descriptor = CPeregrineBPF_mapDescriptor(object, name)
        guard descriptor >= 0 else { throw .missing(path: path, name: name) }
        return descriptor
    }

    /// Runs program `name` once on `packet` (an Ethernet frame) without attaching it, and returns
    /// its return value and the packet it left (for XDP, starting at the metadata it added).
    ///
    /// The kernel limits `packet` to a little under a page. The corresponding C call is
    /// `bpf_prog_test_run_opts` (`BPF_PROG_TEST_RUN`).
    public func testRun(
        program name: String, packet: UnsafeRawBufferPointer
    ) throws(BPFError) -> (returnValue: UInt32, output: [UInt8]) {
        let descriptor = try programDescriptor(named: name)
        var output = [UInt8](repeating: 0, count: packet.count + 256)
        var outputSize = UInt32(output.count)
        var returnValue: UInt32 = 0
        let result = output.withUnsafeMutableBytes { out in
            CPeregrineBPF_testRun(
                descriptor, packet.baseAddress, UInt32(packet.count), out.baseAddress, &outputSize, &returnValue)
        }
        guard result == 0 else { throw .syscall(call: "bpf(BPF_PROG_TEST_RUN, \(name))", errno: errno) }
        output.removeLast(output.count - Int(min(outputSize, UInt32(output.count))))
        return (returnValue, output)
    }

    /// The directory the objects are read from: `explicit` (`--bpf-dir`) when given, else the
    /// environment's `PEREGRINE_BPF_DIR`, else the directory of the running executable (where
    /// `make -C bpf install DESTDIR=…` puts them).
    public static func directory(explicit: String?) -> String {
        if let explicit { return explicit }
        if let fromEnvironment = getenv("PEREGRINE_BPF_DIR"), fromEnvironment.pointee != 0 {
            return String(cString: fromEnvironment)
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "." }
        let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return "." }
        return String(executable[..<slash])
    }
}

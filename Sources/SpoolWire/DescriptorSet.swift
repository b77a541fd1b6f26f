import SpoolProtoC

/// One `.proto` file of the server's descriptor set, as reflection needs it.
public struct ProtoFile: Sendable, Equatable {
    public let name: String
    public let package: String
    public let dependencies: [String]
    /// Fully-qualified services, e.g. `spool.v1.JobQueue`.
    public let services: [String]
    /// Every fully-qualified name the file defines: messages (nested too),
    /// enums, services and methods.
    public let symbols: [String]
    /// The serialized google.protobuf.FileDescriptorProto.
    public let descriptorBytes: [UInt8]
}

public enum DescriptorSet {
    /// The files compiled into the server by scripts/generate-proto.sh.
    public static let compiled: [ProtoFile] = {
        let bytes = Array(UnsafeBufferPointer(start: spool_descriptor_set, count: spool_descriptor_set_size))
        // The set is generated at build time; failing to parse it is a build defect.
        return try! files(fromSerializedSet: bytes)
    }()

    /// Splits a serialized google.protobuf.FileDescriptorSet into its files.
    public static func files(fromSerializedSet bytes: [UInt8]) throws(WireDecodingError) -> [ProtoFile] {
        try FileDescriptorSet(unpacking: bytes).files
    }
}

/// google.protobuf.FileDescriptorSet, read only.
private struct FileDescriptorSet: ProtobufCBridged {
    var files: [ProtoFile]

    typealias CMessage = Google__Protobuf__FileDescriptorSet
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { google__protobuf__file_descriptor_set__init }

    init(c: UnsafePointer<CMessage>) {
        files = CRead.array(c.pointee.n_file, c.pointee.file) { file in
            FileDescriptorSet.read(file!)
        }
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        preconditionFailure("descriptor sets are only read")
    }

    private static func read(_ file: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>) -> ProtoFile {
        let package = CRead.string(file.pointee.package)
        let prefix = package.isEmpty ? "" : package + "."
        var symbols: [String] = []
        var services: [String] = []
        for message in CRead.array(file.pointee.n_message_type, file.pointee.message_type, { $0! }) {
            collectMessage(message, prefix: prefix, into: &symbols)
        }
        for enumType in CRead.array(file.pointee.n_enum_type, file.pointee.enum_type, { $0! }) {
            symbols.append(prefix + CRead.string(enumType.pointee.name))
        }
        for service in CRead.array(file.pointee.n_service, file.pointee.service, { $0! }) {
            let name = prefix + CRead.string(service.pointee.name)
            services.append(name)
            symbols.append(name)
            for method in CRead.array(service.pointee.n_method, service.pointee.method, { $0! }) {
                symbols.append(name + "." + CRead.string(method.pointee.name))
            }
        }
        let bytes = file.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { CProtobuf.pack($0) }
        return ProtoFile(
            name: CRead.string(file.pointee.name), package: package,
            dependencies: CRead.strings(file.pointee.n_dependency, file.pointee.dependency),
            services: services, symbols: symbols, descriptorBytes: bytes)
    }

    private static func collectMessage(
        _ message: UnsafeMutablePointer<Google__Protobuf__DescriptorProto>, prefix: String, into symbols: inout [String]
    ) {
        let name = prefix + CRead.string(message.pointee.name)
        symbols.append(name)
        for nested in CRead.array(message.pointee.n_nested_type, message.pointee.nested_type, { $0! }) {
            collectMessage(nested, prefix: name + ".", into: &symbols)
        }
        for enumType in CRead.array(message.pointee.n_enum_type, message.pointee.enum_type, { $0! }) {
            symbols.append(name + "." + CRead.string(enumType.pointee.name))
        }
    }
}

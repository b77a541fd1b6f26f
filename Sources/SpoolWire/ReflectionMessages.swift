import SpoolProtoC

/// grpc.reflection.v1.ServerReflectionRequest (v1alpha is the same on the wire).
public struct ReflectionRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public enum Query: Equatable, Sendable {
        case none
        case fileByFilename(String)
        case fileContainingSymbol(String)
        case fileContainingExtension(containingType: String, number: Int32)
        case allExtensionNumbersOfType(String)
        case listServices
    }

    public var host: String
    public var query: Query

    public init(host: String = "", query: Query) {
        self.host = host
        self.query = query
    }

    typealias CMessage = Grpc__Reflection__V1__ServerReflectionRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void {
        grpc__reflection__v1__server_reflection_request__init
    }

    init(c: UnsafePointer<CMessage>) {
        host = CRead.string(c.pointee.host)
        switch c.pointee.message_request_case {
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
            query = .fileByFilename(CRead.string(c.pointee.file_by_filename))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
            query = .fileContainingSymbol(CRead.string(c.pointee.file_containing_symbol))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
            let request = c.pointee.file_containing_extension
            query = .fileContainingExtension(
                containingType: CRead.string(request?.pointee.containing_type),
                number: request?.pointee.extension_number ?? 0)
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
            query = .allExtensionNumbersOfType(CRead.string(c.pointee.all_extension_numbers_of_type))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
            query = .listServices
        default:
            query = .none
        }
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.host = arena.string(host)
        switch query {
        case .none:
            break
        case .fileByFilename(let name):
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME
            c.pointee.file_by_filename = arena.string(name)
        case .fileContainingSymbol(let symbol):
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL
            c.pointee.file_containing_symbol = arena.string(symbol)
        case .fileContainingExtension(let containingType, let number):
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
            c.pointee.file_containing_extension = arena.message(
                ExtensionRequest(containingType: containingType, number: number))
        case .allExtensionNumbersOfType(let type):
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE
            c.pointee.all_extension_numbers_of_type = arena.string(type)
        case .listServices:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES
            c.pointee.list_services = arena.string("")
        }
    }
}

private struct ExtensionRequest: ProtobufCBridged {
    var containingType: String
    var number: Int32

    init(containingType: String, number: Int32) {
        self.containingType = containingType
        self.number = number
    }

    typealias CMessage = Grpc__Reflection__V1__ExtensionRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void {
        grpc__reflection__v1__extension_request__init
    }

    init(c: UnsafePointer<CMessage>) {
        containingType = CRead.string(c.pointee.containing_type)
        number = c.pointee.extension_number
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.containing_type = arena.string(containingType)
        c.pointee.extension_number = number
    }
}

/// grpc.reflection.v1.ServerReflectionResponse (v1alpha is the same on the wire).
public struct ReflectionResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public enum Answer: Equatable, Sendable {
        /// Serialized google.protobuf.FileDescriptorProto messages.
        case fileDescriptors([[UInt8]])
        case extensionNumbers(baseTypeName: String, numbers: [Int32])
        case services([String])
        /// `code` is a grpc status code.
        case error(code: Int32, message: String)
    }

    public var validHost: String
    public var originalRequest: ReflectionRequest
    public var answer: Answer

    public init(validHost: String = "", originalRequest: ReflectionRequest, answer: Answer) {
        self.validHost = validHost
        self.originalRequest = originalRequest
        self.answer = answer
    }

    typealias CMessage = Grpc__Reflection__V1__ServerReflectionResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void {
        grpc__reflection__v1__server_reflection_response__init
    }

    init(c: UnsafePointer<CMessage>) {
        validHost = CRead.string(c.pointee.valid_host)
        originalRequest = c.pointee.original_request.map { ReflectionRequest(c: $0) } ?? ReflectionRequest(query: .none)
        switch c.pointee.message_response_case {
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE:
            let files = c.pointee.file_descriptor_response!.pointee
            answer = .fileDescriptors(CRead.array(files.n_file_descriptor_proto, files.file_descriptor_proto, CRead.bytes))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE:
            let numbers = c.pointee.all_extension_numbers_response!.pointee
            answer = .extensionNumbers(
                baseTypeName: CRead.string(numbers.base_type_name),
                numbers: CRead.array(numbers.n_extension_number, numbers.extension_number) { $0 })
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE:
            let list = c.pointee.list_services_response!.pointee
            answer = .services(CRead.array(list.n_service, list.service) { CRead.string($0?.pointee.name) })
        default:
            let error = c.pointee.error_response?.pointee
            answer = .error(code: error?.error_code ?? 0, message: CRead.string(error?.error_message))
        }
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.valid_host = arena.string(validHost)
        c.pointee.original_request = arena.message(originalRequest)
        switch answer {
        case .fileDescriptors(let files):
            let response = arena.cStruct(grpc__reflection__v1__file_descriptor_response__init)
            response.pointee.n_file_descriptor_proto = files.count
            response.pointee.file_descriptor_proto = arena.array(files.map(arena.bytes))
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE
            c.pointee.file_descriptor_response = response
        case .extensionNumbers(let baseTypeName, let numbers):
            let response = arena.cStruct(grpc__reflection__v1__extension_number_response__init)
            response.pointee.base_type_name = arena.string(baseTypeName)
            response.pointee.n_extension_number = numbers.count
            response.pointee.extension_number = arena.array(numbers)
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE
            c.pointee.all_extension_numbers_response = response
        case .services(let names):
            let response = arena.cStruct(grpc__reflection__v1__list_service_response__init)
            response.pointee.n_service = names.count
            response.pointee.service = arena.array(names.map { name in
                let service = arena.cStruct(grpc__reflection__v1__service_response__init)
                service.pointee.name = arena.string(name)
                return Optional(service)
            })
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE
            c.pointee.list_services_response = response
        case .error(let code, let message):
            let response = arena.cStruct(grpc__reflection__v1__error_response__init)
            response.pointee.error_code = code
            response.pointee.error_message = arena.string(message)
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE
            c.pointee.error_response = response
        }
    }
}

import ArgumentParser
import Foundation
import GRPCH2
import NIOCore
import NIOPosix
import NIOSSL
import SpoolWire

#if canImport(Glibc)
import Glibc
#endif

@main
struct Spoolctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoolctl",
        abstract: "Spool's command-line client: enqueue jobs, watch their progress, cancel them, see the queues.",
        discussion: "The server is --server or $SPOOL_SERVER (default 127.0.0.1:50051); the bearer token, when the "
            + "server needs one, is --token or $SPOOL_TOKEN. Exit status: 0 done, 1 the server refused or could not "
            + "be reached (the gRPC status is printed), 3 a watched job did not succeed.",
        subcommands: [Enqueue.self, Batch.self, Cancel.self, Retry.self, Status.self, Jobs.self, Watch.self, Pause.self,
                      Resume.self, Work.self])
}

/// Where the server is and how to authenticate; every subcommand takes these.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server, HOST:PORT (default: $SPOOL_SERVER, else 127.0.0.1:50051).")
    var server = ProcessInfo.processInfo.environment["SPOOL_SERVER"] ?? "127.0.0.1:50051"

    @Option(name: .customLong("token"), help: "Bearer token for a server with auth tokens (default: $SPOOL_TOKEN).")
    var tokenFlag: String?

    var token: String? { tokenFlag ?? ProcessInfo.processInfo.environment["SPOOL_TOKEN"] }

    @Flag(help: "Connect with TLS, trusting the system's CAs (implied by --cacert).")
    var tls = false

    @Option(name: .customLong("cacert"), help: "Connect with TLS, trusting the CA(s) in this PEM file (default: $SPOOL_CACERT).")
    var cacertFlag: String?

    var cacert: String? { cacertFlag ?? ProcessInfo.processInfo.environment["SPOOL_CACERT"] }

    @Option(help: "A PEM client certificate, for a server that asks for one (mutual TLS); needs --key.")
    var cert: String?

    @Option(help: "The PEM private key of --cert.")
    var key: String?

    /// What sits between the socket and HTTP/2: nil for cleartext.
    func transport() throws -> (@Sendable (ChannelPipeline.SynchronousOperations) throws -> Void)? {
        guard tls || cacert != nil || cert != nil else { return nil }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["h2"]
        configuration.minimumTLSVersion = .tlsv12
        do {
            if let cacert { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cacert)) }
            if let cert, let key {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
        } catch {
            throw ValidationError("cannot read the TLS files: \(error)")
        }
        let context = try NIOSSLContext(configuration: configuration)
        let (host, _) = try hostAndPort()
        // SNI takes names only; an address is checked against the certificate's IP entries.
        let serverName = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
        return { pipeline in
            try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
        }
    }

    /// Connects to the server, in TLS if asked.
    func connect() async throws -> GRPCClient {
        let (host, port) = try hostAndPort()
        let transport = try transport()
        return try await GRPCClient.connect(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton,
                                            secure: transport != nil, transport: transport)
    }

    func hostAndPort() throws -> (String, Int) {
        guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]),
              (1...65535).contains(port), colon > server.startIndex else {
            throw ValidationError("--server must be HOST:PORT, e.g. 127.0.0.1:50051 (got \"\(server)\")")
        }
        var host = String(server[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

/// Runs `body` on a connection; a refused call is printed as its status and
/// exits 1.
func withConnection<T>(_ options: ServerOptions, _ body: (SpoolConnection) async throws -> T) async throws -> T {
    do {
        return try await SpoolConnection.with(options, body)
    } catch let status as GRPCStatus {
        throw Failure(status)
    } catch let error as WireDecodingError {
        throw Failure(GRPCStatus(.internal, "the server's answer does not decode: \(error)"))
    }
}

/// A file or input that cannot be used: printed, exit status 1.
struct BadInput: Error, LocalizedError {
    let errorDescription: String?
    init(_ description: String) { errorDescription = description }
}

/// A call that failed: printed as `spoolctl: CODE: message`, exit status 1.
struct Failure: Error, CustomStringConvertible {
    let status: GRPCStatus
    init(_ status: GRPCStatus) { self.status = status }
    var description: String { "\(status.code.name): \(status.message)" }
}

extension Failure: LocalizedError {
    var errorDescription: String? { description }
}

extension GRPCStatus.Code {
    /// The name grpcurl and the gRPC docs use, e.g. NOT_FOUND.
    var name: String {
        String(describing: self).reduce(into: "") { name, character in
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
    }
}

/// Standard output, unbuffered, so that lines reach a pipe as they happen.
func output(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}

/// Standard error, for messages that are not the command's output.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

var standardOutputIsTerminal: Bool { isatty(1) == 1 }

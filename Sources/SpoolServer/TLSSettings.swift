import GRPCH2
import NIOCore
import NIOSSL

/// `tls:` in the config (docs/workers.md: TLS): spoold serves gRPC over TLS 1.2+ with
/// ALPN `h2`, and with `clientCAPath` asks every client for a certificate
/// signed by that CA (mutual TLS).
public struct TLSSettings: Sendable, Equatable {
    /// PEM: the server's certificate, then any intermediates.
    public var certificatePath: String
    /// PEM: its private key.
    public var keyPath: String
    /// PEM: the CA(s) client certificates must chain to; nil: clients need none.
    public var clientCAPath: String?

    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
    }

    /// Reads the files now, so that a bad path or PEM stops spoold at start
    /// with the file named, not the first client's handshake. With `http`,
    /// ALPN offers `http/1.1` beside `h2`, for browsers (docs/http.md).
    public func serverTransport(http: Bool = false) throws(ConfigurationError) -> @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigurationError("tls.cert \(certificatePath): cannot read a PEM certificate: \(error)")
        }
        guard !chain.isEmpty else { throw ConfigurationError("tls.cert \(certificatePath): no certificate in the file") }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError("tls.key \(keyPath): cannot read a PEM private key: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = http ? ["h2", "http/1.1"] : ["h2"]
        if let clientCAPath {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
                guard !roots.isEmpty else { throw ConfigurationError("no certificate in the file") }
                configuration.trustRoots = .certificates(roots)
            } catch {
                throw ConfigurationError("tls.client_ca \(clientCAPath): cannot read PEM certificates: \(error)")
            }
            configuration.certificateVerification = .noHostnameVerification
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError("tls: the certificate and key do not make a TLS context (do they match?): \(error)")
        }
        return { pipeline in try pipeline.addHandler(NIOSSLServerHandler(context: context)) }
    }
}

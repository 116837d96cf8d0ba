//! TLS with ALPN for both roles (feature `tls`): `rustls` with the ring provider (no aws-lc),
//! through `tokio-rustls`. The negotiated protocol picks the HTTP version, so a server can
//! hand the stream to [`server::Builder`](crate::server::Builder) with an explicit version
//! (no detection needed) and a client to [`client::Builder`](crate::client::Builder).
//!
//! ```no_run
//! # async fn run(listener: tokio::net::TcpListener, cert_pem: &[u8], key_pem: &[u8])
//! #     -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use pullhttp::{server, tls};
//! let acceptor = tls::acceptor(tls::server_config_from_pem(cert_pem, key_pem)?);
//! let (tcp, _) = listener.accept().await?;
//! let (stream, version) = tls::accept(&acceptor, tcp).await?;
//! let mut builder = server::Builder::new();
//! builder.version(version); // from ALPN: h2, or HTTP/1.1
//! let mut conn = builder.handshake(stream);
//! # let _ = conn.next_event().await; Ok(()) }
//! ```
//!
//! Clients: [`client_config`] (trusting given roots), [`client_config_from_pem`], or
//! [`insecure_client_config`] for tests against self-signed servers; then [`connect`], which
//! returns the stream and the [`client::Version`] to use.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::client;
use crate::server;

pub use tokio_rustls::client::TlsStream as ClientTlsStream;
pub use tokio_rustls::server::TlsStream as ServerTlsStream;
pub use tokio_rustls::{TlsAcceptor, TlsConnector, rustls as rustls_crate};

/// The ALPN protocol id of HTTP/2.
pub const ALPN_H2: &[u8] = b"h2";
/// The ALPN protocol id of HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// An error setting up or performing TLS.
pub type TlsError = Box<dyn std::error::Error + Send + Sync>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration (ring provider, TLS 1.2 and 1.3) offering ALPN `h2` then
/// `http/1.1`.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(config)
}

/// [`server_config`] from PEM: the certificate chain and its private key.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<rustls::ServerConfig, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("no certificate in the PEM data".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)?;
    server_config(certs, key)
}

/// An acceptor for a server configuration.
pub fn acceptor(config: rustls::ServerConfig) -> TlsAcceptor {
    TlsAcceptor::from(Arc::new(config))
}

/// Performs the server handshake and returns the stream with the version ALPN chose
/// (`h2` → HTTP/2; `http/1.1` or no ALPN → HTTP/1.1).
pub async fn accept<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
) -> Result<(ServerTlsStream<IO>, server::Version), TlsError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let stream = acceptor.accept(io).await?;
    let version = match stream.get_ref().1.alpn_protocol() {
        Some(ALPN_H2) => server::Version::Http2,
        _ => server::Version::Http1,
    };
    Ok((stream, version))
}

/// A client configuration trusting `roots` and offering ALPN `h2` then `http/1.1` (set
/// `alpn_protocols` to offer less).
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, TlsError> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(config)
}

/// [`client_config`] trusting the PEM certificates given (for example a test CA).
pub fn client_config_from_pem(ca_pem: &[u8]) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err("no certificate in the PEM data".into());
    }
    client_config(roots)
}

/// A client configuration that accepts **any** server certificate (signatures are still
/// checked): for tests and `--insecure`-style tools only.
pub fn insecure_client_config() -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(config)
}

/// A connector for a client configuration.
pub fn connector(config: rustls::ClientConfig) -> TlsConnector {
    TlsConnector::from(Arc::new(config))
}

/// Performs the client handshake with `server_name` (a DNS name or an IP address) and
/// returns the stream with the version ALPN chose.
pub async fn connect<IO>(
    connector: &TlsConnector,
    server_name: &str,
    io: IO,
) -> Result<(ClientTlsStream<IO>, client::Version), TlsError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(server_name.trim_matches(['[', ']']))?.to_owned();
    let stream = connector.connect(name, io).await?;
    let version = match stream.get_ref().1.alpn_protocol() {
        Some(ALPN_H2) => client::Version::Http2,
        _ => client::Version::Http1,
    };
    Ok((stream, version))
}

/// Accepts any certificate (see [`insecure_client_config`]).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

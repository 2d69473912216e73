//! TLS for `connect --tls` and `listen --tls`, with rustls: building the client and server
//! configurations from plain options, the certificate checks (the platform's roots, `--ca`, `--pin`,
//! `--insecure`), a fresh self-signed certificate when `listen --tls` is given none, the one-line
//! wording of a refused certificate (what failed, the subject and SHA-256 fingerprint), and the `-v`
//! handshake summary.
//!
//! A finished handshake is a [`TlsConn`], which goes into [`Conn::Boxed`] and through the one relay
//! engine like any stream. Its only difference from TCP is the end of stream: a peer's close_notify
//! reads as an ordinary end (0 bytes), and a connection that ends without one is an error worded
//! [`TRUNCATED`] (a truncation attack looks exactly like that), which the engine reports as
//! `connection lost: truncated: ...` with exit status 1.
//!
//! Only the `ring` crypto provider is built (no cmake or nasm needed, unlike aws-lc-rs).

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, CommonState, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::conn::Conn;

/// How long a TLS handshake may take before the connection is given up.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a read says when the peer closed the connection without TLS close_notify.
pub(crate) const TRUNCATED: &str = "truncated: the peer closed without TLS close_notify";

/// The client's options (`connect --tls`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientOpts {
    /// `--ca`: trust these roots instead of the platform's.
    pub ca: Option<PathBuf>,
    /// `--pin`: accept exactly the end-entity certificates with these SHA-256 digests.
    pub pins: Vec<[u8; 32]>,
    /// `--insecure`: accept any certificate (handshake signatures are still checked).
    pub insecure: bool,
    /// `--sni`: the name to send and check, instead of the host.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// `--cert` and `--key`: a client certificate.
    pub cert: Option<(PathBuf, PathBuf)>,
}

/// The server's options (`listen --tls`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerOpts {
    /// `--cert` and `--key`; without them a self-signed certificate is made.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// `--client-ca`: require client certificates issued by these roots.
    pub client_ca: Option<PathBuf>,
    pub alpn: Vec<String>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// `sha256:HEX` (as `--pin` takes it, colons allowed) into the digest.
pub(crate) fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let hex_part = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .ok_or("expected sha256:HEX (64 hex digits, the SHA-256 of the certificate)")?;
    let digits: String = hex_part.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&digits).map_err(|_| "the digest is not hexadecimal".to_string())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("a SHA-256 digest is 32 bytes, this is {}", b.len()))
}

/// The SHA-256 digest of a certificate (its DER bytes).
fn digest(der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `sha256:...`, ready to paste after `--pin`.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(der)))
}

/// What a certificate says about itself, for messages.
struct CertInfo {
    subject: String,
    issuer: String,
    not_before: String,
    not_after: String,
    fingerprint: String,
}

impl CertInfo {
    fn of(der: &[u8]) -> CertInfo {
        let fingerprint = fingerprint(der);
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, c)) => CertInfo {
                subject: printable(&c.subject().to_string()),
                issuer: printable(&c.issuer().to_string()),
                not_before: c.validity().not_before.to_string(),
                not_after: c.validity().not_after.to_string(),
                fingerprint,
            },
            Err(_) => CertInfo {
                subject: "(unparsable)".into(),
                issuer: "(unparsable)".into(),
                not_before: "?".into(),
                not_after: "?".into(),
                fingerprint,
            },
        }
    }

    fn subject(&self) -> &str {
        if self.subject.is_empty() {
            "(empty)"
        } else {
            &self.subject
        }
    }
}

/// A peer chose this text: escape it before it reaches a terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::escape::escape_stream_into(text.as_bytes(), &mut out);
    out
}

fn read_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow!("cannot read {flag} {}: {}", path.display(), pem_error(e)))?;
    if certs.is_empty() {
        return Err(anyhow!(
            "cannot read {flag} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| anyhow!("cannot read --key {}: {}", path.display(), pem_error(e)))
}

fn pem_error(e: rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    match e {
        Error::Io(e) => crate::error::describe_io(&e),
        Error::NoItemsFound => "no PEM item of the expected kind in it".into(),
        other => format!("not valid PEM ({other:?})"),
    }
}

fn roots(path: &Path, flag: &str) -> Result<Arc<RootCertStore>> {
    let mut store = RootCertStore::empty();
    for cert in read_certs(path, flag)? {
        store
            .add(cert)
            .map_err(|e| anyhow!("cannot use {flag} {}: {e}", path.display()))?;
    }
    Ok(Arc::new(store))
}

/// The platform's verifier; where the system has no trusted certificates at all (Linux without
/// ca-certificates, as in slim containers), Mozilla's roots built into sockkit, with a warning, so
/// that `connect --tls` still verifies rather than failing or being run with --insecure.
fn system_roots(provider: &Arc<CryptoProvider>) -> Result<Arc<dyn ServerCertVerifier>> {
    match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => Ok(Arc::new(v)),
        Err(e) => {
            let why = e.to_string();
            eprintln!(
                "sockkit: warning: no trusted certificates on this system ({}); checking against the Mozilla roots built into sockkit (--ca FILE chooses others)",
                why.trim_start_matches("unexpected error: ")
            );
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| anyhow!("cannot use the built-in roots: {e}"))?;
            Ok(v)
        }
    }
}

fn alpn(protocols: &[String]) -> Vec<Vec<u8>> {
    protocols.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// How the client judges the server's certificate.
#[derive(Debug)]
enum Trust {
    /// A certificate chain to trusted roots, for the right name, in its validity period.
    Chain(Arc<dyn ServerCertVerifier>),
    /// Exactly these end-entity certificates.
    Pins(Vec<[u8; 32]>),
    /// Anything (`--insecure`).
    Any,
}

/// The client's certificate check, which also remembers the certificate it saw so that a refusal
/// can name it.
#[derive(Debug)]
struct ServerCheck {
    trust: Trust,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Mutex<Option<CertificateDer<'static>>>,
}

impl ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(end_entity.clone().into_owned());
        match &self.trust {
            Trust::Chain(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            Trust::Pins(pins) if pins.contains(&digest(end_entity)) => {
                Ok(ServerCertVerified::assertion())
            }
            Trust::Pins(_) => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            Trust::Any => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client ready to connect: its configuration and the name it checks.
pub(crate) struct Client {
    config: Arc<rustls::ClientConfig>,
    check: Arc<ServerCheck>,
    name: ServerName<'static>,
    pinned: bool,
}

impl Client {
    /// Builds the client for `host` (the name sent and checked, unless `--sni` says otherwise; an
    /// IP address is checked against the certificate's addresses and sends no SNI).
    pub(crate) fn new(opts: &ClientOpts, host: &str) -> Result<Client> {
        let provider = provider();
        let trust = if opts.insecure {
            Trust::Any
        } else if !opts.pins.is_empty() {
            Trust::Pins(opts.pins.clone())
        } else if let Some(ca) = &opts.ca {
            let v =
                WebPkiServerVerifier::builder_with_provider(roots(ca, "--ca")?, provider.clone())
                    .build()
                    .map_err(|e| anyhow!("cannot use --ca {}: {e}", ca.display()))?;
            Trust::Chain(v)
        } else {
            Trust::Chain(system_roots(&provider)?)
        };
        let check = Arc::new(ServerCheck {
            trust,
            algorithms: provider.signature_verification_algorithms,
            seen: Mutex::new(None),
        });
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(check.clone());
        let mut config = match &opts.cert {
            Some((cert, key)) => builder
                .with_client_auth_cert(read_certs(cert, "--cert")?, read_key(key)?)
                .map_err(|e| {
                    anyhow!(
                        "cannot use --cert {} with --key {}: {e}",
                        cert.display(),
                        key.display()
                    )
                })?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn(&opts.alpn);
        let name = opts.sni.as_deref().unwrap_or(host);
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        let name = match bare.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(bare.to_string()).map_err(|_| {
                anyhow!("'{bare}' is not a valid TLS server name (give --sni NAME)")
            })?,
        };
        Ok(Client {
            config: Arc::new(config),
            check,
            name,
            pinned: !opts.pins.is_empty(),
        })
    }

    /// The handshake over `tcp`, within `deadline` (`-w`; else [`HANDSHAKE_TIMEOUT`]); nothing but
    /// the handshake is sent before the certificate is accepted. `verbose`: print its summary.
    /// Returns the stream and the session in brief (version, suite, ALPN) for the `-v` stats. The
    /// error says what failed; the caller names the server.
    pub(crate) async fn connect(
        &self,
        tcp: TcpStream,
        verbose: bool,
        deadline: Option<Duration>,
    ) -> Result<(Conn, String)> {
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let handshake = connector.connect(self.name.clone(), tcp);
        let deadline = deadline.unwrap_or(HANDSHAKE_TIMEOUT);
        let stream = match tokio::time::timeout(deadline, handshake).await {
            Err(_) => {
                return Err(anyhow!(
                    "timed out after {}",
                    humantime::format_duration(deadline)
                ))
            }
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let seen = self
                    .check
                    .seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                return Err(anyhow!("{}", self.refusal(&e, seen.as_deref())));
            }
        };
        let session = brief(stream.get_ref().1);
        if verbose {
            summary(stream.get_ref().1, "server");
        }
        Ok((Conn::Boxed(Box::new(TlsConn(stream.into()))), session))
    }

    /// One line: what failed, and the certificate it failed on.
    fn refusal(&self, err: &io::Error, cert: Option<&[u8]>) -> String {
        let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        else {
            return crate::error::describe_io(err);
        };
        let (what, cert) = match (tls, cert) {
            (rustls::Error::InvalidCertificate(c), Some(der)) => (self.certificate_error(c), der),
            _ => return describe_tls(tls),
        };
        let info = CertInfo::of(cert);
        let untrusted = what.starts_with("unknown issuer");
        let hint = match untrusted && !self.pinned {
            true => format!("; if you trust it, add --pin {}", info.fingerprint),
            false => String::new(),
        };
        let what = match untrusted && info.subject == info.issuer {
            true => format!("{what}: it is self-signed"),
            false => what,
        };
        format!(
            "certificate refused: {what} (subject {}, {}){hint}",
            info.subject(),
            info.fingerprint
        )
    }

    fn certificate_error(&self, e: &CertificateError) -> String {
        match e {
            CertificateError::ApplicationVerificationFailure if self.pinned => {
                "it matches no --pin".into()
            }
            // An expired certificate is worth its dates, which rustls's short form lacks.
            other => describe_certificate(other),
        }
    }
}

/// A certificate error in a person's words.
fn describe_certificate(e: &CertificateError) -> String {
    match e {
        // webpki reports a chain to no trusted root as the last error it met on the way: a root of
        // another key type, or a CA certificate (openssl req -x509 makes those) used as a leaf.
        CertificateError::UnknownIssuer
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "unknown issuer".into()
        }
        CertificateError::Other(e) if format!("{e:?}").contains("CaUsedAsEndEntity") => {
            "unknown issuer".into()
        }
        CertificateError::Expired => "expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("expired (not valid after {})", unix_date(*not_after))
        }
        CertificateError::NotValidYet => "not valid yet".into(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!("not valid yet (not before {})", unix_date(*not_before))
        }
        CertificateError::NotValidForName => "name mismatch".into(),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let expected = match expected {
                ServerName::DnsName(n) => n.as_ref().to_string(),
                ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
                _ => "?".into(),
            };
            format!(
                "name mismatch (wanted '{}', the certificate is for {})",
                printable(&expected),
                printable(
                    &presented
                        .iter()
                        .map(|p| san(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )
        }
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::Revoked => "revoked".into(),
        other => printable(&other.to_string()),
    }
}

/// `DnsName("example.com")` (rustls's wording of a certificate's name) -> `example.com`.
fn san(presented: &str) -> &str {
    for prefix in ["DnsName(\"", "IpAddress("] {
        if let Some(rest) = presented.strip_prefix(prefix) {
            return rest.trim_end_matches(')').trim_end_matches('"');
        }
    }
    presented
}

fn describe_tls(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => describe_certificate(c),
        rustls::Error::NoCertificatesPresented => "the peer sent no certificate".into(),
        rustls::Error::AlertReceived(alert) => {
            format!("the peer refused the handshake ({alert:?} alert)")
        }
        other => printable(&other.to_string()),
    }
}

/// `2020-01-02 03:04:05 UTC`, from seconds since 1970.
fn unix_date(t: UnixTime) -> String {
    let secs = t.as_secs() as i64;
    match x509_parser::time::ASN1Time::from_timestamp(secs) {
        Ok(t) => t.to_string(),
        Err(_) => format!("{secs} seconds after 1970"),
    }
}

/// A server ready to accept: its configuration, shared by every client.
#[derive(Clone)]
pub(crate) struct Server {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Server {
    /// Builds the server. Without `--cert`, a self-signed certificate for `localhost`, `names` and
    /// this host's name is made, and a line says how a client pins it.
    pub(crate) fn new(opts: &ServerOpts, names: &[String]) -> Result<Server> {
        let provider = provider();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match &opts.client_ca {
            Some(ca) => builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder_with_provider(roots(ca, "--client-ca")?, provider)
                    .build()
                    .map_err(|e| anyhow!("cannot use --client-ca {}: {e}", ca.display()))?,
            ),
            None => builder.with_no_client_auth(),
        };
        let (certs, key) = match &opts.cert {
            Some((cert, key)) => (read_certs(cert, "--cert")?, read_key(key)?),
            None => self_signed(names)?,
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| anyhow!("cannot use the certificate and key: {}", describe_tls(&e)))?;
        config.alpn_protocols = alpn(&opts.alpn);
        Ok(Server {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The handshake with a client, within [`HANDSHAKE_TIMEOUT`]. `verbose`: print its summary,
    /// prefixed `who`. Returns the stream and the session in brief (version, suite, ALPN). The
    /// error says what failed; the caller names the client.
    pub(crate) async fn accept(
        &self,
        tcp: TcpStream,
        verbose: Option<&str>,
    ) -> Result<(Conn, String)> {
        let handshake = self.acceptor.accept(tcp);
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Err(_) => return Err(anyhow!("timed out after {}s", HANDSHAKE_TIMEOUT.as_secs())),
            Ok(Err(e)) => {
                let why = match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                    Some(tls) => describe_tls(tls),
                    None => crate::error::describe_io(&e),
                };
                return Err(anyhow!("{why}"));
            }
            Ok(Ok(s)) => s,
        };
        let session = brief(stream.get_ref().1);
        if let Some(who) = verbose {
            summary(stream.get_ref().1, who);
        }
        Ok((Conn::Boxed(Box::new(TlsConn(stream.into()))), session))
    }
}

/// A self-signed certificate for `localhost`, `names` and this host's name; prints its pin.
fn self_signed(names: &[String]) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let mut sans = vec!["localhost".to_string()];
    for n in names.iter().cloned().chain(host_name()) {
        if !sans.contains(&n) {
            sans.push(n);
        }
    }
    let made = (|| {
        let mut params = rcgen::CertificateParams::new(sans.clone())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sockkit self-signed");
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok::<_, rcgen::Error>((cert, key))
    })()
    .context("cannot make a self-signed certificate")?;
    let der = made.0.der().clone();
    eprintln!(
        "sockkit: TLS with a self-signed certificate for {}; clients connect with --pin {}",
        sans.join(", "),
        fingerprint(&der)
    );
    let key = PrivateKeyDer::try_from(made.1.serialize_der())
        .map_err(|e| anyhow!("cannot use the self-signed key: {e}"))?;
    Ok((vec![der], key))
}

#[cfg(unix)]
fn host_name() -> Option<String> {
    let name = nix::unistd::gethostname().ok()?.into_string().ok()?;
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
fn host_name() -> Option<String> {
    std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty())
}

/// `TLS 1.3, TLS13_AES_256_GCM_SHA384, ALPN none`.
fn brief(conn: &CommonState) -> String {
    let version = conn
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .replace("TLSv1_", "TLS 1.");
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("?");
    let alpn = conn.alpn_protocol().map_or("none".to_string(), |p| {
        printable(&String::from_utf8_lossy(p))
    });
    format!("{version}, {suite}, ALPN {alpn}")
}

/// `, over TLS 1.3, ...`: what the `-v` stats of a TLS connection end with.
pub(crate) fn over(session: Option<&str>) -> String {
    session.map(|s| format!(", over {s}")).unwrap_or_default()
}

/// The `-v` handshake summary on stderr: version, suite, ALPN, then the peer's certificate.
fn summary(conn: &CommonState, who: &str) {
    eprintln!("sockkit: {who}: {}", brief(conn));
    match conn.peer_certificates().and_then(|c| c.first()) {
        Some(cert) => {
            let info = CertInfo::of(cert);
            eprintln!(
                "sockkit: {who} certificate: subject {}, issuer {}, valid {} to {}, {}",
                info.subject(),
                info.issuer,
                info.not_before,
                info.not_after,
                info.fingerprint
            );
        }
        None => eprintln!("sockkit: {who} certificate: none"),
    }
}

/// A TLS session after its handshake, as a byte stream. See the module docs for its end.
struct TlsConn(tokio_rustls::TlsStream<TcpStream>);

/// The error a read of a truncated TLS connection ends with.
#[derive(Debug)]
struct Truncated;

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TRUNCATED)
    }
}

impl std::error::Error for Truncated {}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            // rustls says so with UnexpectedEof; any other error keeps its words.
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::UnexpectedEof, Truncated)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(tls_io_error(e))),
            other => other,
        }
    }
}

/// An error from inside the TLS session in our words (a rustls error otherwise reads as its
/// Debug form in places).
fn tls_io_error(e: io::Error) -> io::Error {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => io::Error::new(e.kind(), format!("TLS error: {}", describe_tls(tls))),
        None => e,
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    /// Sends close_notify, then half-closes the socket; reading goes on (TLS 1.3 half-close).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_with_or_without_colons() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_pin(&format!("sha256:{hex}")).unwrap(), [0xab; 32]);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_pin(&format!("sha256:{colons}")).unwrap(), [0xab; 32]);
        assert!(parse_pin(&hex).is_err());
        assert!(parse_pin("sha256:abcd").unwrap_err().contains("32 bytes"));
        assert!(parse_pin("sha256:zz").is_err());
    }

    #[test]
    fn fingerprint_is_a_pin() {
        let f = fingerprint(b"x");
        assert_eq!(parse_pin(&f).unwrap(), digest(b"x"));
    }
}

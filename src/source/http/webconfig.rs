//! `--web.config.file`: the web configuration file Prometheus exporters
//! share (exporter-toolkit's format), read into what the server needs: a
//! rustls `ServerConfig` (TLS, client certificates) and the basic
//! authentication users with their bcrypt hashes.
//!
//! As exporter-toolkit does, unknown keys are refused, relative file paths
//! are taken from the configuration file's directory, and a configuration
//! is checked whole at start (certificate, key, client CAs, hashes), so a
//! mistake stops the server before it listens. Keys exporter-toolkit knows
//! that sockscope does not implement (cipher suites, curves, client SANs,
//! extra headers, rate limits) are refused by name rather than ignored: a
//! security setting that silently does nothing is worse than an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::Deserialize;

/// An unreadable or invalid web configuration (or a file it names).
#[derive(Debug, thiserror::Error)]
#[error("--web.config.file {}: {reason}", path.display())]
pub struct WebConfigError {
    /// The web configuration file.
    pub path: PathBuf,
    /// What is wrong, naming the key or the file it points to.
    pub reason: String,
}

/// exporter-toolkit's `client_auth_type` (Go's `tls.ClientAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for (the default).
    NoClientCert,
    /// One is asked for, not required, not verified.
    RequestClientCert,
    /// One is required, not verified against a CA.
    RequireAnyClientCert,
    /// Verified against `client_ca_file` when the client sends one.
    VerifyClientCertIfGiven,
    /// Required and verified against `client_ca_file`.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    fn parse(text: &str) -> Option<ClientAuth> {
        Some(match text {
            "" | "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            // "RequireClientCert": exporter-toolkit's older spelling.
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            _ => return None,
        })
    }

    fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert
        )
    }
}

/// A TLS protocol version rustls speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    fn parse(text: &str) -> Result<TlsVersion, String> {
        match text {
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            "TLS10" | "TLS11" => Err(format!(
                "{text} is not offered: sockscope speaks TLS12 and TLS13 only"
            )),
            _ => Err(format!("unknown TLS version {text:?} (TLS12 or TLS13)")),
        }
    }
}

/// The file as written (every key exporter-toolkit knows).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    http_server_config: Option<RawHttp>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rate_limit: Option<serde_norway::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    #[serde(default)]
    cert: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    client_ca: Option<String>,
    #[serde(default)]
    cert_file: Option<String>,
    #[serde(default)]
    key_file: Option<String>,
    #[serde(default)]
    client_auth_type: Option<String>,
    #[serde(default)]
    client_ca_file: Option<String>,
    #[serde(default)]
    cipher_suites: Option<serde_norway::Value>,
    #[serde(default)]
    curve_preferences: Option<serde_norway::Value>,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    max_version: Option<String>,
    #[serde(default)]
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    client_allowed_sans: Option<serde_norway::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    /// Accepted and without effect: the server speaks HTTP/1.1 only.
    #[serde(default)]
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: Option<serde_norway::Value>,
}

/// PEM text, from a file (its path resolved) or inline in the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    Inline(String),
}

/// The TLS part, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert: Pem,
    pub key: Pem,
    pub client_auth: ClientAuth,
    pub client_ca: Option<Pem>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    pub prefer_server_cipher_suites: bool,
}

/// A web configuration file, parsed and checked (its files not yet read).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebConfig {
    /// `None`: plain HTTP.
    pub tls: Option<TlsSettings>,
    /// User name → bcrypt hash; empty: no authentication.
    pub users: BTreeMap<String, String>,
}

/// `path` relative to the configuration file's directory `dir` (an
/// absolute one as it is).
fn join(dir: &Path, path: &str) -> PathBuf {
    dir.join(path)
}

/// A value that must not be set.
fn refuse_set(value: &Option<serde_norway::Value>, key: &str) -> Result<(), String> {
    match value {
        None | Some(serde_norway::Value::Null) => Ok(()),
        Some(_) => Err(format!(
            "{key} is not supported by sockscope (remove it: a security setting must not be \
             silently ignored)"
        )),
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl WebConfig {
    /// Parses the YAML `text` of the file at `path` (relative paths in it
    /// are from `path`'s directory).
    pub fn parse(text: &str, path: &Path) -> Result<WebConfig, String> {
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_norway::from_str(text).map_err(|e| e.to_string())?
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        refuse_set(&raw.rate_limit, "rate_limit")?;
        if let Some(http) = &raw.http_server_config {
            refuse_set(&http.headers, "http_server_config.headers")?;
        }
        let users = raw.basic_auth_users.unwrap_or_default();
        for (user, hash) in &users {
            if hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(format!(
                    "basic_auth_users: the password of {user:?} is not a bcrypt hash \
                     (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)"
                ));
            }
        }
        let tls = match raw.tls_server_config {
            None => None,
            Some(t) => TlsSettings::from_raw(t, dir)?,
        };
        Ok(WebConfig { tls, users })
    }
}

impl TlsSettings {
    /// `None` when no TLS key is set (exporter-toolkit's `IsEnabled`).
    fn from_raw(t: RawTls, dir: &Path) -> Result<Option<TlsSettings>, String> {
        refuse_set(&t.cipher_suites, "tls_server_config.cipher_suites")?;
        refuse_set(&t.curve_preferences, "tls_server_config.curve_preferences")?;
        refuse_set(
            &t.client_allowed_sans,
            "tls_server_config.client_allowed_sans",
        )?;
        let enabled = [
            &t.cert,
            &t.key,
            &t.client_ca,
            &t.cert_file,
            &t.key_file,
            &t.client_auth_type,
            &t.client_ca_file,
        ]
        .iter()
        .any(|s| nonempty(s).is_some());
        if !enabled {
            return Ok(None);
        }
        let cert = match (nonempty(&t.cert_file), nonempty(&t.cert)) {
            (Some(f), _) => Pem::File(join(dir, f)),
            (None, Some(c)) => Pem::Inline(c.to_owned()),
            (None, None) => {
                return Err("tls_server_config: missing one of cert or cert_file".into());
            }
        };
        let key = match (nonempty(&t.key_file), nonempty(&t.key)) {
            (Some(f), _) => Pem::File(join(dir, f)),
            (None, Some(k)) => Pem::Inline(k.to_owned()),
            (None, None) => return Err("tls_server_config: missing one of key or key_file".into()),
        };
        let auth_text = nonempty(&t.client_auth_type).unwrap_or("");
        let client_auth = ClientAuth::parse(auth_text).ok_or_else(|| {
            format!(
                "tls_server_config.client_auth_type: unknown {auth_text:?} (NoClientCert, \
                 RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, \
                 RequireAndVerifyClientCert)"
            )
        })?;
        let client_ca = match (nonempty(&t.client_ca_file), nonempty(&t.client_ca)) {
            (Some(f), _) => Some(Pem::File(join(dir, f))),
            (None, Some(c)) => Some(Pem::Inline(c.to_owned())),
            (None, None) => None,
        };
        if client_ca.is_some() && client_auth == ClientAuth::NoClientCert {
            return Err(
                "tls_server_config: client_ca_file is set but client_auth_type does not ask \
                 for client certificates"
                    .into(),
            );
        }
        if client_ca.is_none() && client_auth.verifies() {
            return Err(format!(
                "tls_server_config: client_auth_type {auth_text} needs client_ca_file (the CAs \
                 client certificates are verified against)"
            ));
        }
        let version = |v: &Option<String>, default, key: &str| match nonempty(v) {
            None => Ok(default),
            Some(v) => TlsVersion::parse(v).map_err(|e| format!("tls_server_config.{key}: {e}")),
        };
        let min_version = version(&t.min_version, TlsVersion::Tls12, "min_version")?;
        let max_version = version(&t.max_version, TlsVersion::Tls13, "max_version")?;
        if min_version > max_version {
            return Err("tls_server_config: min_version is above max_version".into());
        }
        Ok(Some(TlsSettings {
            cert,
            key,
            client_auth,
            client_ca,
            min_version,
            max_version,
            prefer_server_cipher_suites: t.prefer_server_cipher_suites.unwrap_or(true),
        }))
    }

    /// The rustls configuration: the certificate chain and key read and
    /// matched, the client verifier built (ring provider).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = read_certs(&self.cert, "cert")?;
        let key = read_key(&self.key)?;
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
            (TlsVersion::Tls12, &rustls::version::TLS12),
            (TlsVersion::Tls13, &rustls::version::TLS13),
        ]
        .into_iter()
        .filter(|(v, _)| (self.min_version..=self.max_version).contains(v))
        .map(|(_, p)| p)
        .collect();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("tls_server_config: {e}"))?;
        let verifier: Option<Arc<dyn ClientCertVerifier>> = match self.client_auth {
            ClientAuth::NoClientCert => None,
            ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
                Some(Arc::new(AnyClientCert {
                    mandatory: self.client_auth == ClientAuth::RequireAnyClientCert,
                    algorithms: provider.signature_verification_algorithms,
                }))
            }
            ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert => {
                let mut roots = RootCertStore::empty();
                let ca = self.client_ca.as_ref().ok_or("client_ca_file is missing")?;
                for cert in read_certs(ca, "client_ca")? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("{}: {e}", describe(ca, "client_ca")))?;
                }
                let mut b =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                if self.client_auth == ClientAuth::VerifyClientCertIfGiven {
                    b = b.allow_unauthenticated();
                }
                Some(
                    b.build()
                        .map_err(|e| format!("{}: {e}", describe(ca, "client_ca")))?,
                )
            }
        };
        let builder = match verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            format!(
                "{} and {} do not make a certificate and its key: {e}",
                describe(&self.cert, "cert"),
                describe(&self.key, "key")
            )
        })?;
        config.ignore_client_order = self.prefer_server_cipher_suites;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// How an error names a PEM source: its file, or the inline key.
fn describe(pem: &Pem, key: &str) -> String {
    match pem {
        Pem::File(p) => format!("{key}_file {}", p.display()),
        Pem::Inline(_) => format!("tls_server_config.{key}"),
    }
}

fn pem_bytes(pem: &Pem, key: &str) -> Result<Vec<u8>, String> {
    match pem {
        Pem::File(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", describe(pem, key))),
        Pem::Inline(s) => Ok(s.clone().into_bytes()),
    }
}

fn read_certs(pem: &Pem, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = pem_bytes(pem, key)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", describe(pem, key)))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", describe(pem, key)));
    }
    Ok(certs)
}

fn read_key(pem: &Pem) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = pem_bytes(pem, "key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("{}: no PEM private key in it", describe(pem, "key"))
        }
        e => format!("{}: {e}", describe(pem, "key")),
    })
}

/// Go's `RequestClientCert` and `RequireAnyClientCert`: a client
/// certificate is asked for (required when `mandatory`) and its handshake
/// signature checked, but it is not verified against any CA.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Reads and checks the web configuration file at `path`, and builds its
/// TLS configuration.
pub fn load(path: &Path) -> Result<(WebConfig, Option<Arc<ServerConfig>>), WebConfigError> {
    let fail = |reason: String| WebConfigError {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let text = String::from_utf8(text).map_err(|_| fail("not UTF-8 text".into()))?;
    let config = WebConfig::parse(&text, path).map_err(fail)?;
    let tls = config
        .tls
        .as_ref()
        .map(TlsSettings::server_config)
        .transpose()
        .map_err(fail)?;
    Ok((config, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, String> {
        WebConfig::parse(text, Path::new("/etc/sockscope/web.yml"))
    }

    #[test]
    fn an_empty_file_is_plain_http_without_users() {
        assert_eq!(parse("").unwrap(), WebConfig::default());
        assert_eq!(
            parse("tls_server_config: {}\n").unwrap(),
            WebConfig::default()
        );
    }

    #[test]
    fn relative_paths_are_from_the_files_directory() {
        let c = parse(
            "tls_server_config:\n  cert_file: a.crt\n  key_file: /abs/a.key\n  \
             client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  \
             min_version: TLS13\n",
        )
        .unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(tls.cert, Pem::File("/etc/sockscope/a.crt".into()));
        assert_eq!(tls.key, Pem::File("/abs/a.key".into()));
        assert_eq!(
            tls.client_ca,
            Some(Pem::File("/etc/sockscope/ca.pem".into()))
        );
        assert_eq!(tls.client_auth, ClientAuth::RequireAndVerifyClientCert);
        assert_eq!(tls.min_version, TlsVersion::Tls13);
    }

    #[test]
    fn unknown_and_unsupported_keys_are_refused() {
        let e = parse("tls_server_config:\n  cert_flie: a\n").unwrap_err();
        assert!(e.contains("cert_flie"), "{e}");
        let e = parse("basic_auth: {}\n").unwrap_err();
        assert!(e.contains("basic_auth"), "{e}");
        let e = parse("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")
            .unwrap_err();
        assert!(e.contains("cipher_suites is not supported"), "{e}");
        let e = parse("rate_limit:\n  burst: 2\n").unwrap_err();
        assert!(e.contains("rate_limit"), "{e}");
        // http2 is accepted (no effect).
        assert!(parse("http_server_config:\n  http2: false\n").is_ok());
    }

    #[test]
    fn inconsistent_tls_settings_are_refused() {
        for (text, word) in [
            ("tls_server_config:\n  key_file: k\n", "missing one of cert"),
            ("tls_server_config:\n  cert_file: c\n", "missing one of key"),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Maybe\n",
                "unknown \"Maybe\"",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n",
                "does not ask",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n",
                "needs client_ca_file",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS11\n",
                "TLS12 and TLS13 only",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n  max_version: TLS12\n",
                "above max_version",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(word), "{text}: {e}");
        }
    }

    #[test]
    fn users_need_bcrypt_hashes() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let c = parse(&format!("basic_auth_users:\n  alice: {hash}\n")).unwrap();
        assert_eq!(c.users.get("alice"), Some(&hash));
        let e = parse("basic_auth_users:\n  alice: secret\n").unwrap_err();
        assert!(e.contains("\"alice\" is not a bcrypt hash"), "{e}");
    }

    #[test]
    fn missing_files_are_named() {
        let c = parse("tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n").unwrap();
        let e = c.tls.unwrap().server_config().unwrap_err();
        assert!(e.contains("cert_file /etc/sockscope/nope.crt"), "{e}");
    }
}

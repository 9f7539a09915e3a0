//! TLS server configuration from PEM files, or from a self-signed
//! certificate generated at start-up for the served domain.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate chain and key, with the PEM of the first certificate
/// (so a test can trust a generated certificate).
pub struct Identity {
    /// The certificate chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
    /// The leaf certificate in PEM form.
    pub leaf_pem: String,
}

/// Loads a PEM certificate chain and private key.
pub fn load(cert: &Path, key: &Path) -> Result<Identity, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let leaf_pem = std::fs::read_to_string(cert).map_err(|e| e.to_string())?;
    Ok(Identity {
        chain,
        key,
        leaf_pem,
    })
}

/// Generates a self-signed certificate for `names` (DNS names).
pub fn generate(names: &[String]) -> Result<Identity, String> {
    let ck = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| e.to_string())?;
    Ok(Identity {
        leaf_pem: ck.cert.pem(),
        chain: vec![CertificateDer::from(ck.cert.der().to_vec())],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der())),
    })
}

/// A rustls server configuration (TLS 1.2 and 1.3, ring provider).
pub fn server_config(id: &Identity) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(id.chain.clone(), id.key.clone_key())
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(cfg))
}

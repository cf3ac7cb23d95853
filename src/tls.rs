//! TLS for every HTTPS client aloud makes: articles, backends, webhooks and the S3 store.

/// reqwest is built with rustls but no crypto provider of its own (that would be aws-lc-rs,
/// which needs CMake): ring is installed as the process default, once. A provider already
/// installed by the host program is kept.
pub(crate) fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // `Err` means another thread installed one first, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

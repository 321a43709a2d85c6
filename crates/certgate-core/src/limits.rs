//! Named resource limits. Every limit has its own error code and a test that trips it.

/// Bounds on the work one call may do, whatever the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest PEM text accepted, in characters. 65,536 is AWS IoT's documented input
    /// limit for `certificatePem` / `caCertificatePem`
    /// (<https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html>).
    pub max_pem_chars: usize,
    /// Largest DER certificate accepted. Real client and CA certificates are 0.5–2 KB;
    /// 16 KiB leaves room for large SAN lists while bounding per-certificate work.
    pub max_certificate_bytes: usize,
    /// Most certificates in one chain input (leaf plus intermediates). Devices send the
    /// leaf and at most a few issuers (<https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html>);
    /// 16 is generous and stops 10,000-entry
    /// chains before any of them is decoded.
    pub max_chain_certificates: usize,
    /// Most trust anchors in one verification (the registry passes the registered CAs
    /// whose subject matches; AWS allows 10 per subject,
    /// <https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html>).
    pub max_anchors: usize,
    /// Most CA certificates between the leaf and the anchor, anchor excluded. webpki
    /// uses 6 (`MAX_SUB_CA_COUNT`); 8 leaves room for deep enterprise PKIs.
    pub max_path_depth: usize,
    /// Most signature verifications one path search may attempt; webpki's
    /// `Budget::default` uses 100 for the same reason: bounded work on crafted
    /// chains with many same-named issuers.
    pub max_signature_checks: usize,
    /// Most name/subtree comparisons while applying name constraints in one path
    /// search; webpki's `Budget` uses the same 250,000.
    pub max_name_constraint_comparisons: usize,
    /// Largest CRL input (PEM text or DER), in bytes. A CRL entry with a 20-byte serial
    /// is about 40 bytes of DER, so 1,000,000 entries are ~40 MB of DER and ~54 MB of
    /// PEM; 64 MiB admits that with room for entry extensions and bounds parse memory.
    pub max_crl_bytes: usize,
    /// Most entries in one CRL. Every authorizer process keeps a set of the revoked
    /// serials of each CA's CRL in memory (about 100 bytes per entry, bench/README.md),
    /// so this bounds that memory at ~100 MB per CA per process.
    pub max_crl_entries: usize,
}

impl Limits {
    /// The defaults documented on each field.
    pub const DEFAULT: Limits = Limits {
        max_pem_chars: 65_536,
        max_certificate_bytes: 16_384,
        max_chain_certificates: 16,
        max_anchors: 64,
        max_path_depth: 8,
        max_signature_checks: 100,
        max_name_constraint_comparisons: 250_000,
        max_crl_bytes: 64 * 1024 * 1024,
        max_crl_entries: 1_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

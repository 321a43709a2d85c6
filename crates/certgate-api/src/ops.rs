//! The operations, each a thin composition of core functions with default limits.

use certgate_core::{
    certificates_der, single_der, ChainInput, CrlInput, Curve, EkuPolicy, Error, ErrorCode, Issuer,
    Limits, PreparedIssuer, SignatureVerifier,
};
use certgate_rustcrypto::RustCryptoSigner;

use crate::shapes::{
    Certificate, Chain, Crl, GeneratedKey, Issued, IssuedBatch, KeyBatch, Outcome, Proof, Verified,
};

const LIMITS: Limits = Limits::DEFAULT;

/// JavaScript numbers carry times as epoch seconds; refuse NaN, infinities and values
/// outside the range certificates can express.
fn epoch(at: f64) -> Result<i64, Error> {
    // 253402300799 = 9999-12-31T23:59:59Z, the last GeneralizedTime instant.
    if at.is_finite() && (-62_135_596_800.0..=253_402_300_799.0).contains(&at) {
        #[expect(
            clippy::as_conversions,
            reason = "range-checked just above; truncation towards zero is intended"
        )]
        Ok(at.trunc() as i64)
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("time {at} is not a valid epoch-seconds value"),
        ))
    }
}

/// Every certificate of each input (PEM bundles are flattened; DER is one certificate).
/// Every certificate of several inputs; an error names the input (`what` and its
/// position from 1), so a caller can tell which one was refused.
fn flatten(inputs: &[Vec<u8>], what: &str) -> Result<Vec<Vec<u8>>, Error> {
    if inputs.len() > LIMITS.max_chain_certificates.max(LIMITS.max_anchors) {
        return Err(Error::new(
            ErrorCode::TooManyCertificates,
            format!("{} certificate inputs", inputs.len()),
        ));
    }
    let mut out = Vec::new();
    for (position, input) in (1..).zip(inputs) {
        let ders = certificates_der(input, &LIMITS)
            .map_err(|e| Error::new(e.code(), format!("{what} {position}: {}", e.message())))?;
        out.extend(ders);
    }
    Ok(out)
}

/// Parse the first certificate of a PEM or DER input.
pub fn inspect(input: &[u8]) -> Outcome<Certificate> {
    certgate_core::inspect(input, &LIMITS)
        .map(Certificate::from)
        .into()
}

/// Parse every certificate of a PEM bundle (or one DER certificate).
pub fn inspect_chain(input: &[u8]) -> Outcome<Chain> {
    certgate_core::inspect_chain(input, &LIMITS)
        .map(|cs| Chain {
            certificates: cs.into_iter().map(Certificate::from).collect(),
        })
        .into()
}

/// Validate `leaf` (PEM or DER; extra PEM blocks after the first count as intermediates)
/// against `anchors` at `at` (epoch seconds) with EKU policy `eku` (`client` | `any`).
pub fn verify_chain(
    verifier: &dyn SignatureVerifier,
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: f64,
    eku: &str,
) -> Outcome<Verified> {
    let run = || {
        let eku = EkuPolicy::from_name(eku)?;
        let at = epoch(at)?;
        let mut leaf_chain = certificates_der(leaf, &LIMITS)?.into_iter();
        let leaf = leaf_chain
            .next()
            .ok_or_else(|| Error::new(ErrorCode::NoCertificate, "no leaf certificate"))?;
        let mut all_intermediates: Vec<Vec<u8>> = leaf_chain.collect();
        all_intermediates.extend(flatten(intermediates, "intermediate")?);
        let anchors = flatten(anchors, "anchor")?;
        let input = ChainInput {
            leaf: &leaf,
            intermediates: &all_intermediates,
            anchors: &anchors,
            at,
            eku,
        };
        certgate_core::verify_chain(verifier, &input, &LIMITS)
    };
    run().map(Verified::from).into()
}

/// Check a CA's proof of possession (RegisterCACertificate,
/// <https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html>).
pub fn verify_registration_proof(
    verifier: &dyn SignatureVerifier,
    ca: &[u8],
    verification: &[u8],
    registration_code: &str,
    at: f64,
) -> Outcome<Proof> {
    epoch(at)
        .and_then(|at| {
            certgate_core::verify_registration_proof(
                verifier,
                ca,
                verification,
                registration_code,
                at,
                &LIMITS,
            )
        })
        .map(Proof::from)
        .into()
}

const KEY_LIMITS: Limits = Limits {
    max_pem_chars: 16_384,
    ..Limits::DEFAULT
};

fn issuer_parts(
    issuer_certificate: &[u8],
    issuer_key: &[u8],
) -> Result<(Vec<u8>, RustCryptoSigner), Error> {
    let cert = certificates_der(issuer_certificate, &LIMITS)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::new(ErrorCode::NoCertificate, "no issuing CA certificate"))?;
    let key = single_der(issuer_key, &[b"PRIVATE KEY"], "PRIVATE KEY", &KEY_LIMITS)
        .map_err(|e| Error::new(ErrorCode::BadKey, e.message()))?;
    Ok((cert, RustCryptoSigner::from_pkcs8_der(&key)?))
}

/// CreateKeysAndCertificate's certificate
/// (<https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html>) for `public_key` (SPKI, PEM or DER),
/// signed by the issuing CA (`issuer_certificate`, `issuer_key` PKCS#8, PEM or DER).
/// `serial` is 20 random bytes; `not_before` epoch seconds.
pub fn issue_certificate(
    public_key: &[u8],
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serial: &[u8],
    not_before: f64,
) -> Outcome<Issued> {
    let run = || {
        let (cert, signer) = issuer_parts(issuer_certificate, issuer_key)?;
        let spki = single_der(public_key, &[b"PUBLIC KEY"], "PUBLIC KEY", &KEY_LIMITS)
            .map_err(|e| Error::new(ErrorCode::BadKey, e.message()))?;
        let subject = certgate_core::name_der(certgate_core::DEFAULT_SUBJECT)?;
        let issuer = Issuer {
            certificate: &cert,
            signer: &signer,
        };
        certgate_core::issue_certificate(&issuer, &spki, &subject, serial, epoch(not_before)?)
    };
    run().map(Issued::from).into()
}

/// Most entries in one batch call (`issueCertificates`, `generateKeys`). A batch is one
/// synchronous engine call, so this bounds how long it holds its thread (about a second
/// for P-256 on this machine, bench/README.md) and the memory of its result; callers
/// split larger fleets into batches (`certgate fleet create` uses 1,000).
pub const MAX_BATCH: usize = 10_000;

fn check_batch(len: usize, what: &str) -> Result<(), Error> {
    if len > MAX_BATCH {
        return Err(Error::new(
            ErrorCode::TooManyCertificates,
            format!("{len} {what} in one batch; at most {MAX_BATCH}"),
        ));
    }
    Ok(())
}

/// [`issue_certificate`] for many public keys under one issuing CA: the CA's certificate
/// and key are parsed and matched once for the batch, not once per certificate. Entry
/// `i` certifies `public_keys[i]` with serial `serials[i]`; the first refused entry
/// refuses the batch, its message naming the entry (from 1).
pub fn issue_certificates(
    public_keys: &[Vec<u8>],
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serials: &[Vec<u8>],
    not_before: f64,
) -> Outcome<IssuedBatch> {
    let run = || {
        check_batch(public_keys.len(), "public keys")?;
        if serials.len() != public_keys.len() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{} public keys but {} serials; give one serial per key",
                    public_keys.len(),
                    serials.len()
                ),
            ));
        }
        let not_before = epoch(not_before)?;
        let (cert, signer) = issuer_parts(issuer_certificate, issuer_key)?;
        let issuer = PreparedIssuer::new(&Issuer {
            certificate: &cert,
            signer: &signer,
        })?;
        let subject = certgate_core::name_der(certgate_core::DEFAULT_SUBJECT)?;
        let mut certificates = Vec::with_capacity(public_keys.len());
        for (position, (public_key, serial)) in (1..).zip(public_keys.iter().zip(serials)) {
            let at = |e: Error| Error::new(e.code(), format!("entry {position}: {}", e.message()));
            let spki = single_der(public_key, &[b"PUBLIC KEY"], "PUBLIC KEY", &KEY_LIMITS)
                .map_err(|e| Error::new(ErrorCode::BadKey, e.message()))
                .map_err(at)?;
            let issued = issuer
                .issue(&spki, &subject, serial, not_before)
                .map_err(at)?;
            certificates.push(Issued::from(issued));
        }
        Ok(IssuedBatch { certificates })
    };
    run().into()
}

/// EC key pairs for `key_type` (`p256`, `p384`, `p521`), one per entry of `secrets`: each
/// the private scalar, big-endian, drawn by the caller from a cryptographic random source
/// (32, 48 or 66 bytes). A secret outside [1, n-1] refuses the batch, naming the entry;
/// the caller draws it again (FIPS 186-5 appendix A.2.2 rejection sampling).
pub fn generate_keys(key_type: &str, secrets: &[Vec<u8>]) -> Outcome<KeyBatch> {
    let run = || {
        let curve = match key_type {
            "p256" => Curve::P256,
            "p384" => Curve::P384,
            "p521" => Curve::P521,
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("key type {other:?} is not p256, p384 or p521"),
                ))
            }
        };
        check_batch(secrets.len(), "secrets")?;
        let keys = (1..)
            .zip(secrets)
            .map(|(position, secret)| {
                certgate_rustcrypto::ec_key_from_secret(curve, secret)
                    .map(|k| GeneratedKey {
                        private_key_pem: certgate_core::pem("PRIVATE KEY", &k.pkcs8),
                        public_key_pem: certgate_core::pem("PUBLIC KEY", &k.spki),
                    })
                    .map_err(|e| Error::new(e.code(), format!("entry {position}: {}", e.message())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeyBatch { keys })
    };
    run().into()
}

/// CreateCertificateFromCsr's certificate
/// (<https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html>) for the CSR (PEM or DER).
pub fn issue_from_csr(
    verifier: &dyn SignatureVerifier,
    csr: &[u8],
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serial: &[u8],
    not_before: f64,
) -> Outcome<Issued> {
    let run = || {
        let (cert, signer) = issuer_parts(issuer_certificate, issuer_key)?;
        let issuer = Issuer {
            certificate: &cert,
            signer: &signer,
        };
        certgate_core::issue_from_csr(verifier, &issuer, csr, serial, epoch(not_before)?)
    };
    run().map(Issued::from).into()
}

/// A self-signed issuing CA certificate for `key` (PKCS#8, PEM or DER) with the RFC 4514
/// `subject`, valid from `not_before` to `not_after` (epoch seconds).
pub fn create_issuing_ca(
    key: &[u8],
    subject: &str,
    serial: &[u8],
    not_before: f64,
    not_after: f64,
) -> Outcome<Issued> {
    let run = || {
        let der = single_der(key, &[b"PRIVATE KEY"], "PRIVATE KEY", &KEY_LIMITS)
            .map_err(|e| Error::new(ErrorCode::BadKey, e.message()))?;
        let signer = RustCryptoSigner::from_pkcs8_der(&der)?;
        certgate_core::create_issuing_ca(
            &signer,
            subject,
            serial,
            epoch(not_before)?,
            epoch(not_after)?,
        )
    };
    run().map(Issued::from).into()
}

/// Parse and verify `crl` (DER, or PEM with an `X509 CRL` block and optionally the
/// delegated signer's certificate) as a CRL of `ca`; `at` (epoch seconds) judges a
/// delegated signer; `previous_number` is the current CRL's cRLNumber (decimal).
pub fn verify_crl(
    verifier: &dyn SignatureVerifier,
    crl: &[u8],
    ca: &[u8],
    at: f64,
    previous_number: Option<&str>,
) -> Outcome<Crl> {
    epoch(at)
        .and_then(|at| {
            let input = CrlInput {
                crl,
                ca,
                at,
                previous_number,
            };
            certgate_core::verify_crl(verifier, &input, &LIMITS)
        })
        .map(Crl::from)
        .into()
}

/// Every error code the engine can return, in documentation order.
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

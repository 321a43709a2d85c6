//! certgate-core: parse, verify and decide on X.509 client certificates.
//!
//! This crate is a pure function of its inputs: it performs no I/O, reads no clock,
//! draws no randomness and reads no environment. The validation time, trust anchors,
//! keys, serial randomness and resource limits are arguments; signature arithmetic is
//! behind [`SignatureVerifier`] and [`Signer`]. It compiles unchanged for
//! `wasm32-unknown-unknown` and for the host.
#![forbid(unsafe_code)]

mod algorithm;
mod certificate;
mod chain;
mod crl;
mod csr;
mod encode;
mod error;
mod input;
mod inspect;
mod issue;
mod limits;
mod name;
mod name_constraints;
mod names;
mod proof;
mod rules;
mod signature;

pub use algorithm::{Curve, HashAlgorithm, KeyFamily, KeyInfo, SignatureAlgorithm};
pub use certificate::Certificate;
pub use chain::{verify_chain, ChainInput, EkuPolicy, VerifiedChain};
pub use crl::{verify_crl, CrlInput, VerifiedCrl};
pub use csr::{issue_from_csr, MAX_CSR_PEM_CHARS};
pub use encode::{
    certificate_pem, encode_certificate, encode_tbs, null_params, pem, RawExtension, TbsParts,
};
pub use error::{Error, ErrorCode};
pub use input::{certificates_der, single_der};
pub use inspect::{
    inspect, inspect_chain, AltName, BasicConstraintsInfo, CertificateInfo, PublicKeyInfo,
};
pub use issue::{
    create_issuing_ca, issue_certificate, key_identifier, name_der, IssuedCertificate, Issuer,
    PreparedIssuer, Signer, AWS_NOT_AFTER, DEFAULT_SUBJECT, SERIAL_BYTES,
};
pub use limits::Limits;
pub use name::{DistinguishedName, NameAttribute};
pub use proof::{verify_registration_proof, RegistrationProof};
pub use signature::{SignatureVerifier, SignedData};

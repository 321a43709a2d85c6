//! The one list of refusal codes. `docs/errors.md` and `ts/engine/errors.ts` mirror it; a
//! test (`test/engine/errors.test.ts`) checks the three agree.

use core::fmt;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Every reason the engine can refuse an input. The string form of each code is the
        /// stable, documented identifier that crosses the binding boundary.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The stable string identifier of this code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    /// The input held no certificate at all.
    NoCertificate => "NO_CERTIFICATE",
    /// PEM framing was malformed (bad base64, unterminated block, non-text bytes inside).
    BadPem => "BAD_PEM",
    /// DER could not be decoded as an X.509 certificate (truncated, trailing bytes, bad extension).
    BadDer => "BAD_DER",
    /// The PEM text is longer than `Limits::max_pem_chars`.
    PemTooLarge => "PEM_TOO_LARGE",
    /// One certificate is larger than `Limits::max_certificate_bytes`.
    CertificateTooLarge => "CERTIFICATE_TOO_LARGE",
    /// More certificates than `Limits::max_chain_certificates` (or `max_anchors`).
    TooManyCertificates => "TOO_MANY_CERTIFICATES",
    /// The signature algorithm is not one of the seven AWS IoT accepts (SHA-1, MD5, PSS, Ed25519, unknown).
    UnsupportedSignatureAlgorithm => "UNSUPPORTED_SIGNATURE_ALGORITHM",
    /// The public key type, curve or size is not supported.
    UnsupportedPublicKey => "UNSUPPORTED_PUBLIC_KEY",
    /// An RSA key is shorter than 2048 bits.
    RsaKeyTooSmall => "RSA_KEY_TOO_SMALL",
    /// The signer's key type does not match the signature algorithm (e.g. an EC key with SHA256WITHRSA).
    KeyAlgorithmMismatch => "KEY_ALGORITHM_MISMATCH",
    /// The signature does not verify under the issuer's key.
    BadSignature => "BAD_SIGNATURE",
    /// A certificate on the path is not valid yet at the validation time.
    NotYetValid => "NOT_YET_VALID",
    /// A certificate on the path has expired at the validation time.
    Expired => "EXPIRED",
    /// No path leads from the leaf to any of the given anchors.
    UnknownIssuer => "UNKNOWN_ISSUER",
    /// An issuing certificate lacks basicConstraints CA:TRUE.
    NotACa => "NOT_A_CA",
    /// A CA's pathLenConstraint is exceeded, or the path is deeper than `Limits::max_path_depth`.
    PathLengthExceeded => "PATH_LENGTH_EXCEEDED",
    /// An issuing certificate has keyUsage without keyCertSign.
    MissingKeyCertSign => "MISSING_KEY_CERT_SIGN",
    /// A name on the path violates a CA's name constraints.
    NameConstraintViolation => "NAME_CONSTRAINT_VIOLATION",
    /// A CA's nameConstraints extension is malformed: not DER, no or empty subtrees,
    /// minimum/maximum set, or a subtree malformed for its name form (a dNSName with a
    /// leading period, an iPAddress that is not an address and a contiguous mask, …).
    MalformedNameConstraint => "MALFORMED_NAME_CONSTRAINT",
    /// A certificate carries a critical extension certgate does not process.
    UnsupportedCriticalExtension => "UNSUPPORTED_CRITICAL_EXTENSION",
    /// An extension breaks an RFC 5280 rule certgate enforces for issued certificates
    /// (a policyConstraints extension not marked critical).
    InvalidExtension => "INVALID_EXTENSION",
    /// The EKU policy requires clientAuth and a certificate's extendedKeyUsage excludes it.
    ClientAuthNotPermitted => "CLIENT_AUTH_NOT_PERMITTED",
    /// Path building gave up after `Limits::max_signature_checks` signature checks or
    /// `Limits::max_name_constraint_comparisons` name comparisons (hostile input).
    PathBudgetExceeded => "PATH_BUDGET_EXCEEDED",
    /// The verification certificate's subject CN is not the registration code.
    RegistrationCodeMismatch => "REGISTRATION_CODE_MISMATCH",
    /// A certificate signing request could not be decoded or is not signed by its own key.
    BadCsr => "BAD_CSR",
    /// A key given for issuance could not be decoded or has the wrong type.
    BadKey => "BAD_KEY",
    /// An argument is out of range (serial length, validity order, EKU policy name, time).
    InvalidArgument => "INVALID_ARGUMENT",
    /// A certificate revocation list could not be decoded (bad PEM/DER, trailing bytes,
    /// not exactly one CRL, v1 with extensions, malformed extension, duplicate extension).
    BadCrl => "BAD_CRL",
    /// The CRL input is larger than `Limits::max_crl_bytes`.
    CrlTooLarge => "CRL_TOO_LARGE",
    /// The CRL lists more certificates than `Limits::max_crl_entries`.
    TooManyCrlEntries => "TOO_MANY_CRL_ENTRIES",
    /// The CRL's issuer name is not the CA's subject (indirect CRLs are not supported).
    CrlIssuerMismatch => "CRL_ISSUER_MISMATCH",
    /// The CRL's signer may not sign CRLs: keyUsage without cRLSign, or a delegated
    /// signer certificate that the CA did not issue or that fails validation.
    CrlSignerNotAuthorized => "CRL_SIGNER_NOT_AUTHORIZED",
    /// A delta CRL, a partitioned or indirect CRL (issuingDistributionPoint,
    /// deltaCRLIndicator, certificateIssuer entry extension): certgate takes complete CRLs only.
    CrlScopeUnsupported => "CRL_SCOPE_UNSUPPORTED",
    /// The cRLNumber is lower than the previous CRL's, or absent when there was one.
    CrlNumberRegressed => "CRL_NUMBER_REGRESSED",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable code plus a human-readable explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

impl Error {
    /// A refusal with `code`; `message` is for people only.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The stable code callers branch on.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// A sentence for people; never parse it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

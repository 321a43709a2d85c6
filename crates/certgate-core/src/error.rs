use core::fmt;

/// Every reason the engine can refuse an input. The string form of each code is the
/// stable, documented identifier that crosses the binding boundary (see `docs/errors.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The input held no certificate at all.
    NoCertificate,
    /// PEM framing was malformed (bad base64, unterminated block).
    BadPem,
    /// DER could not be decoded as an X.509 certificate.
    BadDer,
}

impl ErrorCode {
    /// Every code, in documentation order. Used by the consistency test.
    pub const ALL: &'static [ErrorCode] = &[Self::NoCertificate, Self::BadPem, Self::BadDer];

    /// The stable string identifier of this code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoCertificate => "NO_CERTIFICATE",
            Self::BadPem => "BAD_PEM",
            Self::BadDer => "BAD_DER",
        }
    }
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
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
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

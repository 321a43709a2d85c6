//! Turning caller input (PEM text with one or many blocks, or one DER certificate) into
//! DER certificates, enforcing the size limits before any ASN.1 decoding.

use base64::Engine as _;

use crate::error::{Error, ErrorCode};
use crate::limits::Limits;

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";
/// PEM labels that carry an X.509 certificate (<https://www.rfc-editor.org/rfc/rfc7468#section-5>; "X509 CERTIFICATE"
/// is the legacy label section 5.3 says parsers should accept).
const CERTIFICATE_LABELS: &[&[u8]] = &[b"CERTIFICATE", b"X509 CERTIFICATE"];
/// An SPKI or CSR label, accepted where the caller asks for that type.
pub(crate) const CSR_LABELS: &[&[u8]] = &[b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"];

/// Whether `input` is DER rather than PEM text: a SEQUENCE tag followed by a long-form
/// or indefinite length byte (every certificate is longer than 127 bytes). Text cannot
/// start that way (`0` then a byte >= 0x80 is not ASCII), and the decision must never
/// look inside DER: a DER certificate may carry PEM text in an extension, and reading
/// that instead would swap the certificate the TLS handshake proved for another one.
fn is_der(input: &[u8]) -> bool {
    matches!(input, [0x30, len, ..] if *len >= 0x80)
}

/// Split `input` into DER certificates. DER input (see `is_der`) is one certificate;
/// anything else is read as PEM, where text around and between blocks is ignored.
pub fn certificates_der(input: &[u8], limits: &Limits) -> Result<Vec<Vec<u8>>, Error> {
    if is_der(input) {
        check_der_size(input.len(), limits)?;
        return Ok(vec![input.to_vec()]);
    }
    let blocks = pem_blocks(
        input,
        CERTIFICATE_LABELS,
        limits.max_chain_certificates,
        limits,
    )?;
    if blocks.is_empty() {
        return Err(Error::new(
            ErrorCode::NoCertificate,
            "input is neither DER (a certificate SEQUENCE) nor PEM with a CERTIFICATE block",
        ));
    }
    Ok(blocks)
}

/// Read one DER object of a kind named by `labels` (e.g. `PRIVATE KEY`, `PUBLIC KEY`)
/// from PEM or raw DER input; `what` names it in messages.
pub fn single_der(
    input: &[u8],
    labels: &[&[u8]],
    what: &str,
    limits: &Limits,
) -> Result<Vec<u8>, Error> {
    if is_der(input) {
        check_der_size(input.len(), limits)?;
        return Ok(input.to_vec());
    }
    let mut blocks = pem_blocks(input, labels, 1, limits)?;
    blocks.pop().ok_or_else(|| {
        Error::new(
            ErrorCode::NoCertificate,
            format!("input contains no {what} block"),
        )
    })
}

/// PEM labels of a CRL (<https://www.rfc-editor.org/rfc/rfc7468#section-6>; "CRL" is not standard but common).
const CRL_LABELS: &[&[u8]] = &[b"X509 CRL"];

/// Split CRL input into the CRL's DER and the DER of any certificates that came with it
/// (a delegated CRL signer's certificate, in the same PEM text). DER input is the CRL
/// alone. The caller has bounded `input` by `Limits::max_crl_bytes` already.
pub(crate) fn crl_and_certificates(
    input: &[u8],
    limits: &Limits,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), Error> {
    if is_der(input) {
        return Ok((input.to_vec(), Vec::new()));
    }
    let whole = Limits {
        max_pem_chars: usize::MAX,
        max_certificate_bytes: limits.max_crl_bytes,
        ..*limits
    };
    let bad = |e: Error| Error::new(ErrorCode::BadCrl, e.message());
    let mut crls = pem_blocks(input, CRL_LABELS, 2, &whole).map_err(bad)?;
    let crl = match (crls.pop(), crls.is_empty()) {
        (Some(crl), true) => crl,
        (Some(_), false) => {
            return Err(Error::new(
                ErrorCode::BadCrl,
                "input holds more than one X509 CRL block",
            ))
        }
        (None, _) => {
            return Err(Error::new(
                ErrorCode::BadCrl,
                "input is neither DER (a CRL SEQUENCE) nor PEM with an X509 CRL block",
            ))
        }
    };
    let certificates = Limits {
        max_pem_chars: usize::MAX,
        ..*limits
    };
    let signers = pem_blocks(
        input,
        CERTIFICATE_LABELS,
        limits.max_chain_certificates,
        &certificates,
    )?;
    Ok((crl, signers))
}

pub(crate) fn check_der_size(len: usize, limits: &Limits) -> Result<(), Error> {
    if len > limits.max_certificate_bytes {
        return Err(Error::new(
            ErrorCode::CertificateTooLarge,
            format!(
                "certificate is {len} bytes; the limit is {}",
                limits.max_certificate_bytes
            ),
        ));
    }
    Ok(())
}

fn pem_blocks(
    input: &[u8],
    labels: &[&[u8]],
    max_blocks: usize,
    limits: &Limits,
) -> Result<Vec<Vec<u8>>, Error> {
    // AWS counts characters; for non-UTF-8 input every byte counts as one.
    let chars = core::str::from_utf8(input).map_or(input.len(), |s| s.chars().count());
    if chars > limits.max_pem_chars {
        return Err(Error::new(
            ErrorCode::PemTooLarge,
            format!(
                "PEM input is {chars} characters; the limit is {}",
                limits.max_pem_chars
            ),
        ));
    }
    let mut out = Vec::new();
    let mut rest = input;
    while let Some(start) = find(rest, BEGIN) {
        let after_begin = rest.get(start + BEGIN.len()..).unwrap_or_default();
        let label_end = find(after_begin, DASHES)
            .ok_or_else(|| Error::new(ErrorCode::BadPem, "unterminated PEM BEGIN line"))?;
        let label = after_begin.get(..label_end).unwrap_or_default();
        let body_start = after_begin
            .get(label_end + DASHES.len()..)
            .unwrap_or_default();
        let mut end_marker = Vec::with_capacity(label.len() + 14);
        end_marker.extend_from_slice(b"-----END ");
        end_marker.extend_from_slice(label);
        end_marker.extend_from_slice(DASHES);
        let body_len = find(body_start, &end_marker).ok_or_else(|| {
            Error::new(
                ErrorCode::BadPem,
                format!(
                    "PEM block {} has no END line",
                    String::from_utf8_lossy(label)
                ),
            )
        })?;
        let body = body_start.get(..body_len).unwrap_or_default();
        rest = body_start
            .get(body_len + end_marker.len()..)
            .unwrap_or_default();
        if !labels.contains(&label) {
            continue;
        }
        if out.len() >= max_blocks {
            return Err(Error::new(
                ErrorCode::TooManyCertificates,
                format!("more than {max_blocks} certificates in one input"),
            ));
        }
        out.push(decode_body(body, limits)?);
    }
    Ok(out)
}

fn decode_body(body: &[u8], limits: &Limits) -> Result<Vec<u8>, Error> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    // Check the size the block would decode to before decoding it.
    check_der_size(compact.len() / 4 * 3, limits)?;
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| {
            Error::new(
                ErrorCode::BadPem,
                format!("PEM body is not valid base64: {e}"),
            )
        })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn crlf_and_surrounding_text_are_tolerated() {
        let text = format!("subject=foo\r\n{}trailer\r\n", ONE.replace('\n', "\r\n"));
        let blocks = certificates_der(text.as_bytes(), &Limits::DEFAULT).unwrap();
        assert_eq!(blocks, vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]]);
    }

    #[test]
    fn other_pem_labels_are_skipped() {
        let text =
            format!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{ONE}{ONE}");
        assert_eq!(
            certificates_der(text.as_bytes(), &Limits::DEFAULT)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn non_utf8_pem_is_bad_pem() {
        let mut text = ONE.as_bytes().to_vec();
        text.insert(30, 0xff);
        assert_eq!(
            certificates_der(&text, &Limits::DEFAULT)
                .unwrap_err()
                .code(),
            ErrorCode::BadPem
        );
    }

    #[test]
    fn unterminated_block_is_bad_pem() {
        let text = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n";
        assert_eq!(
            certificates_der(text.as_bytes(), &Limits::DEFAULT)
                .unwrap_err()
                .code(),
            ErrorCode::BadPem
        );
    }

    #[test]
    fn text_without_blocks_is_no_certificate() {
        assert_eq!(
            certificates_der(b"hello", &Limits::DEFAULT)
                .unwrap_err()
                .code(),
            ErrorCode::NoCertificate
        );
    }

    #[test]
    fn pem_over_the_character_limit_is_pem_too_large() {
        let text = ONE.repeat(1 + 65_536 / ONE.len());
        assert_eq!(
            certificates_der(text.as_bytes(), &Limits::DEFAULT)
                .unwrap_err()
                .code(),
            ErrorCode::PemTooLarge
        );
    }

    #[test]
    fn more_blocks_than_the_chain_limit_is_too_many_certificates() {
        let text = ONE.repeat(17);
        let err = certificates_der(text.as_bytes(), &Limits::DEFAULT).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TooManyCertificates);
    }

    #[test]
    fn der_with_pem_text_inside_is_read_as_der() {
        let mut der = vec![0x30, 0x82, 0x00, 0x60];
        der.extend_from_slice(ONE.as_bytes());
        assert_eq!(
            certificates_der(&der, &Limits::DEFAULT).unwrap(),
            vec![der.clone()]
        );
    }

    #[test]
    fn text_starting_with_a_zero_digit_is_read_as_pem() {
        let text = format!("0 s:CN=device\n{ONE}");
        assert_eq!(
            certificates_der(text.as_bytes(), &Limits::DEFAULT)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn der_over_the_byte_limit_is_certificate_too_large() {
        let mut der = vec![0x30; 16_385];
        der[1] = 0x82;
        assert_eq!(
            certificates_der(&der, &Limits::DEFAULT).unwrap_err().code(),
            ErrorCode::CertificateTooLarge
        );
    }
}

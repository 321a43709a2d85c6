//! iPAddress syntax and subtree matching.

/// Whether `address` is an iPAddress name: four octets (IPv4) or sixteen (IPv6).
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6>: "For IP version 4, as
/// specified in [RFC791], the octet string MUST contain exactly four octets. For IP
/// version 6, as specified in [RFC2460], the octet string MUST contain exactly sixteen
/// octets."
pub(crate) fn is_valid_address(address: &[u8]) -> bool {
    address.len() == 4 || address.len() == 16
}

/// Whether an iPAddress constraint is an address followed by a contiguous mask.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "For IPv4 addresses, the
/// iPAddress field of GeneralName MUST contain eight (8) octets, encoded in the style of
/// RFC 4632 (CIDR) to represent an address range [...] For IPv6 addresses, the
/// iPAddress field MUST contain 32 octets similarly encoded." A CIDR mask is a run of
/// ones followed by zeros; any other mask does not name a range.
pub(crate) fn is_valid_constraint(constraint: &[u8]) -> bool {
    if constraint.len() != 8 && constraint.len() != 32 {
        return false;
    }
    let (_, mask) = constraint.split_at(constraint.len() / 2);
    let mut seen_zero = false;
    for byte in mask {
        for bit in (0..8).rev() {
            let one = byte >> bit & 1 == 1;
            if one && seen_zero {
                return false;
            }
            seen_zero |= !one;
        }
    }
    true
}

/// Whether `address` is in the range `constraint` (both well formed). An address of the
/// other family is never within.
pub(crate) fn within(constraint: &[u8], address: &[u8]) -> bool {
    if constraint.len() != address.len().saturating_mul(2) {
        return false;
    }
    let (base, mask) = constraint.split_at(address.len());
    address
        .iter()
        .zip(base)
        .zip(mask)
        .all(|((a, b), m)| a & m == b & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_constraint_applies_the_mask() {
        let ten = [10, 0, 0, 0, 255, 0, 0, 0];
        assert!(within(&ten, &[10, 1, 2, 3]));
        assert!(!within(&ten, &[11, 1, 2, 3]));
        assert!(!within(&ten, &[10; 16]));
    }

    #[test]
    fn malformed_constraints_and_addresses_are_recognised() {
        assert!(is_valid_constraint(&[10, 0, 0, 0, 255, 255, 0, 0]));
        assert!(is_valid_constraint(&[0; 8]));
        assert!(!is_valid_constraint(&[10, 0, 0, 0, 255, 0, 255, 0]));
        assert!(!is_valid_constraint(&[10, 0, 0, 0, 255, 0, 0]));
        assert!(!is_valid_constraint(&[10, 0, 0, 0]));
        assert!(is_valid_address(&[1, 2, 3, 4]));
        assert!(!is_valid_address(&[1, 2, 3, 4, 5]));
        assert!(!is_valid_address(&[]));
    }
}

//! dNSName syntax and subtree matching.

/// Longest DNS name in text form (<https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4>: 255 octets on the wire, which
/// is 253 characters without the trailing dot).
const MAX_NAME_CHARS: usize = 253;

/// Longest label (<https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4>).
const MAX_LABEL_CHARS: usize = 63;

/// Whether `name` is a host name in the "preferred name syntax" that RFC 5280 requires
/// of a dNSName.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6>: "The name MUST be in the
/// "preferred name syntax", as specified by Section 3.5 of [RFC1034] and as modified by
/// Section 2.1 of [RFC1123]": labels of letters, digits and hyphens, neither starting
/// nor ending with a hyphen, at most 63 characters; no empty label (so no leading,
/// trailing or doubled period). <https://www.rfc-editor.org/rfc/rfc1123#section-2.1> lets a label start with a digit but notes
/// that the highest-level label is alphabetic, so a name whose last label is all digits
/// (an IPv4 address written as a dNSName) is refused. Underscores and wildcards are not
/// part of the syntax and are refused.
pub(crate) fn is_valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_CHARS {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let last_is_numeric = labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    !last_is_numeric && labels.iter().all(|l| is_valid_label(l))
}

/// <https://www.rfc-editor.org/rfc/rfc1034#section-3.5> as relaxed by
/// <https://www.rfc-editor.org/rfc/rfc1123#section-2.1>.
fn is_valid_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_CHARS
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// Whether a dNSName constraint is well formed: a host name, or empty (every name).
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "DNS name restrictions
/// are expressed as host.example.com." Unlike rfc822Name and URI constraints, the
/// dNSName form has no leading-period variant, so ".example.com" is malformed.
pub(crate) fn is_valid_constraint(constraint: &str) -> bool {
    constraint.is_empty() || is_valid_name(constraint)
}

/// Whether `name` is within the subtree `constraint` (both well formed).
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "Any DNS name that can be
/// constructed by simply adding zero or more labels to the left-hand side of the name
/// satisfies the name constraint." Comparison is case-insensitive (RFC 4343).
pub(crate) fn within(constraint: &str, name: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    domain_within(constraint, name)
}

/// `name` equals `domain` or ends with "." + `domain`, ignoring ASCII case.
pub(crate) fn domain_within(domain: &str, name: &str) -> bool {
    if name.eq_ignore_ascii_case(domain) {
        return true;
    }
    subdomain_of(domain, name)
}

/// `name` has at least one label more than `domain` and ends with "." + `domain`,
/// ignoring ASCII case.
pub(crate) fn subdomain_of(domain: &str, name: &str) -> bool {
    let Some(split) = name.len().checked_sub(domain.len()) else {
        return false;
    };
    split > 1
        && name.is_char_boundary(split)
        && name.as_bytes().get(split.saturating_sub(1)) == Some(&b'.')
        && name
            .get(split..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_name_syntax_is_enforced() {
        assert!(is_valid_name("device-1.example.com"));
        assert!(is_valid_name("1device.example.com"));
        assert!(is_valid_name("localhost"));
        for bad in [
            "",
            ".example.com",
            "example.com.",
            "a..example.com",
            "dev_1.example.com",
            "*.example.com",
            "-a.example.com",
            "a-.example.com",
            "192.0.2.1",
            "a b.example.com",
            "exämple.com",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
        assert!(!is_valid_name(&"a".repeat(64)));
        assert!(!is_valid_name(&["a"; 128].join(".")));
    }

    #[test]
    fn dns_constraint_covers_itself_and_subdomains_only() {
        assert!(within("example.com", "example.com"));
        assert!(within("example.com", "a.EXAMPLE.com"));
        assert!(!within("example.com", "badexample.com"));
        assert!(!within("a.example.com", "example.com"));
        assert!(within("", "anything.example"));
        assert!(!is_valid_constraint(".example.com"));
        assert!(is_valid_constraint(""));
    }
}

//! uniformResourceIdentifier: the host a URI names, and subtree matching.

use super::dns;

/// The host of `uri` when it is a host name, or `None` when the URI cannot be compared
/// with a URI constraint.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "For URIs, the constraint
/// applies to the host part of the name." A URI without an authority (`urn:…`), with an
/// empty host, an IP literal, a percent-encoded or otherwise non-preferred-syntax host,
/// or a non-numeric port has no host name to compare, so it is refused under a URI
/// constraint (<https://www.rfc-editor.org/rfc/rfc3986#section-3.2>).
pub(crate) fn host(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let rest = rest.strip_prefix("//").filter(|_| valid_scheme)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
    (port.bytes().all(|b| b.is_ascii_digit()) && dns::is_valid_name(host)).then_some(host)
}

/// Whether a URI constraint is well formed: a host, or a domain with a leading period.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "The constraint MUST be
/// specified as a fully qualified domain name and MAY specify a host or a domain."
pub(crate) fn is_valid_constraint(constraint: &str) -> bool {
    dns::is_valid_name(constraint.strip_prefix('.').unwrap_or(constraint))
}

/// Whether `host` is within `constraint` (well formed): a host matches itself only;
/// ".domain" matches hosts below the domain.
pub(crate) fn within(constraint: &str, host: &str) -> bool {
    match constraint.strip_prefix('.') {
        Some(domain) => dns::subdomain_of(domain, host),
        None => host.eq_ignore_ascii_case(constraint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_host_is_extracted_or_refused() {
        assert_eq!(
            host("https://user@host.example:8443/x"),
            Some("host.example")
        );
        assert_eq!(host("mqtts://Host.Example"), Some("Host.Example"));
        for bad in [
            "urn:x",
            "https:///path",
            "https://192.0.2.1/",
            "https://[2001:db8::1]/",
            "https://ho%73t.example/",
            "https://host.example:x/",
            "//host.example/",
        ] {
            assert_eq!(host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uri_constraints_match_host_or_domain() {
        assert!(within("host.example.com", "HOST.example.com"));
        assert!(!within("example.com", "host.example.com"));
        assert!(within(".example.com", "host.example.com"));
        assert!(!within(".example.com", "example.com"));
        assert!(!is_valid_constraint(""));
        assert!(!is_valid_constraint("https://example.com"));
    }
}

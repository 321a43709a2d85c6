//! RFC 5280 section 4.2.1.10 name constraints, applied to every certificate below the
//! constraining CA. Name forms certgate cannot evaluate fail closed: if a CA constrains
//! a form and a certificate below carries a name of that form that cannot be compared,
//! the path is refused.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, GeneralSubtree, NameConstraints, ParsedExtension};
use x509_parser::x509::X509Name;

use crate::error::{Error, ErrorCode};

/// The name constraints of `ca`, if it has any.
pub(crate) fn of<'a, 'b>(ca: &'b X509Certificate<'a>) -> Option<&'b NameConstraints<'a>> {
    ca.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::NameConstraints(nc) => Some(nc),
            _ => None,
        })
}

/// Refuse if any name of `cert` falls outside `nc`. `budget` counts name/subtree
/// comparisons left for the whole path search; crafted certificates with hundreds of
/// names and subtrees would otherwise cost quadratic time.
pub(crate) fn check(
    nc: &NameConstraints<'_>,
    cert: &X509Certificate<'_>,
    budget: &mut usize,
) -> Result<(), Error> {
    let mut names: Vec<GeneralName<'_>> = Vec::new();
    // RFC 5280 6.1.3 (b): the subject DN is checked as a directoryName when non-empty,
    // and emailAddress attributes in it as rfc822Names.
    if cert.subject().iter_attributes().next().is_some() {
        names.push(GeneralName::DirectoryName(cert.subject().clone()));
    }
    for atv in cert
        .subject()
        .iter_by_oid(&x509_parser::oid_registry::OID_PKCS9_EMAIL_ADDRESS)
    {
        if let Ok(email) = atv.as_str() {
            names.push(GeneralName::RFC822Name(email));
        }
    }
    for ext in cert.iter_extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            names.extend(san.general_names.iter().cloned());
        }
    }
    let subtrees = nc.excluded_subtrees.as_ref().map_or(0, Vec::len)
        + nc.permitted_subtrees.as_ref().map_or(0, Vec::len);
    let cost = names.len().saturating_mul(subtrees);
    *budget = budget.checked_sub(cost).ok_or_else(|| {
        Error::new(
            ErrorCode::PathBudgetExceeded,
            "too many name constraint comparisons for one path search",
        )
    })?;
    for name in &names {
        let excluded = nc.excluded_subtrees.as_deref().unwrap_or_default();
        for subtree in excluded.iter().filter(|s| same_form(&s.base, name)) {
            if matches(&subtree.base, name) != Some(false) {
                return Err(violation(name, "is in an excluded subtree"));
            }
        }
        let permitted: Vec<&GeneralSubtree<'_>> = nc
            .permitted_subtrees
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|s| same_form(&s.base, name))
            .collect();
        if !permitted.is_empty()
            && !permitted
                .iter()
                .any(|s| matches(&s.base, name) == Some(true))
        {
            return Err(violation(name, "is outside every permitted subtree"));
        }
    }
    Ok(())
}

fn violation(name: &GeneralName<'_>, why: &str) -> Error {
    Error::new(
        ErrorCode::NameConstraintViolation,
        format!("name {} {why}", crate::inspect::alt_name(name).value),
    )
}

fn same_form(a: &GeneralName<'_>, b: &GeneralName<'_>) -> bool {
    core::mem::discriminant(a) == core::mem::discriminant(b)
}

/// Whether `name` is within `base`; `None` when the form cannot be compared.
fn matches(base: &GeneralName<'_>, name: &GeneralName<'_>) -> Option<bool> {
    match (base, name) {
        (GeneralName::DNSName(c), GeneralName::DNSName(n)) => Some(dns_within(c, n)),
        (GeneralName::RFC822Name(c), GeneralName::RFC822Name(n)) => Some(email_within(c, n)),
        (GeneralName::URI(c), GeneralName::URI(n)) => {
            uri_host(n).map(|h| host_within_uri_constraint(c, h))
        }
        (GeneralName::IPAddress(c), GeneralName::IPAddress(n)) => ip_within(c, n),
        (GeneralName::DirectoryName(c), GeneralName::DirectoryName(n)) => Some(dn_within(c, n)),
        _ => None,
    }
}

/// DNS: "example.com" covers itself and its subdomains; "" covers everything
/// (RFC 5280 4.2.1.10). A leading '.' (a common extension) covers subdomains only.
fn dns_within(constraint: &str, name: &str) -> bool {
    let c = constraint.trim_end_matches('.').to_ascii_lowercase();
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if c.is_empty() {
        return true;
    }
    if let Some(suffix) = c.strip_prefix('.') {
        return n.len() > suffix.len() && n.ends_with(&c);
    }
    n == c || n.ends_with(&format!(".{c}"))
}

/// rfc822: a mailbox, a host (exact), or ".domain" (any host within).
fn email_within(constraint: &str, name: &str) -> bool {
    let Some((_, host)) = name.rsplit_once('@') else {
        return false;
    };
    if constraint.contains('@') {
        return constraint.eq_ignore_ascii_case(name);
    }
    if constraint.starts_with('.') {
        return host
            .to_ascii_lowercase()
            .ends_with(&constraint.to_ascii_lowercase());
    }
    host.eq_ignore_ascii_case(constraint)
}

fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// URI constraints name a host (exact) or ".domain" (hosts within), RFC 5280 4.2.1.10.
fn host_within_uri_constraint(constraint: &str, host: &str) -> bool {
    if constraint.starts_with('.') {
        return host
            .to_ascii_lowercase()
            .ends_with(&constraint.to_ascii_lowercase());
    }
    host.eq_ignore_ascii_case(constraint)
}

/// iPAddress constraints are address + mask of twice the address length.
fn ip_within(constraint: &[u8], name: &[u8]) -> Option<bool> {
    if constraint.len() != name.len().saturating_mul(2) {
        // Different families never match; a malformed constraint cannot be compared.
        return (constraint.len() == 8 || constraint.len() == 32).then_some(false);
    }
    let (addr, mask) = constraint.split_at(name.len());
    Some(
        name.iter()
            .zip(addr)
            .zip(mask)
            .all(|((n, a), m)| n & m == a & m),
    )
}

/// directoryName: the constraint's RDNs are a prefix of the name's.
fn dn_within(constraint: &X509Name<'_>, name: &X509Name<'_>) -> bool {
    let mut names = name.iter();
    constraint.iter().all(|c_rdn| {
        names.next().is_some_and(|n_rdn| {
            let c: Vec<_> = c_rdn
                .iter()
                .map(|a| (a.attr_type().clone(), a.attr_value().as_bytes()))
                .collect();
            let n: Vec<_> = n_rdn
                .iter()
                .map(|a| (a.attr_type().clone(), a.attr_value().as_bytes()))
                .collect();
            c == n
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_constraint_covers_itself_and_subdomains_only() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("example.com", "a.example.com"));
        assert!(!dns_within("example.com", "badexample.com"));
        assert!(dns_within(".example.com", "a.example.com"));
        assert!(!dns_within(".example.com", "example.com"));
    }

    #[test]
    fn ip_constraint_applies_the_mask() {
        assert_eq!(
            ip_within(&[10, 0, 0, 0, 255, 0, 0, 0], &[10, 1, 2, 3]),
            Some(true)
        );
        assert_eq!(
            ip_within(&[10, 0, 0, 0, 255, 0, 0, 0], &[11, 1, 2, 3]),
            Some(false)
        );
    }

    #[test]
    fn uri_host_is_extracted() {
        assert_eq!(
            uri_host("https://user@host.example:8443/x"),
            Some("host.example")
        );
        assert_eq!(uri_host("urn:x"), None);
    }
}

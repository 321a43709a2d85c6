//! rfc822Name syntax and subtree matching.

use super::dns;

/// Longest local part (<https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.1>).
const MAX_LOCAL_PART_CHARS: usize = 64;

/// A parsed mailbox: the local part as the address means it (quotes and escapes
/// removed) and the domain as written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mailbox<'a> {
    local: String,
    domain: &'a str,
}

/// Parse an rfc822Name as an RFC 5321 Mailbox, or `None` when it is not one.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6>: "The format of an
/// rfc822Name is a "Mailbox" as defined in Section 4.1.2 of [RFC2821]", that is
/// `Local-part "@" Domain` (<https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2>),
/// where the local part is a dot-string or a quoted string. The domain must be a host
/// name (preferred name syntax); an address literal (`[192.0.2.1]`) cannot be compared
/// with a domain constraint and is refused.
pub(crate) fn parse_mailbox(text: &str) -> Option<Mailbox<'_>> {
    let (local, rest) = if text.starts_with('"') {
        parse_quoted(text)?
    } else {
        let (local, rest) = text.split_at(text.find('@')?);
        is_dot_string(local).then(|| (local.to_owned(), rest))?
    };
    let domain = rest.strip_prefix('@')?;
    (local.len() <= MAX_LOCAL_PART_CHARS && dns::is_valid_name(domain))
        .then_some(Mailbox { local, domain })
}

/// `Dot-string = Atom *("." Atom)` with RFC 5322 atext characters.
fn is_dot_string(local: &str) -> bool {
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
        })
}

/// `Quoted-string = DQUOTE *QcontentSMTP DQUOTE`; returns the unescaped content and the
/// text after the closing quote.
fn parse_quoted(text: &str) -> Option<(String, &str)> {
    let mut local = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((local, text.get(i.saturating_add(1)..)?)),
            '\\' => {
                let (_, escaped) = chars.next()?;
                // quoted-pairSMTP = %d92 %d32-126
                if !(' '..='~').contains(&escaped) {
                    return None;
                }
                local.push(escaped);
            }
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126
            ' '..='~' => local.push(c),
            _ => return None,
        }
    }
    None
}

/// Whether an rfc822Name constraint is well formed: a mailbox, a host, or a domain
/// written with a leading period (every host within it), or empty (every address).
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "A name constraint for
/// Internet mail addresses MAY specify a particular mailbox, all addresses at a
/// particular host, or all mailboxes in a domain."
pub(crate) fn is_valid_constraint(constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    if constraint.contains('@') {
        return parse_mailbox(constraint).is_some();
    }
    dns::is_valid_name(constraint.strip_prefix('.').unwrap_or(constraint))
}

/// Whether `mailbox` is within `constraint` (well formed). A mailbox constraint matches
/// that mailbox (local part exactly, domain ignoring case); a host matches addresses at
/// that host only; ".domain" matches addresses at any host below the domain.
pub(crate) fn within(constraint: &str, mailbox: &Mailbox<'_>) -> bool {
    if constraint.is_empty() {
        return true;
    }
    if constraint.contains('@') {
        return parse_mailbox(constraint).is_some_and(|c| {
            c.local == mailbox.local && c.domain.eq_ignore_ascii_case(mailbox.domain)
        });
    }
    match constraint.strip_prefix('.') {
        Some(domain) => dns::subdomain_of(domain, mailbox.domain),
        None => mailbox.domain.eq_ignore_ascii_case(constraint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_are_parsed_per_rfc_5321() {
        let m = parse_mailbox("device.1+x@Example.com").expect("valid");
        assert_eq!(m.local, "device.1+x");
        assert_eq!(m.domain, "Example.com");
        let q = parse_mailbox("\"a@b\\\"c\"@example.com").expect("quoted");
        assert_eq!(q.local, "a@b\"c");
        for bad in [
            "a@b@example.com",
            "@example.com",
            "a@",
            "a",
            ".a@example.com",
            "a..b@example.com",
            "a@[192.0.2.1]",
            "a@example.com.",
            "a@exa_mple.com",
            "\"unterminated@example.com",
            "a b@example.com",
        ] {
            assert!(parse_mailbox(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn rfc822_constraints_match_mailbox_host_or_domain() {
        let m = parse_mailbox("x@host.example.com").expect("valid");
        assert!(within("x@HOST.example.com", &m));
        assert!(!within("X@host.example.com", &m));
        assert!(within("host.example.com", &m));
        assert!(!within("example.com", &m));
        assert!(within(".example.com", &m));
        assert!(!within(".host.example.com", &m));
        assert!(!is_valid_constraint("a@b@example.com"));
        assert!(!is_valid_constraint("..example.com"));
        assert!(is_valid_constraint(".example.com"));
    }
}

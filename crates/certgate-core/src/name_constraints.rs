//! <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10> name constraints, applied to every certificate below the
//! constraining CA (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>).
//!
//! Fail closed throughout:
//! - a constraint that is malformed for its form (a dNSName with a leading period, an
//!   iPAddress that is not address + contiguous mask, …) makes the CA unusable
//!   (`MALFORMED_NAME_CONSTRAINT`);
//! - a name that is malformed for its form (an rfc822Name that is not a mailbox, an
//!   iPAddress of 5 octets, a dNSName outside the preferred name syntax, a URI without
//!   a host name) cannot be compared, so when any constraint of its form is present,
//!   permitted or excluded, the path is refused (`NAME_CONSTRAINT_VIOLATION`);
//! - names of forms certgate does not compare (otherName, ediPartyName, registeredID)
//!   are refused when a constraint of their form is present, as RFC 5280 allows ("the
//!   application MUST either process the constraint or reject the certificate").
//!
//! The constraint extension and the names are decoded strictly (DER) with `x509-cert`;
//! x509-parser's lenient reading of nameConstraints could drop a subtree it fails to
//! read, and a dropped excluded subtree is a false accept.

use der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::constraints::name::NameConstraints;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_parser::oid_registry::{
    OID_PKCS9_EMAIL_ADDRESS, OID_X509_EXT_NAME_CONSTRAINTS, OID_X509_EXT_SUBJECT_ALT_NAME,
};

use crate::certificate::Certificate;
use crate::error::{Error, ErrorCode};
use crate::names::{directory, dns, email, ip, uri};

/// A CA's name constraints, decoded and checked well formed. Only [`of`] builds one.
pub(crate) struct Constraints {
    permitted: Vec<GeneralName>,
    excluded: Vec<GeneralName>,
}

impl Constraints {
    fn subtrees(&self) -> usize {
        self.permitted.len().saturating_add(self.excluded.len())
    }
}

/// The name constraints of `ca`, if it has any; refused when they are malformed.
pub(crate) fn of(ca: &Certificate<'_>) -> Result<Option<Constraints>, Error> {
    let Some(ext) = ca
        .x509
        .iter_extensions()
        .find(|e| e.oid == OID_X509_EXT_NAME_CONSTRAINTS)
    else {
        return Ok(None);
    };
    let malformed = |why: String| {
        Error::new(
            ErrorCode::MalformedNameConstraint,
            format!("nameConstraints of CA {}: {why}", ca.id()),
        )
    };
    let nc =
        NameConstraints::from_der(ext.value).map_err(|e| malformed(format!("not DER: {e}")))?;
    check_subtrees_present(&nc).map_err(|why| malformed(why.into()))?;
    let mut constraints = Constraints {
        permitted: Vec::new(),
        excluded: Vec::new(),
    };
    for (subtrees, into) in [
        (nc.permitted_subtrees, &mut constraints.permitted),
        (nc.excluded_subtrees, &mut constraints.excluded),
    ] {
        for subtree in subtrees.unwrap_or_default() {
            // https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10: "the minimum MUST
            // be zero, and maximum MUST be absent."
            if subtree.minimum != 0 || subtree.maximum.is_some() {
                return Err(malformed("a subtree sets minimum or maximum".into()));
            }
            if !is_valid_constraint(&subtree.base) {
                return Err(malformed(format!(
                    "{} is not a well-formed {} constraint",
                    describe_base(&subtree.base),
                    form_name(tag_of(&subtree.base))
                )));
            }
            into.push(subtree.base);
        }
    }
    Ok(Some(constraints))
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>: "Conforming CAs MUST NOT
/// issue certificates where name constraints is an empty sequence. That is, either the
/// permittedSubtrees field or the excludedSubtrees MUST be present", and
/// `GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree`.
fn check_subtrees_present(nc: &NameConstraints) -> Result<(), &'static str> {
    if nc.permitted_subtrees.is_none() && nc.excluded_subtrees.is_none() {
        return Err("neither permittedSubtrees nor excludedSubtrees is present");
    }
    if [&nc.permitted_subtrees, &nc.excluded_subtrees]
        .iter()
        .any(|s| s.as_ref().is_some_and(Vec::is_empty))
    {
        return Err("a list of subtrees is empty");
    }
    Ok(())
}

/// Whether a subtree's base is well formed for its form. Forms certgate does not
/// compare are accepted here and refuse every name of their form instead.
fn is_valid_constraint(base: &GeneralName) -> bool {
    match base {
        GeneralName::DnsName(c) => dns::is_valid_constraint(c.as_str()),
        GeneralName::Rfc822Name(c) => email::is_valid_constraint(c.as_str()),
        GeneralName::UniformResourceIdentifier(c) => uri::is_valid_constraint(c.as_str()),
        GeneralName::IpAddress(c) => ip::is_valid_constraint(c.as_bytes()),
        GeneralName::DirectoryName(c) => directory::comparable(c).is_some(),
        GeneralName::OtherName(_) | GeneralName::EdiPartyName(_) | GeneralName::RegisteredId(_) => {
            true
        }
    }
}

/// A name of a certificate, as presented.
enum Presented<'n> {
    General(&'n GeneralName),
    /// The subject, as a directoryName (<https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3> (b)).
    Subject(&'n Name),
    /// An emailAddress attribute of the subject, as an rfc822Name; `None` when its value
    /// is not text.
    SubjectEmail(Option<&'n str>),
}

/// A presented name in the form its constraints compare with.
enum Comparable<'n> {
    Dns(&'n str),
    Email(email::Mailbox<'n>),
    UriHost(&'n str),
    Ip(&'n [u8]),
    Directory(directory::Comparable),
}

impl<'n> Presented<'n> {
    /// The GeneralName tag number of the name's form.
    fn tag(&self) -> u8 {
        match self {
            Self::General(name) => tag_of(name),
            Self::Subject(_) => DIRECTORY_NAME,
            Self::SubjectEmail(_) => RFC822_NAME,
        }
    }

    /// The name in comparable form, or `None` when it is malformed for its form or of a
    /// form certgate does not compare.
    fn comparable(&self) -> Option<Comparable<'n>> {
        match self {
            Self::General(GeneralName::DnsName(n)) => {
                dns::is_valid_name(n.as_str()).then(|| Comparable::Dns(n.as_str()))
            }
            Self::General(GeneralName::Rfc822Name(n)) => {
                email::parse_mailbox(n.as_str()).map(Comparable::Email)
            }
            Self::SubjectEmail(n) => n.and_then(email::parse_mailbox).map(Comparable::Email),
            Self::General(GeneralName::UniformResourceIdentifier(n)) => {
                uri::host(n.as_str()).map(Comparable::UriHost)
            }
            Self::General(GeneralName::IpAddress(n)) => {
                ip::is_valid_address(n.as_bytes()).then(|| Comparable::Ip(n.as_bytes()))
            }
            Self::General(GeneralName::DirectoryName(n)) => {
                directory::comparable(n).map(Comparable::Directory)
            }
            Self::Subject(n) => directory::comparable(n).map(Comparable::Directory),
            Self::General(_) => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::General(name) => describe_base(name),
            Self::Subject(name) => format!("subject {name}"),
            Self::SubjectEmail(Some(text)) => format!("subject emailAddress {text:?}"),
            Self::SubjectEmail(None) => "subject emailAddress (not text)".into(),
        }
    }
}

// GeneralName CHOICE tag numbers (https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6).
const OTHER_NAME: u8 = 0;
const RFC822_NAME: u8 = 1;
const DNS_NAME: u8 = 2;
const DIRECTORY_NAME: u8 = 4;
const EDI_PARTY_NAME: u8 = 5;
const URI: u8 = 6;
const IP_ADDRESS: u8 = 7;
const REGISTERED_ID: u8 = 8;

fn tag_of(name: &GeneralName) -> u8 {
    match name {
        GeneralName::OtherName(_) => OTHER_NAME,
        GeneralName::Rfc822Name(_) => RFC822_NAME,
        GeneralName::DnsName(_) => DNS_NAME,
        GeneralName::DirectoryName(_) => DIRECTORY_NAME,
        GeneralName::EdiPartyName(_) => EDI_PARTY_NAME,
        GeneralName::UniformResourceIdentifier(_) => URI,
        GeneralName::IpAddress(_) => IP_ADDRESS,
        GeneralName::RegisteredId(_) => REGISTERED_ID,
    }
}

fn form_name(tag: u8) -> &'static str {
    match tag {
        OTHER_NAME => "otherName",
        RFC822_NAME => "rfc822Name",
        DNS_NAME => "dNSName",
        DIRECTORY_NAME => "directoryName",
        EDI_PARTY_NAME => "ediPartyName",
        URI => "uniformResourceIdentifier",
        IP_ADDRESS => "iPAddress",
        _ => "registeredID",
    }
}

fn describe_base(name: &GeneralName) -> String {
    match name {
        GeneralName::DnsName(n)
        | GeneralName::Rfc822Name(n)
        | GeneralName::UniformResourceIdentifier(n) => format!("{:?}", n.as_str()),
        GeneralName::IpAddress(n) => format!("{:02x?}", n.as_bytes()),
        GeneralName::DirectoryName(n) => format!("\"{n}\""),
        other => form_name(tag_of(other)).to_owned(),
    }
}

/// Whether the comparable name is within `base` (well formed, same form).
fn within(base: &GeneralName, name: &Comparable<'_>) -> bool {
    match (base, name) {
        (GeneralName::DnsName(c), Comparable::Dns(n)) => dns::within(c.as_str(), n),
        (GeneralName::Rfc822Name(c), Comparable::Email(m)) => email::within(c.as_str(), m),
        (GeneralName::UniformResourceIdentifier(c), Comparable::UriHost(h)) => {
            uri::within(c.as_str(), h)
        }
        (GeneralName::IpAddress(c), Comparable::Ip(a)) => ip::within(c.as_bytes(), a),
        (GeneralName::DirectoryName(c), Comparable::Directory(n)) => {
            directory::comparable(c).is_some_and(|c| directory::within(&c, n))
        }
        _ => false,
    }
}

/// The subject and subjectAltName of `cert`, decoded strictly.
struct Names {
    subject: Name,
    alt_names: Vec<GeneralName>,
}

fn names_of(cert: &Certificate<'_>) -> Result<Names, Error> {
    let unreadable = |what: &str, e: der::Error| {
        Error::new(
            ErrorCode::NameConstraintViolation,
            format!(
                "the {what} of {} cannot be read to apply name constraints: {e}",
                cert.id()
            ),
        )
    };
    let subject =
        Name::from_der(cert.x509.subject().as_raw()).map_err(|e| unreadable("subject", e))?;
    let alt_names = match cert
        .x509
        .iter_extensions()
        .find(|e| e.oid == OID_X509_EXT_SUBJECT_ALT_NAME)
    {
        Some(ext) => {
            Vec::<GeneralName>::from_der(ext.value).map_err(|e| unreadable("subjectAltName", e))?
        }
        None => Vec::new(),
    };
    Ok(Names { subject, alt_names })
}

fn presented(names: &Names) -> Vec<Presented<'_>> {
    let mut out = Vec::new();
    // https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3 (b): the subject is checked
    // as a directoryName when it is not empty; 4.2.1.10: rfc822Name constraints apply to
    // emailAddress attributes of the subject.
    if !names.subject.is_empty() {
        out.push(Presented::Subject(&names.subject));
    }
    let email_oid = OID_PKCS9_EMAIL_ADDRESS.to_id_string();
    for atv in names
        .subject
        .iter()
        .filter(|a| a.oid.to_string() == email_oid)
    {
        let text = matches!(
            atv.value.tag(),
            Tag::Ia5String | Tag::Utf8String | Tag::PrintableString
        )
        .then(|| core::str::from_utf8(atv.value.value()).ok())
        .flatten();
        out.push(Presented::SubjectEmail(text));
    }
    out.extend(names.alt_names.iter().map(Presented::General));
    out
}

/// Refuse if any name of `cert` falls outside `constraints`. `budget` counts
/// name/subtree comparisons left for the whole path search; crafted certificates with
/// hundreds of names and subtrees would otherwise cost quadratic time.
pub(crate) fn check(
    constraints: &Constraints,
    cert: &Certificate<'_>,
    budget: &mut usize,
) -> Result<(), Error> {
    let names = names_of(cert)?;
    let presented = presented(&names);
    let cost = presented.len().saturating_mul(constraints.subtrees());
    *budget = budget.checked_sub(cost).ok_or_else(|| {
        Error::new(
            ErrorCode::PathBudgetExceeded,
            "too many name constraint comparisons for one path search",
        )
    })?;
    for name in &presented {
        check_name(constraints, name)?;
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3> (b) and (c): a name must be
/// within a permitted subtree of its form, if there is any, and in no excluded subtree.
fn check_name(constraints: &Constraints, name: &Presented<'_>) -> Result<(), Error> {
    let form = name.tag();
    let same_form = |s: &&GeneralName| tag_of(s) == form;
    let mut excluded = constraints.excluded.iter().filter(same_form).peekable();
    let mut permitted = constraints.permitted.iter().filter(same_form).peekable();
    if excluded.peek().is_none() && permitted.peek().is_none() {
        return Ok(());
    }
    let violation = |why: &str| {
        Error::new(
            ErrorCode::NameConstraintViolation,
            format!("{} {why}", name.describe()),
        )
    };
    let Some(comparable) = name.comparable() else {
        let why = if matches!(
            form,
            RFC822_NAME | DNS_NAME | DIRECTORY_NAME | URI | IP_ADDRESS
        ) {
            "is not a well-formed {form} and cannot be compared with the CA's {form} constraints"
        } else {
            "is of a form certgate does not compare ({form}) and the CA constrains that form"
        };
        return Err(violation(&why.replace("{form}", form_name(form))));
    };
    if excluded.any(|base| within(base, &comparable)) {
        return Err(violation("is in an excluded subtree"));
    }
    if permitted.peek().is_some() && !permitted.any(|base| within(base, &comparable)) {
        return Err(violation("is outside every permitted subtree"));
    }
    Ok(())
}
